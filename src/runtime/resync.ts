/**
 * Drift resync as fleet-wide rounds. Every period (jittered ±10 % per round) the sweeper reads all
 * managed instances ahead with DescribeInstances in chunks of 100 per (credentials, region), then
 * queues every resource; each reconcile then finds its instance already read. A round of N resources
 * costs ceil(N/100) DescribeInstances calls per account and region, however few workers run.
 *
 * Per-key resync timers cannot do this: the work queue runs only `--concurrency` reconciles at a
 * time, so their reads coalesce into batches of at most that many IDs.
 *
 * Generic: what to read for an object, and how reads group into one call, are parameters (src/app.ts
 * supplies the ECS ones: instance ID, and the cloud layer's (credentials, region) group key).
 */
import type { Logger } from "pino";
import type { KubeObject } from "./informer.js";

/** What to read ahead for one object: `id` within the group `group` (one batched read per group). */
export interface ReadAhead<Target> {
  group: string;
  target: Target;
  id: string;
}

export interface ResyncSweeperOptions<T extends KubeObject, Target> {
  periodMs: number;
  resources: () => readonly T[];
  /** What to read for an object, or undefined to skip the read (e.g. paused; its reconcile reports why). */
  readAhead: (obj: T) => ReadAhead<Target> | undefined;
  prefetch: (target: Target, ids: readonly string[], signal: AbortSignal) => Promise<unknown>;
  enqueue: (key: string) => void;
  log: Logger;
  random?: () => number;
}

export class ResyncSweeper<T extends KubeObject, Target> {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly abort = new AbortController();
  private stopped = false;
  /** Rounds completed (for logs and tests). */
  rounds = 0;

  constructor(private readonly opts: ResyncSweeperOptions<T, Target>) {}

  /** One round: read ahead, then queue every resource. */
  async round(): Promise<void> {
    const groups = new Map<string, { target: Target; ids: string[] }>();
    const keys: string[] = [];
    for (const obj of this.opts.resources()) {
      keys.push(`${obj.metadata?.namespace}/${obj.metadata?.name}`);
      const r = this.opts.readAhead(obj);
      if (!r) continue;
      let group = groups.get(r.group);
      if (!group) groups.set(r.group, (group = { target: r.target, ids: [] }));
      group.ids.push(r.id);
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
    this.timer = setTimeout(
      () => {
        void this.round().finally(() => this.schedule());
      },
      Math.round(this.opts.periodMs * jitter),
    );
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
  }
}
