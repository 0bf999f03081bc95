/**
 * The set controller's writes: create, update (the whole spec, one JSON patch) and delete children.
 * Through kube-http's pooled connection and the shared Kubernetes write limiter (src/runtime/).
 * A create that finds the child already there (the cache lagged) and a delete that finds it gone
 * are successes: the next reconcile reads the cache again.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION } from "../api/constants.js";
import { resourcePath } from "../runtime/informer.js";
import { KubeApiError, kubeRequest } from "../runtime/kube-http.js";
import type { KubeWriteLimiter } from "../runtime/write-limiter.js";
import type { ChildBody, SetPlan } from "./decide.js";

const CHILDREN = { group: GROUP, version: VERSION, plural: PLURAL };
/** Writes of one reconcile in flight at once: creating thousands of children is bound by the API server's latency × this, and the write limiter (--kube-qps) paces them. */
const PARALLEL_WRITES = 64;

export interface ChildWriter {
  create(body: ChildBody, signal: AbortSignal): Promise<void>;
  update(body: ChildBody, signal: AbortSignal): Promise<void>;
  remove(namespace: string, name: string, signal: AbortSignal): Promise<void>;
}

export function kubeChildWriter(kc: KubeConfig, limiter: KubeWriteLimiter): ChildWriter {
  const path = (ns: string, name?: string) => `${resourcePath(CHILDREN, ns)}${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
  const send = async (what: string, req: Parameters<typeof kubeRequest>[1], ok: (status: number) => boolean) => {
    await limiter.acquire();
    const r = await kubeRequest(kc, { timeoutMs: 30_000, ...req });
    if (!ok(r.status)) throw KubeApiError.from(r, what);
  };
  return {
    create: (body, signal) =>
      send(
        `create child ${body.metadata.name}`,
        { method: "POST", path: path(body.metadata.namespace), body, signal },
        (s) => s === 201 || s === 200 || s === 409,
      ),
    update: (body, signal) =>
      send(
        `update child ${body.metadata.name}`,
        {
          method: "PATCH",
          path: path(body.metadata.namespace, body.metadata.name),
          body: [{ op: "replace", path: "/spec", value: body.spec }],
          contentType: "application/json-patch+json",
          signal,
        },
        (s) => s === 200 || s === 404,
      ),
    remove: (ns, name, signal) => send(`delete child ${name}`, { method: "DELETE", path: path(ns, name), signal }, (s) => s === 200 || s === 202 || s === 404),
  };
}

/** Runs the plan's writes (deletes first: they free instances for standalone resources); throws the first failure after all ran. */
export async function executePlan(plan: SetPlan, namespace: string, writer: ChildWriter, signal: AbortSignal): Promise<void> {
  const jobs: Array<() => Promise<void>> = [
    ...plan.deletes.map((d) => () => writer.remove(namespace, d.name, signal)),
    ...plan.creates.map((b) => () => writer.create(b, signal)),
    ...plan.updates.map((b) => () => writer.update(b, signal)),
  ];
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      await job().catch((e: unknown) => errors.push(e));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_WRITES, jobs.length) }, worker));
  if (errors.length > 0) throw errors[0];
}
