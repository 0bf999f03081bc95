/**
 * Whole objects fetched on demand, kept fresh by a metadata-only informer (issue 15): instead of
 * caching every Secret (or ConfigMap) in the watched namespaces, the informer holds only their
 * metadata and this cache holds the objects a reconcile actually read — one GET per object version.
 *
 *   const meta = new Informer({ kubeConfig, resource: CoreResources.Secret, metadataOnly: true, … });
 *   const secrets = new FetchedObjects<V1Secret>({ kubeConfig, resource: CoreResources.Secret, index: meta });
 *   await secrets.ensure("ns", "pw");   // GET unless the cached version is the current one
 *   secrets.get("ns", "pw");                    // synchronous, from the cache
 *
 * The informer's resourceVersion decides freshness: `ensure` fetches when the cached copy's differs
 * (or none is cached) and drops the entry when the informer has no such object. Concurrent `ensure`s
 * of one object share a single GET (a fleet sharing one credentials Secret starts with one read, not
 * one per resource). A deleted object leaves the cache with its informer event; `forget` drops one
 * that nothing reads any more.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { type Informer, type KubeObject, objectKey, resourcePath, type ResourceType } from "./informer.js";
import { KubeApiError, kubeRequest } from "./kube-http.js";

export interface FetchedObjectsOptions {
  kubeConfig: KubeConfig;
  resource: ResourceType;
  /** A metadataOnly informer of the same resource type (its resourceVersions decide freshness). */
  index: Informer<KubeObject>;
  /** Per GET (default 30 s). */
  timeoutMs?: number;
}

export class FetchedObjects<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(private readonly opts: FetchedObjectsOptions) {
    opts.index.addHandler({ delete: (o) => this.cache.delete(objectKey(o)) });
  }

  /** The cached object (possibly one version behind until the next `ensure`). */
  get(namespace: string, name: string): T | undefined {
    return this.cache.get(`${namespace}/${name}`);
  }

  /** How many whole objects are held (for tests and metrics). */
  get size(): number {
    return this.cache.size;
  }

  /** Drops a cached object (e.g. no resource references it any more). */
  forget(namespace: string, name: string): void {
    this.cache.delete(`${namespace}/${name}`);
  }

  /** Makes `get` return the informer's current version of the object (or undefined when it has none). */
  async ensure(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    const rv = this.opts.index.get(namespace, name)?.metadata?.resourceVersion;
    if (rv === undefined) {
      this.cache.delete(key);
      return;
    }
    if (this.cache.get(key)?.metadata?.resourceVersion === rv) return;
    const flight = `${key}@${rv}`;
    let p = this.inflight.get(flight);
    if (!p) {
      p = this.fetch(namespace, name).finally(() => this.inflight.delete(flight));
      this.inflight.set(flight, p);
    }
    await p;
  }

  /** One GET, shared by every caller waiting for this version: bounded by its timeout, not by one caller's abort. */
  private async fetch(namespace: string, name: string): Promise<void> {
    const path = `${resourcePath(this.opts.resource, namespace)}/${encodeURIComponent(name)}`;
    const r = await kubeRequest(this.opts.kubeConfig, { method: "GET", path, timeoutMs: this.opts.timeoutMs ?? 30_000 });
    const key = `${namespace}/${name}`;
    if (r.status === 404) {
      this.cache.delete(key);
      return;
    }
    if (r.status !== 200) throw KubeApiError.from(r, `get ${this.opts.resource.plural} ${key}`);
    const { managedFields: _drop, ...metadata } = ((r.body as T).metadata ?? {}) as NonNullable<KubeObject["metadata"]> & { managedFields?: unknown };
    this.cache.set(key, { ...(r.body as T), metadata });
  }
}
