/**
 * A resilient list+watch cache for one resource type (kube-runtime watcher + reflector).
 *
 *   const inf = new Informer<V1ConfigMap>({ kubeConfig, resource: CoreResources.ConfigMap, namespace: "ns", logger });
 *   inf.addHandler({ add: (o) => …, update: (old, cur) => …, delete: (o) => … });
 *   inf.start();
 *   await inf.waitForSync();          // hasSynced() after the first full list
 *   inf.get("ns", "name"); inf.list();
 *   await inf.stop();                 // final: the informer never restarts
 *
 * Behaviour
 * - LIST (paged, `limit`=pageSize) then WATCH from the list's resourceVersion with
 *   `allowWatchBookmarks=true` and `timeoutSeconds`; a clean server close re-watches from the last
 *   resourceVersion at once.
 * - 410 Gone (HTTP or in-stream ERROR) → relist; the store is replaced and the DIFF is emitted
 *   (add for new keys, update for changed resourceVersions, delete for keys that disappeared).
 * - Any other failure (connection refused/reset, 5xx, 403, a stream that closes at once) or a
 *   watchdog stall (no byte for `watchdogMs`) → reconnect after exponential backoff with jitter,
 *   0.8 s → 30 s by default, reset once `resetAfterMs` passed without a failure. Never gives up.
 * - Handlers are synchronous and should only enqueue keys; a throwing handler is logged, not fatal.
 * - Stored objects get `apiVersion`/`kind` filled in from the list (the API server omits them on
 *   list items).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { KubeApiError, kubeRequest, METADATA_ACCEPT, openWatch, type WatchEvent, type WatchHandle } from "./kube-http.js";
import { wakeableSleep } from "./sleep.js";

/** A resource type: group ("" or absent for core), version, plural. */
export interface ResourceType {
  group?: string;
  version: string;
  plural: string;
  kind?: string;
  /** Default true. Cluster-scoped resources ignore `namespace`. */
  namespaced?: boolean;
}

export const CoreResources = {
  ConfigMap: { version: "v1", plural: "configmaps", kind: "ConfigMap" },
  Secret: { version: "v1", plural: "secrets", kind: "Secret" },
  Namespace: { version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false },
} as const satisfies Record<string, ResourceType>;

/** The parts of a Kubernetes object the runtime reads. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    deletionTimestamp?: string | Date;
  };
}

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

/** What a controller needs from an informer (Informer implements it; tests may fake it). */
export interface EventSource<T extends KubeObject = KubeObject> {
  addHandler(h: InformerHandlers<T>): () => void;
  hasSynced(): boolean;
  waitForSync(): Promise<void>;
  keys(): string[];
  /** For logs and readiness messages. */
  describe?(): string;
}

export interface InformerStats {
  /** Completed full lists (the first one included). */
  lists: number;
  /** Lists caused by 410 Gone. */
  relists: number;
  /** Watch requests opened (first included). */
  watches: number;
  /** Failures that led to a backoff (errors and stalls). */
  failures: number;
  /** Watchdog-detected stalls. */
  stalls: number;
  /** Time (epoch ms) of the last failure and its message (no object contents). */
  lastFailureAt?: number;
  lastError?: string;
  /** Time (epoch ms) the last watch stream was established. */
  lastWatchStartAt?: number;
}

export interface ReconnectBackoff {
  initialMs?: number;
  maxMs?: number;
  /** Random fraction applied ±: delay × (1 ± jitter) (default 0.2). */
  jitter?: number;
  /** Reset to initialMs when the last failure is older than this (default 120 s). */
  resetAfterMs?: number;
}

export interface InformerOptions {
  kubeConfig: KubeConfig;
  resource: ResourceType;
  /** Watch one namespace only (default: all namespaces). */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  logger?: Logger | undefined;
  /** LIST page size (default 500). */
  pageSize?: number;
  /** Server-side watch timeout (default 300 s; the server then closes and we re-watch). */
  timeoutSeconds?: number;
  /** Reconnect when the stream delivers nothing for this long (default timeoutSeconds + 30 s). */
  watchdogMs?: number;
  /** Per-request timeout for LIST pages (default 60 s). */
  requestTimeoutMs?: number;
  backoff?: ReconnectBackoff;
  random?: () => number;
  /**
   * Drop metadata.managedFields from cached objects (default true): about half of ObjectMeta,
   * never needed by a reconciler reading the cache.
   */
  stripManagedFields?: boolean;
  /**
   * Cache only metadata (PartialObjectMetadata): name, namespace, uid, resourceVersion, labels,
   * annotations — not Secret or ConfigMap data. Handlers still see every change (resourceVersion).
   */
  metadataOnly?: boolean;
}

/** "namespace/name" for namespaced objects, "name" otherwise. */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The collection path of a resource type, e.g. /apis/g/v1/namespaces/ns/plural or /api/v1/secrets. */
export function resourcePath(r: ResourceType, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const nsPart = namespace && r.namespaced !== false ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${nsPart}/${r.plural}`;
}

/** Exponential reconnect backoff with jitter that resets after a quiet period (kube-runtime style). */
export class ResetBackoff {
  private attempt = 0;
  private lastAt = -Infinity;
  constructor(
    private readonly opts: ReconnectBackoff = {},
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {}

  next(): number {
    const initial = this.opts.initialMs ?? 800;
    const max = this.opts.maxMs ?? 30_000;
    const jitter = this.opts.jitter ?? 0.2;
    const t = this.now();
    if (t - this.lastAt > (this.opts.resetAfterMs ?? 120_000)) this.attempt = 0;
    this.lastAt = t;
    const raw = Math.min(max, initial * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.min(max, Math.round(raw * (1 + jitter * (2 * this.random() - 1))));
  }

  reset(): void {
    this.attempt = 0;
  }
}

class GoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GoneError";
  }
}

function isGone(e: unknown): boolean {
  return e instanceof GoneError || (e instanceof KubeApiError && e.status === 410);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

interface ListBody {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubeObject[];
}

export class Informer<T extends KubeObject = KubeObject> implements EventSource<T> {
  readonly stats: InformerStats = { lists: 0, relists: 0, watches: 0, failures: 0, stalls: 0 };
  private readonly store = new Map<string, T>();
  private readonly handlers = new Set<InformerHandlers<T>>();
  private readonly backoff: ResetBackoff;
  private readonly log: Logger | undefined;
  private readonly path: string;
  private rv: string | undefined;
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private state: "new" | "running" | "stopped" = "new";
  private loop: Promise<void> | undefined;
  private currentWatch: WatchHandle | undefined;
  private wakeSleep: (() => void) | undefined;
  private readonly stopController = new AbortController();
  private watchDeliveredEvents = false;

  constructor(private readonly opts: InformerOptions) {
    this.backoff = new ResetBackoff(opts.backoff, opts.random);
    this.path = resourcePath(opts.resource, opts.namespace);
    this.log = opts.logger?.child({ informer: this.describe() });
  }

  /** e.g. "configmaps.v1 in ns" — for logs. */
  describe(): string {
    const r = this.opts.resource;
    return `${r.plural}.${r.group ? `${r.version}.${r.group}` : r.version}${this.opts.namespace ? ` in ${this.opts.namespace}` : ""}`;
  }

  /** Registers handlers; returns an unsubscribe function. Objects already in the store are not replayed. */
  addHandler(h: InformerHandlers<T>): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }

  start(): void {
    if (this.state !== "new") throw new Error(`informer ${this.describe()} already ${this.state === "running" ? "started" : "stopped"}`);
    this.state = "running";
    this.loop = this.run();
  }

  /** Stops for good: closes the watch, cancels any backoff wait, resolves when the loop ended. */
  async stop(): Promise<void> {
    if (this.state === "stopped") return this.loop;
    this.state = "stopped";
    this.stopController.abort();
    this.currentWatch?.abort();
    this.wakeSleep?.();
    for (const w of this.syncWaiters) w();
    this.syncWaiters = [];
    await this.loop;
  }

  get isStopped(): boolean {
    return this.state === "stopped";
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves after the first full list (or when the informer is stopped). */
  waitForSync(): Promise<void> {
    if (this.synced || this.state === "stopped") return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  keys(): string[] {
    return [...this.store.keys()];
  }

  get size(): number {
    return this.store.size;
  }

  /** The resourceVersion the next watch starts from (undefined = a list is due). */
  get resourceVersion(): string | undefined {
    return this.rv;
  }

  private async run(): Promise<void> {
    let consecutiveGone = 0;
    while (this.state === "running") {
      this.watchDeliveredEvents = false;
      try {
        if (this.rv === undefined) await this.relist();
        await this.watchOnce();
        consecutiveGone = 0;
      } catch (e) {
        if (this.state !== "running") break;
        // A watch that delivered events (or failed for another reason) ends a run of 410s: only a
        // 410 straight after a relist's watch is "repeated".
        if (this.watchDeliveredEvents || !isGone(e)) consecutiveGone = 0;
        if (isGone(e)) {
          this.stats.relists++;
          this.rv = undefined;
          this.log?.info({ reason: errorText(e) }, "resourceVersion expired (410); relisting");
          // One 410 relists at once; repeated ones back off like any other failure.
          if (++consecutiveGone === 1) continue;
        }
        this.stats.failures++;
        this.stats.lastFailureAt = Date.now();
        this.stats.lastError = errorText(e);
        const delay = this.backoff.next();
        this.log?.warn({ err: { message: errorText(e) }, delayMs: delay, failures: this.stats.failures }, "list/watch failed; reconnecting after backoff");
        await this.sleep(delay);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    const { done, wake } = wakeableSleep(ms);
    this.wakeSleep = wake;
    return done;
  }

  private baseQuery(): Record<string, string | undefined> {
    return { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector };
  }

  private async listAll(): Promise<{ items: T[]; rv: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = "";
    for (;;) {
      const r = await kubeRequest(this.opts.kubeConfig, {
        method: "GET",
        path: this.path,
        query: { ...this.baseQuery(), limit: this.opts.pageSize ?? 500, continue: cont },
        timeoutMs: this.opts.requestTimeoutMs ?? 60_000,
        signal: this.stopController.signal,
        ...(this.opts.metadataOnly ? { accept: METADATA_ACCEPT.list } : {}),
      });
      if (r.status !== 200) throw KubeApiError.from(r, `list ${this.describe()}`);
      const body = r.body as ListBody;
      const apiVersion = body.apiVersion;
      const kind = body.kind?.replace(/List$/, "") ?? this.opts.resource.kind;
      for (const item of body.items ?? []) {
        items.push(this.prepare({ apiVersion, kind, ...item } as T));
      }
      rv = body.metadata?.resourceVersion ?? rv;
      cont = body.metadata?.continue || undefined;
      if (!cont) break;
    }
    return { items, rv };
  }

  private prepare(obj: T): T {
    if (this.opts.stripManagedFields !== false && obj.metadata && "managedFields" in obj.metadata) {
      const { managedFields: _drop, ...meta } = obj.metadata as KubeObject["metadata"] & { managedFields?: unknown };
      return { ...obj, metadata: meta };
    }
    return obj;
  }

  private async relist(): Promise<void> {
    let result;
    try {
      result = await this.listAll();
    } catch (e) {
      // An expired continue token: start the list over once, without backoff.
      if (!isGone(e)) throw e;
      result = await this.listAll();
    }
    if (this.state !== "running") return;
    this.stats.lists++;
    const next = new Map<string, T>();
    for (const item of result.items) next.set(objectKey(item), item);
    const old = new Map(this.store);
    this.store.clear();
    for (const [k, v] of next) this.store.set(k, v);
    this.rv = result.rv;
    for (const [k, prev] of old) if (!next.has(k)) this.emit("delete", prev);
    for (const [k, cur] of next) {
      const prev = old.get(k);
      if (!prev) this.emit("add", cur);
      else if (prev.metadata?.resourceVersion !== cur.metadata?.resourceVersion) this.emit("update", cur, prev);
    }
    if (!this.synced) {
      this.synced = true;
      this.log?.info({ objects: next.size }, "initial list complete; synced");
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w();
    } else {
      this.log?.info({ objects: next.size, removed: [...old.keys()].filter((k) => !next.has(k)).length }, "relisted");
    }
  }

  private emit(kind: "add" | "delete", obj: T): void;
  private emit(kind: "update", obj: T, old: T): void;
  private emit(kind: "add" | "update" | "delete", obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === "add") h.add?.(obj);
        else if (kind === "delete") h.delete?.(obj);
        else h.update?.(old as T, obj);
      } catch (e) {
        this.log?.error({ err: e, obj }, `informer ${kind} handler threw`);
      }
    }
  }

  private async watchOnce(): Promise<void> {
    const timeoutSeconds = this.opts.timeoutSeconds ?? 300;
    const watchdogMs = this.opts.watchdogMs ?? (timeoutSeconds + 30) * 1000;
    let stalled = false;
    let events = 0;
    let failure: Error | undefined;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const armWatchdog = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        stalled = true;
        this.currentWatch?.abort();
      }, watchdogMs);
    };
    const started = Date.now();
    this.stats.watches++;
    armWatchdog();
    let handle: WatchHandle;
    try {
      handle = await openWatch(
        this.opts.kubeConfig,
        this.path,
        { ...this.baseQuery(), resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds },
        (ev) => {
          if (failure) return;
          events++;
          try {
            this.onWatchEvent(ev);
          } catch (e) {
            failure = e as Error;
            this.currentWatch?.abort();
          }
        },
        armWatchdog,
        Math.min(watchdogMs, 30_000),
        (h) => {
          this.currentWatch = h;
          if (this.state !== "running") h.abort();
        },
        this.opts.metadataOnly ? METADATA_ACCEPT.watch : undefined,
      );
    } catch (e) {
      clearTimeout(watchdog);
      this.currentWatch = undefined;
      throw e;
    }
    if (handle.isOpen()) this.stats.lastWatchStartAt = Date.now();
    try {
      await handle.done;
    } finally {
      clearTimeout(watchdog);
      this.currentWatch = undefined;
    }
    if (failure) throw failure;
    if (this.state !== "running") return;
    if (stalled) {
      this.stats.stalls++;
      throw new Error(`watch stalled: nothing received for ${watchdogMs} ms`);
    }
    // A server that closes every watch at once would otherwise make us reconnect in a tight loop.
    if (events === 0 && Date.now() - started < 1000) throw new Error("watch closed immediately by the server");
  }

  private onWatchEvent(ev: WatchEvent): void {
    if (ev.type === "ERROR") {
      const st = (ev.object ?? {}) as { code?: number; reason?: string; message?: string };
      if (st.code === 410 || st.reason === "Expired" || st.reason === "Gone") throw new GoneError(st.message ?? "410 Gone");
      throw new KubeApiError(st.code ?? 500, st.reason ?? "Error", `watch ${this.describe()}: ${st.message ?? "error event"}`);
    }
    this.watchDeliveredEvents = true;
    const obj = ev.object as T;
    const rv = obj.metadata?.resourceVersion;
    if (ev.type === "BOOKMARK") {
      if (rv) this.rv = rv;
      return;
    }
    const r = this.opts.resource;
    const full = this.prepare({ apiVersion: r.group ? `${r.group}/${r.version}` : r.version, kind: r.kind, ...obj });
    const key = objectKey(full);
    const prev = this.store.get(key);
    if (ev.type === "DELETED") {
      this.store.delete(key);
      if (rv) this.rv = rv;
      this.emit("delete", prev ?? full);
      return;
    }
    this.store.set(key, full);
    if (rv) this.rv = rv;
    if (prev) this.emit("update", full, prev);
    else this.emit("add", full);
  }
}
