/**
 * Drift resync as fleet-wide rounds. Every period (jittered ±10 % per round) the sweeper reads all
 * managed instances ahead with DescribeInstances in chunks of 100 per (credentials, region), then
 * queues every resource; each reconcile then finds its instance already read. A round of N resources
 * costs ceil(N/100) DescribeInstances calls per account and region, however few workers run.
 *
 * Per-key resync timers cannot do this: the work queue runs only `--concurrency` reconciles at a
 * time, so their reads coalesce into batches of at most that many IDs.
 */
import type { Logger } from "pino";
import { type EcsInstanceAttributes, PAUSED_ANNOTATION } from "../api/index.js";
import { credentialsCacheId, type EcsCredentials } from "../cloud/client.js";

export interface SweepTarget {
  credentials: EcsCredentials;
  regionId: string;
}

export interface ResyncSweeperOptions {
  periodMs: number;
  resources: () => readonly EcsInstanceAttributes[];
  /** The ECS target of a resource, or undefined when it cannot be resolved now (its reconcile reports why). */
  targetOf: (obj: EcsInstanceAttributes) => SweepTarget | undefined;
  prefetch: (target: SweepTarget, instanceIds: readonly string[], signal: AbortSignal) => Promise<unknown>;
  enqueue: (key: string) => void;
  log: Logger;
  random?: () => number;
}

export class ResyncSweeper {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly abort = new AbortController();
  private stopped = false;
  /** Rounds completed (for logs and tests). */
  rounds = 0;

  constructor(private readonly opts: ResyncSweeperOptions) {}

  /** One round: read ahead, then queue every resource that is not paused. */
  async round(): Promise<void> {
    const groups = new Map<string, { target: SweepTarget; ids: string[] }>();
    const keys: string[] = [];
    for (const obj of this.opts.resources()) {
      keys.push(`${obj.metadata.namespace}/${obj.metadata.name}`);
      if (obj.metadata.annotations?.[PAUSED_ANNOTATION] === "true" || !obj.spec?.instanceId) continue;
      const target = this.opts.targetOf(obj);
      if (!target) continue;
      const g = `${credentialsCacheId(target.credentials)}|${target.regionId}`;
      let group = groups.get(g);
      if (!group) groups.set(g, (group = { target, ids: [] }));
      group.ids.push(obj.spec.instanceId);
    }
    const started = Date.now();
    const results = await Promise.allSettled([...groups.values()].map((g) => this.opts.prefetch(g.target, g.ids, this.abort.signal)));
    for (const r of results) {
      // A failed read-ahead only costs batching: each reconcile then reads (and reports) on its own.
      if (r.status === "rejected") this.opts.log.warn({ err: r.reason as unknown }, "resync read-ahead failed");
    }
    if (this.stopped) return;
    for (const k of keys) this.opts.enqueue(k);
    this.rounds++;
    this.opts.log.debug({ resources: keys.length, groups: groups.size, ms: Date.now() - started }, "resync round queued");
  }

  /** Runs a round now (the initial read of the fleet), then one per period. */
  async start(): Promise<void> {
    await this.round();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const jitter = 0.9 + 0.2 * (this.opts.random ?? Math.random)();
    this.timer = setTimeout(() => {
      void this.round().finally(() => this.schedule());
    }, Math.round(this.opts.periodMs * jitter));
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
  }
}
