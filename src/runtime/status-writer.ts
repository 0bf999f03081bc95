/**
 * Writes a custom resource's status through the status subresource as one JSON patch:
 * `test /metadata/uid` + `add /status` (the whole status; no spec is sent). Generic: the resource
 * type is a parameter (the controller uses it for EcsInstanceAttributes, see src/app.ts).
 *
 * Guarded by the object's uid, not its resourceVersion. The status describes what this reconcile
 * saw and did (observedGeneration names the spec it acted on), and this controller is its only
 * writer, one reconcile per resource at a time, so a spec edit during the reconcile is no reason to
 * refuse it. A resourceVersion precondition made such writes fail with 409 and be dropped, which
 * lost what ECS cannot tell us later (which Secret version was applied: the password went out
 * again), and retrying it starves while a resource is edited many times a second. The uid test
 * still keeps a deleted and re-created object from getting the old one's status.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import { type KubeObject, resourcePath, type ResourceType } from "./informer.js";
import { KubeApiError, kubeRequest } from "./kube-http.js";
import type { KubeWriteLimiter } from "./write-limiter.js";

/** An object with a status the writer replaces. */
export type WithStatus<S> = KubeObject & { metadata: NonNullable<KubeObject["metadata"]>; status?: S };

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
 *
 * Writes go through kube-http (one keep-alive connection pool) rather than client-node's generated
 * CustomObjectsApi, which in client-node 2.0.1 builds a new undici Agent, hence a new TLS
 * connection and SecureContext, for every request.
 */
export function statusWriter<S extends object, T extends WithStatus<S>>(kc: KubeConfig, resource: ResourceType, log: Logger, limiter?: KubeWriteLimiter) {
  /** key → the status the server returned for our last write (and when), until the cache shows it. */
  const written = new Map<string, { status: S; at: number }>();
  const keyOf = (o: T) => `${o.metadata.namespace}/${o.metadata.name}`;
  const pathOf = (o: T) => `${resourcePath(resource, o.metadata.namespace)}/${encodeURIComponent(o.metadata.name!)}`;

  const fresh = (obj: T | undefined): T | undefined => {
    if (!obj) return obj;
    const ours = written.get(keyOf(obj));
    if (!ours) return obj;
    if (!isDeepStrictEqual(obj.status, ours.status) && Date.now() - ours.at < READ_YOUR_WRITES_MS) return { ...obj, status: ours.status };
    written.delete(keyOf(obj));
    return obj;
  };

  /** Deleted, or deleted and re-created under the same name (what a failed uid test means). */
  const replaced = async (obj: T): Promise<boolean> => {
    const latest = await kubeRequest(kc, { method: "GET", path: pathOf(obj), timeoutMs: 30_000 });
    return latest.status === 404 || (latest.status === 200 && (latest.body as T).metadata.uid !== obj.metadata.uid);
  };

  const write = async (obj: T, status: S): Promise<void> => {
    const uid = obj.metadata.uid;
    await limiter?.acquire();
    const r = await kubeRequest(kc, {
      method: "PATCH",
      path: `${pathOf(obj)}/status`,
      body: [...(uid ? [{ op: "test", path: "/metadata/uid", value: uid }] : []), { op: "add", path: "/status", value: status }],
      contentType: "application/json-patch+json",
      timeoutMs: 30_000,
    });
    if (r.status === 200) {
      const updated = r.body as T;
      written.set(keyOf(obj), { status: updated.status ?? ({} as S), at: Date.now() });
      const observedGeneration = (status as { observedGeneration?: number }).observedGeneration ?? 0;
      if ((updated.metadata.generation ?? 0) > observedGeneration) {
        // What a resourceVersion precondition would have refused (see the header).
        log.debug(
          { observedGeneration, generation: updated.metadata.generation },
          "status written while the spec changed; the next reconcile acts on the new spec",
        );
      }
      return;
    }
    // 422 is also what a failed `test` op returns; anything else 422 is a real error.
    if (r.status === 404 || (r.status === 422 && (await replaced(obj)))) {
      log.debug({ code: r.status }, "status write skipped: the object was deleted (or re-created)");
      return;
    }
    throw KubeApiError.from(r, `status of ${obj.metadata.namespace}/${obj.metadata.name}`);
  };

  return { write, fresh, forget: (key: string) => written.delete(key) };
}
