/**
 * vitest globalSetup of the `node` project (test/e2e/node/): builds the controller image from the
 * Dockerfile, starts one one-node cluster for the whole project (harness/node/bring-up.ts) and tears
 * it down at the end, failing the run if any host change was left behind.
 *
 * Where the machine cannot run it (not root, no cgroups, runtime packages missing) the suite is
 * skipped with the reason, except with CI=true: there a skip would hide a broken suite, so it fails.
 */
import type { TestProject } from "vitest/node";
import { type NodeBringUp, bringUpNodeCluster } from "./bring-up.js";
import { NODE_NETWORK } from "./cluster.js";
import { nodeClusterUnavailable } from "./prerequisites.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Empty when the cluster runs; otherwise why the node suite is skipped. */
    nodeSkipReason: string;
    nodeKubeconfigPath: string;
    nodeIp: string;
    nodeControlPlaneBinDir: string;
    nodeContainerdSock: string;
    nodeImageStoreRoot: string;
    controllerImage: string;
  }
}

let up: NodeBringUp | undefined;

const log = (line: string): void => void process.stderr.write(`[node-suite] ${line}\n`);

function provideEmpty(project: TestProject, reason: string): void {
  project.provide("nodeSkipReason", reason);
  for (const k of ["nodeKubeconfigPath", "nodeIp", "nodeControlPlaneBinDir", "nodeContainerdSock", "nodeImageStoreRoot", "controllerImage"] as const) {
    project.provide(k, "");
  }
}

export async function setup(project: TestProject): Promise<void> {
  const why = await nodeClusterUnavailable();
  if (why) {
    if (process.env["CI"] === "true") throw new Error(`node suite cannot run and CI=true forbids skipping it: ${why}`);
    log(`skipped: ${why}`);
    provideEmpty(project, why);
    return;
  }
  up = await bringUpNodeCluster(log);
  project.provide("nodeSkipReason", "");
  project.provide("nodeKubeconfigPath", up.cluster.kubeconfigPath);
  project.provide("nodeIp", NODE_NETWORK.nodeIp);
  project.provide("nodeControlPlaneBinDir", up.controlPlaneBinDir);
  project.provide("nodeContainerdSock", up.cluster.containerdSock);
  project.provide("nodeImageStoreRoot", up.store.root);
  project.provide("controllerImage", up.image);
}

export async function teardown(): Promise<void> {
  if (!up) return;
  await up.stop();
  if (up.cluster.hostChanges) throw new Error(`the one-node cluster left host changes behind:\n${up.cluster.hostChanges}`);
  log("host restored: sysctls, iptables (all tables, v4+v6), mounts, netns, links, addresses, routes, directories, kubepods cgroups");
}
