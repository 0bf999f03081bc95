/**
 * Kubernetes Event recorder (events.k8s.io/v1) with client-side aggregation, like kube-runtime's
 * `events::Recorder` and client-go's event series: a flapping resource does not flood the API.
 *
 *   const rec = new EventRecorder({ kubeConfig, reportingController: "ecs.alicloud.dev/ecs-attributes-controller",
 *                                   reportingInstance: podName, logger });
 *   rec.record(resource, "Warning", "ModifyFailed", "ECS returned Throttling.User (RequestId …)");
 *   await rec.close();   // flushes pending series updates
 *
 * Rules
 * - The first occurrence creates an Event (`eventTime` as MicroTime, `regarding` = the object's
 *   identity, never its contents).
 * - Repeats of the same (object, type, reason, action, note) within `seriesWindowMs` (default 10 min)
 *   only bump a counter; the Event's `series {count, lastObservedTime}` is PATCHed at most once per
 *   `seriesFlushMs` (default 30 s). An expired Event (404) is recreated with its series.
 * - New distinct events per object are limited by a token bucket (burst 25, one token per 5 min,
 *   client-go's spam filter); excess ones are dropped and logged at debug.
 * - `record` never throws and never blocks reconcile; API failures are logged.
 * - The note must not contain secrets; it is truncated to the API's 1 kB limit.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { KubeObject } from "./informer.js";
import { KubeApiError, kubeRequest, microTime } from "./kube-http.js";

export type EventType = "Normal" | "Warning";

/** The two API calls the recorder makes; `kubeEventApi(kc)` is the real one, tests may fake it. */
export interface EventApi {
  create(namespace: string, body: Record<string, unknown>): Promise<{ name: string }>;
  /** Merge-patches an Event; resolves false when it no longer exists. */
  patch(namespace: string, name: string, body: Record<string, unknown>): Promise<boolean>;
}

export function kubeEventApi(kc: KubeConfig): EventApi {
  const base = (ns: string) => `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/events`;
  return {
    async create(ns, body) {
      const r = await kubeRequest(kc, { method: "POST", path: base(ns), body, timeoutMs: 10_000 });
      if (r.status !== 201 && r.status !== 200) throw KubeApiError.from(r, "create Event");
      return { name: String((r.body as { metadata?: { name?: string } }).metadata?.name) };
    },
    async patch(ns, name, body) {
      const r = await kubeRequest(kc, {
        method: "PATCH",
        path: `${base(ns)}/${encodeURIComponent(name)}`,
        body,
        contentType: "application/merge-patch+json",
        timeoutMs: 10_000,
      });
      if (r.status === 404) return false;
      if (r.status !== 200) throw KubeApiError.from(r, "patch Event");
      return true;
    },
  };
}

export interface EventRecorderOptions {
  kubeConfig?: KubeConfig;
  /** Used instead of kubeConfig (tests). */
  api?: EventApi;
  /** e.g. "ecs.alicloud.dev/ecs-attributes-controller" */
  reportingController: string;
  /** e.g. the pod name (≤128 characters) */
  reportingInstance: string;
  logger?: Logger;
  seriesWindowMs?: number;
  seriesFlushMs?: number;
  burst?: number;
  refillMs?: number;
  now?: () => number;
}

interface Entry {
  namespace: string;
  name?: string;
  body: Record<string, unknown>;
  count: number;
  flushedCount: number;
  lastAt: number;
  timer?: ReturnType<typeof setTimeout>;
  inflight?: Promise<void>;
}

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_NOTE = 1024;

export class EventRecorder {
  private readonly api: EventApi;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = 0;
  private seq = 0;
  private closed = false;
  /** Counters for tests and diagnostics. */
  readonly stats = { created: 0, patched: 0, aggregated: 0, dropped: 0, failed: 0 };

  constructor(private readonly opts: EventRecorderOptions) {
    if (opts.api) this.api = opts.api;
    else if (opts.kubeConfig) this.api = kubeEventApi(opts.kubeConfig);
    else throw new Error("EventRecorder needs kubeConfig or api");
    this.now = opts.now ?? Date.now;
  }

  record(regarding: KubeObject, type: EventType, reason: string, note: string, action?: string): void {
    if (this.closed) return;
    const m = regarding.metadata ?? {};
    const namespace = m.namespace || "default";
    const objectId = m.uid || `${regarding.kind}/${namespace}/${m.name}`;
    const act = action ?? reason;
    const text = note.length > MAX_NOTE ? `${note.slice(0, MAX_NOTE - 3)}...` : note;
    const key = JSON.stringify([objectId, type, reason, act, text]);
    const t = this.now();
    this.sweep(t);
    const window = this.opts.seriesWindowMs ?? 10 * 60_000;
    const existing = this.entries.get(key);
    if (existing && t - existing.lastAt <= window) {
      existing.count++;
      existing.lastAt = t;
      this.stats.aggregated++;
      this.scheduleFlush(existing);
      return;
    }
    if (!this.take(objectId, t)) {
      this.stats.dropped++;
      this.opts.logger?.debug({ obj: regarding, reason }, "event dropped by the per-object rate limit");
      return;
    }
    const body: Record<string, unknown> = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      // client-go's naming: <object>.<unix nanos in hex> (generateName "x." is not a valid prefix).
      metadata: { name: `${m.name ?? "object"}.${(BigInt(t) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`, namespace },
      eventTime: microTime(new Date(t)),
      reportingController: this.opts.reportingController,
      reportingInstance: this.opts.reportingInstance,
      action: act,
      reason,
      note: text,
      type,
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
      },
    };
    const entry: Entry = { namespace, body, count: 1, flushedCount: 1, lastAt: t };
    if (existing?.timer) clearTimeout(existing.timer);
    this.entries.set(key, entry);
    entry.inflight = this.create(entry);
  }

  /** Writes pending series updates now. */
  async flush(): Promise<void> {
    const pending: Array<Promise<void>> = [];
    for (const e of this.entries.values()) {
      if (e.timer) {
        clearTimeout(e.timer);
        e.timer = undefined;
      }
      pending.push(this.flushEntry(e));
    }
    await Promise.all(pending);
  }

  /** Flushes and stops recording. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private take(objectId: string, t: number): boolean {
    const burst = this.opts.burst ?? 25;
    const refill = this.opts.refillMs ?? 5 * 60_000;
    const b = this.buckets.get(objectId) ?? { tokens: burst, at: t };
    b.tokens = Math.min(burst, b.tokens + (t - b.at) / refill);
    b.at = t;
    this.buckets.set(objectId, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private sweep(t: number): void {
    const window = this.opts.seriesWindowMs ?? 10 * 60_000;
    if (t - this.lastSweep < window) return;
    this.lastSweep = t;
    for (const [k, e] of this.entries) if (t - e.lastAt > window && !e.timer && e.count === e.flushedCount) this.entries.delete(k);
    const burst = this.opts.burst ?? 25;
    const refill = this.opts.refillMs ?? 5 * 60_000;
    for (const [k, b] of this.buckets) if (b.tokens + (t - b.at) / refill >= burst) this.buckets.delete(k);
  }

  private scheduleFlush(e: Entry): void {
    if (e.timer) return;
    e.timer = setTimeout(() => {
      e.timer = undefined;
      void this.flushEntry(e);
    }, this.opts.seriesFlushMs ?? 30_000);
    e.timer.unref?.();
  }

  private async create(e: Entry): Promise<void> {
    try {
      const body = e.count > 1 ? { ...e.body, series: { count: e.count, lastObservedTime: microTime(new Date(e.lastAt)) } } : e.body;
      const flushed = e.count;
      const r = await this.api.create(e.namespace, body);
      e.name = r.name;
      e.flushedCount = flushed;
      this.stats.created++;
    } catch (err) {
      this.stats.failed++;
      this.opts.logger?.warn({ err: { message: (err as Error).message }, reason: e.body["reason"] }, "could not create Event");
    }
  }

  private async flushEntry(e: Entry): Promise<void> {
    await e.inflight;
    if (e.count <= e.flushedCount) return;
    if (!e.name) {
      // The create failed: try again, carrying the series so far.
      e.inflight = this.create(e);
      return e.inflight;
    }
    const count = e.count;
    const p = (async () => {
      try {
        const ok = await this.api.patch(e.namespace, e.name!, { series: { count, lastObservedTime: microTime(new Date(e.lastAt)) } });
        if (ok) {
          e.flushedCount = count;
          this.stats.patched++;
        } else {
          e.name = undefined;
          await this.create(e);
        }
      } catch (err) {
        this.stats.failed++;
        this.opts.logger?.warn({ err: { message: (err as Error).message }, reason: e.body["reason"] }, "could not update Event series");
      }
    })();
    e.inflight = p;
    return p;
  }
}
