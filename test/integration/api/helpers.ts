/** Small helpers for the API integration tests: kubectl against the shared control plane, namespaces. */
import { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { inject } from "vitest";
import { GROUP, PLURAL, VERSION } from "../../../src/api/index.js";
import { type ExecResult, kubectl as runKubectl } from "../../../harness/exec.js";

/** Runs the control plane's kubectl as admin; never throws on a non-zero exit. */
export function kubectl(args: string[], input?: string): Promise<ExecResult> {
  return runKubectl(inject("controlPlaneBinDir"), inject("kubeconfigPath"), args, input);
}

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(inject("kubeconfigPath"));
  return kc;
}

/** Creates a uniquely named namespace; returns its name and a cleanup function. */
export async function tempNamespace(prefix: string): Promise<{ ns: string; cleanup: () => Promise<void> }> {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  const ns = `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  return { ns, cleanup: async () => void (await core.deleteNamespace({ name: ns }).catch(() => undefined)) };
}

export function customObjects(): CustomObjectsApi {
  return kubeConfig().makeApiClient(CustomObjectsApi);
}

export const crdCoords = { group: GROUP, version: VERSION, plural: PLURAL } as const;

/** Server-side dry-run create; resolves to undefined on success or the API server's message. */
export async function dryRunCreate(api: CustomObjectsApi, namespace: string, body: Record<string, unknown>): Promise<string | undefined> {
  try {
    await api.createNamespacedCustomObject({ ...crdCoords, namespace, body, dryRun: "All" });
    return undefined;
  } catch (e) {
    const err = e as { code?: number; body?: unknown; message?: string };
    if (err.code !== 422 && err.code !== 400) throw e;
    const raw = typeof err.body === "string" ? err.body : JSON.stringify(err.body);
    try {
      return (JSON.parse(raw) as { message: string }).message;
    } catch {
      return raw;
    }
  }
}
