/**
 * Writes EcsInstanceAttributes status through the status subresource with a JSON merge patch that
 * carries the resourceVersion the reconcile read: optimistic concurrency without sending the spec.
 * A 409 means the object changed meanwhile; its watch event re-queues it, so the write is dropped.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type EcsInstanceAttributes, type EcsInstanceAttributesStatus, GROUP, PLURAL, VERSION } from "../api/index.js";
import { KubeApiError, kubeRequest } from "../runtime/kube-http.js";

/** HTTP status of a client-node ApiException or a KubeApiError (or undefined). */
export function httpStatusOf(e: unknown): number | undefined {
  if (e instanceof KubeApiError) return e.status;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/**
 * Returns the write function plus a read-your-writes view: until the watch delivers the object we
 * just wrote, `fresh(obj)` returns our written copy instead of the cache's stale one, so a reconcile
 * that runs right after a write never acts on the old status (e.g. re-applying a password).
 */
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
export function statusWriter(kc: KubeConfig, log: Logger, limiter?: KubeWriteLimiter) {
  /** key → the resourceVersion we patched against, and the object the server returned. */
  const written = new Map<string, { staleRv: string | undefined; obj: EcsInstanceAttributes }>();
  const keyOf = (o: EcsInstanceAttributes) => `${o.metadata.namespace}/${o.metadata.name}`;

  const fresh = (obj: EcsInstanceAttributes | undefined): EcsInstanceAttributes | undefined => {
    if (!obj) return obj;
    const w = written.get(keyOf(obj));
    if (!w) return obj;
    if (obj.metadata.resourceVersion === w.staleRv) return { ...obj, status: w.obj.status };
    written.delete(keyOf(obj));
    return obj;
  };

  const write = async (obj: EcsInstanceAttributes, status: EcsInstanceAttributesStatus): Promise<void> => {
    const { namespace, name, resourceVersion } = obj.metadata;
    // Fields dropped from status must be sent as null in a merge patch, or the server keeps them.
    const cleared = Object.fromEntries(Object.keys(obj.status ?? {}).filter((k) => !(k in status)).map((k) => [k, null]));
    await limiter?.acquire();
    try {
      const r = await kubeRequest(kc, {
        method: "PATCH",
        path: `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace!)}/${PLURAL}/${encodeURIComponent(name!)}/status`,
        body: { metadata: { resourceVersion }, status: { ...cleared, ...status } },
        contentType: "application/merge-patch+json",
        timeoutMs: 30_000,
      });
      if (r.status !== 200) throw KubeApiError.from(r, `status of ${namespace}/${name}`);
      const updated = r.body as EcsInstanceAttributes;
      written.set(keyOf(obj), { staleRv: resourceVersion, obj: updated });
    } catch (e) {
      const code = httpStatusOf(e);
      if (code === 409 || code === 404) {
        log.debug({ code }, "status write skipped: the object changed or was deleted; its watch event re-queues it");
        return;
      }
      throw e;
    }
  };
  return { write, fresh, forget: (key: string) => written.delete(key) };
}
