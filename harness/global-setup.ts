/**
 * vitest globalSetup for the integration and e2e projects: one real control plane per project run,
 * with the CRDs from crds/ installed. Tests read its kubeconfig with `inject("kubeconfigPath")`
 * and isolate themselves in their own namespaces.
 */
import type { TestProject } from "vitest/node";
import { type ControlPlane, startControlPlane } from "./controlplane.js";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfigPath: string;
    controlPlaneBinDir: string;
  }
}

let cp: ControlPlane | undefined;

export async function setup(project: TestProject): Promise<void> {
  cp = await startControlPlane({ crdsDir: "crds" });
  project.provide("kubeconfigPath", cp.kubeconfigPath);
  project.provide("controlPlaneBinDir", cp.binDir);
}

export async function teardown(): Promise<void> {
  await cp?.stop();
}
