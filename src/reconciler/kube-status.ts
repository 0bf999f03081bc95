/**
 * Writes EcsInstanceAttributes status through the status subresource with a JSON merge patch that
 * carries the resourceVersion the reconcile read: optimistic concurrency without sending the spec.
 * A 409 (the object changed meanwhile, e.g. a spec edit during a slow ECS write) is retried against
 * the latest version, as controller-runtime's RetryOnConflict does: the status describes what this
 * reconcile saw and did (its observedGeneration says which spec), and dropping it would lose what
 * ECS cannot tell us later, such as which Secret version was applied (a duplicate password write).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import { type EcsInstanceAttributes, type EcsInstanceAttributesStatus, GROUP, PLURAL, VERSION } from "../api/index.js";
import { KubeApiError, kubeRequest } from "../runtime/kube-http.js";

/**
 * Client-side limit for our Kubernetes writes (--kube-qps / --kube-burst). client-node has no
 * limiter of its own, so without this a fleet-wide resync could burst thousands of status patches.
 */
export class KubeWriteLimiter {
  private tokens: number;
  private last = Date.now();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly qps: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Resolves when a write may go out; callers are served in order. */
  acquire(): Promise<void> {
    const next = this.chain.then(async () => {
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
      if (this.tokens < 1) {
        await new Promise((r) => setTimeout(r, ((1 - this.tokens) / this.qps) * 1000));
        this.tokens = 1;
        this.last = Date.now();
      }
      this.tokens -= 1;
    });
    this.chain = next;
    return next;
  }
}

/**
 * Status writes go through kube-http (one keep-alive connection pool) rather than client-node's
 * generated CustomObjectsApi, which in client-node 2.0.1 builds a new undici Agent, hence a new TLS
 * connection and SecureContext, for every request.
 */
/** Conflicts retried per write before it is left to the next reconcile. */
const MAX_CONFLICT_RETRIES = 5;
/**
 * How long our written status may stand in for the cache's. The watch normally delivers it within
 * a second; past this the cache is taken as the truth again (e.g. someone else rewrote the status).
 */
const READ_YOUR_WRITES_MS = 60_000;

/**
 * Returns the write function plus a read-your-writes view: until the watch delivers the status we
 * just wrote, `fresh(obj)` returns the cached object with our written status instead of its stale
 * one, so a reconcile that runs right after a write never acts on the old status (e.g. re-applying
 * a password). The cache can lag by several versions (a burst of spec edits), so "caught up" means
 * the cached status equals what the server returned for our write, not a particular resourceVersion.
 */
export function statusWriter(kc: KubeConfig, log: Logger, limiter?: KubeWriteLimiter) {
  /** key → the status the server returned for our last write (and when), until the cache shows it. */
  const written = new Map<string, { status: EcsInstanceAttributesStatus; at: number }>();
  const keyOf = (o: EcsInstanceAttributes) => `${o.metadata.namespace}/${o.metadata.name}`;
  const pathOf = (o: EcsInstanceAttributes) =>
    `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(o.metadata.namespace!)}/${PLURAL}/${encodeURIComponent(o.metadata.name!)}`;

  const fresh = (obj: EcsInstanceAttributes | undefined): EcsInstanceAttributes | undefined => {
    if (!obj) return obj;
    const ours = written.get(keyOf(obj));
    if (!ours) return obj;
    if (!isDeepStrictEqual(obj.status, ours.status) && Date.now() - ours.at < READ_YOUR_WRITES_MS) return { ...obj, status: ours.status };
    written.delete(keyOf(obj));
    return obj;
  };

  const patch = async (current: EcsInstanceAttributes, status: EcsInstanceAttributesStatus) => {
    // Fields dropped from status must be sent as null in a merge patch, or the server keeps them.
    const cleared = Object.fromEntries(Object.keys(current.status ?? {}).filter((k) => !(k in status)).map((k) => [k, null]));
    await limiter?.acquire();
    return kubeRequest(kc, {
      method: "PATCH",
      path: `${pathOf(current)}/status`,
      body: { metadata: { resourceVersion: current.metadata.resourceVersion }, status: { ...cleared, ...status } },
      contentType: "application/merge-patch+json",
      timeoutMs: 30_000,
    });
  };

  const write = async (obj: EcsInstanceAttributes, status: EcsInstanceAttributesStatus): Promise<void> => {
    const what = `status of ${obj.metadata.namespace}/${obj.metadata.name}`;
    let current = obj;
    for (let conflicts = 0; ; conflicts++) {
      const r = await patch(current, status);
      if (r.status === 200) {
        written.set(keyOf(obj), { status: (r.body as EcsInstanceAttributes).status ?? {}, at: Date.now() });
        return;
      }
      if (r.status === 404) {
        log.debug({ code: 404 }, "status write skipped: the object was deleted");
        return;
      }
      if (r.status !== 409) throw KubeApiError.from(r, what);
      if (conflicts >= MAX_CONFLICT_RETRIES) {
        // Something keeps changing it; the watch event of that change re-queues the resource.
        log.debug({ code: 409, conflicts }, "status write skipped after repeated conflicts; its watch event re-queues it");
        return;
      }
      const latest = await kubeRequest(kc, { method: "GET", path: pathOf(obj), timeoutMs: 30_000 });
      if (latest.status === 404) return;
      if (latest.status !== 200) throw KubeApiError.from(latest, what);
      current = latest.body as EcsInstanceAttributes;
      log.debug({ code: 409, conflicts: conflicts + 1, resourceVersion: current.metadata.resourceVersion }, "status write conflicted; retrying against the latest version");
    }
  };
  return { write, fresh, forget: (key: string) => written.delete(key) };
}
