/**
 * A keyed work queue with per-key serialisation, dedup, scheduled requeues and per-key backoff
 * (the client-go workqueue + kube-runtime scheduler semantics, in one small class).
 *
 *   const q = new WorkQueue({ name: "ecsattrs", concurrency: 4 });
 *   q.add("ns/a");                 // dedup: adding a queued key again is a no-op
 *   q.addAfter("ns/a", 60_000);    // scheduled requeue; the EARLIEST pending time wins
 *   q.addRateLimited("ns/a");      // after a failure: 1 s, 2 s, 4 s … ×(1+jitter), capped (default 5 min)
 *   q.forget("ns/a");              // after a success: the backoff for this key starts over
 *   q.run(async (key) => { … });   // up to `concurrency` keys at once, never one key twice at once
 *   await q.shutdown(30_000);      // stop taking work; wait for in-flight work up to the timeout
 *
 * Rules
 * - A key is in at most one of: ready (queued), processing, or only scheduled (timer).
 * - `add` while the key is processing marks it dirty; it is queued again once `done` runs
 *   (never two workers on one key).
 * - `add` is `addAfter(key, 0)`: an immediate add supersedes a later scheduled time (earliest
 *   wins), a later `addAfter` never delays an earlier one.
 * - Failures are counted per key by `addRateLimited` and reset by `forget`.
 * - A low-priority key (`addLowPriority`, a resync round) starts in a later turn of the event loop
 *   than the one that handed it out, so a round never holds the thread between two I/O callbacks.
 * - After `shutdown` starts, adds are ignored and no new work is handed out.
 */

/** Hooks for workqueue_* metrics (see metrics.ts `RuntimeMetrics.queue`). All optional. */
export interface QueueMetrics {
  depth(n: number): void;
  added(): void;
  retried(): void;
  /** Seconds a key waited in the ready queue before a worker took it. */
  queueDuration(seconds: number): void;
  /** Seconds a worker spent on a key. */
  workDuration(seconds: number): void;
}

export interface BackoffOptions {
  /** First retry delay (default 1000 ms). */
  baseMs?: number;
  /** Cap (default 300 000 ms = 5 min). */
  maxMs?: number;
  /** Extra random fraction added to each delay: delay × (1 + jitter × random()) (default 0.2). */
  jitter?: number;
}

export interface WorkQueueOptions {
  name?: string;
  /** Maximum keys processed at once (default 1). */
  concurrency?: number;
  backoff?: BackoffOptions;
  metrics?: Partial<QueueMetrics>;
  /** Random source in [0,1) for jitter (tests inject a fixed one). */
  random?: () => number;
  /** Millisecond clock used for durations (default Date.now). */
  now?: () => number;
}

export interface ShutdownResult {
  /** True when every in-flight key finished before the timeout. */
  drained: boolean;
  /** Keys still being processed when the timeout expired. */
  abandoned: string[];
}

/** Exponential backoff delay for the n-th consecutive failure (n ≥ 1), jittered and capped. */
export function backoffDelay(failures: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = opts.baseMs ?? 1000;
  const max = opts.maxMs ?? 300_000;
  const jitter = opts.jitter ?? 0.2;
  const exp = base * 2 ** Math.min(Math.max(failures - 1, 0), 52);
  return Math.min(max, Math.round(exp * (1 + jitter * random())));
}

interface Scheduled {
  at: number;
  timer: ReturnType<typeof setTimeout>;
}

export class WorkQueue {
  readonly name: string;
  private readonly concurrency: number;
  private readonly backoff: BackoffOptions;
  private readonly metrics: Partial<QueueMetrics>;
  private readonly random: () => number;
  private readonly now: () => number;

  /** Ready keys in FIFO order (a Set keeps insertion order and dedups). Value: time queued. */
  private readonly ready = new Map<string, number>();
  /**
   * Low-priority ready keys (periodic resync), handed out only when `ready` is empty, so a spec
   * change never waits behind a fleet-wide resync round. `add` promotes a key from here.
   */
  private readonly readyLow = new Map<string, number>();
  private readonly processing = new Map<string, Promise<void>>();
  /** Keys added while processing: queued again when their worker finishes. */
  private readonly dirty = new Set<string>();
  private readonly scheduled = new Map<string, Scheduled>();
  private readonly failureCounts = new Map<string, number>();
  private worker: ((key: string) => Promise<void>) | undefined;
  private stopping = false;
  private idleWaiters: Array<() => void> = [];

  constructor(opts: WorkQueueOptions = {}) {
    this.name = opts.name ?? "default";
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.backoff = opts.backoff ?? {};
    this.metrics = opts.metrics ?? {};
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
  }

  /** Queue `key` now (dedup; deferred while it is processing). */
  add(key: string): void {
    if (this.stopping) return;
    this.cancelScheduled(key);
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.ready.has(key)) return;
    const low = this.readyLow.get(key);
    if (low !== undefined) this.readyLow.delete(key);
    this.ready.set(key, low ?? this.now());
    this.metrics.added?.();
    this.reportDepth();
    this.pump();
  }

  /**
   * Queue `key` behind every normal-priority key (periodic resync). No-op when it is already queued
   * at either priority or is being processed right now (that reconcile is this round's read; marking
   * it dirty would run it a second time without the round's prefetched snapshot: an extra read).
   */
  addLowPriority(key: string): void {
    if (this.stopping) return;
    if (this.processing.has(key) || this.ready.has(key) || this.readyLow.has(key)) return;
    this.cancelScheduled(key);
    this.readyLow.set(key, this.now());
    this.metrics.added?.();
    this.reportDepth();
    this.pump();
  }

  /** Queue `key` after `delayMs`, unless it is already due sooner (earliest wins). */
  addAfter(key: string, delayMs: number): void {
    if (this.stopping) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    if (this.ready.has(key) || this.readyLow.has(key) || this.dirty.has(key)) return;
    const at = this.now() + delayMs;
    const existing = this.scheduled.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.scheduled.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref?.();
    this.scheduled.set(key, { at, timer });
  }

  /** Counts a failure for `key` and queues it after its backoff delay. Returns the delay used. */
  addRateLimited(key: string): number {
    const failures = this.recordFailure(key);
    const delay = backoffDelay(failures, this.backoff, this.random);
    this.addAfter(key, delay);
    return delay;
  }

  /** Counts a failure for `key` without scheduling it (for error policies that pick their own delay). */
  recordFailure(key: string): number {
    const failures = (this.failureCounts.get(key) ?? 0) + 1;
    this.failureCounts.set(key, failures);
    this.metrics.retried?.();
    return failures;
  }

  /** Resets the failure count of `key` (call after a successful reconcile). */
  forget(key: string): void {
    this.failureCounts.delete(key);
  }

  /** Consecutive failures recorded for `key`. */
  failures(key: string): number {
    return this.failureCounts.get(key) ?? 0;
  }

  /** When `key` is scheduled to be queued (epoch ms per the clock), if it is. */
  scheduledAt(key: string): number | undefined {
    return this.scheduled.get(key)?.at;
  }

  /** Keys ready to be handed to a worker. */
  get depth(): number {
    return this.ready.size + this.readyLow.size;
  }

  /** Keys being processed now. */
  get active(): number {
    return this.processing.size;
  }

  /** Keys waiting for a timer (scheduled requeues and backoffs). */
  get pendingScheduled(): number {
    return this.scheduled.size;
  }

  isProcessing(key: string): boolean {
    return this.processing.has(key);
  }

  /** Starts handing keys to `worker`, at most `concurrency` at once. Call once. */
  run(worker: (key: string) => Promise<void>): void {
    if (this.worker) throw new Error(`work queue ${this.name}: run() called twice`);
    this.worker = worker;
    this.pump();
  }

  /** Resolves when no key is ready or processing (scheduled timers may remain). */
  whenIdle(): Promise<void> {
    if (this.ready.size === 0 && this.readyLow.size === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops taking work: pending timers are dropped, ready keys are not handed out, adds are ignored.
   * Waits for in-flight keys up to `timeoutMs`; the ones still running then are reported abandoned
   * (their promises keep running; the caller decides, e.g. aborts their signal and exits).
   */
  async shutdown(timeoutMs = 30_000): Promise<ShutdownResult> {
    this.stopping = true;
    for (const s of this.scheduled.values()) clearTimeout(s.timer);
    this.scheduled.clear();
    this.ready.clear();
    this.readyLow.clear();
    this.dirty.clear();
    this.reportDepth();
    const inflight = [...this.processing.values()];
    if (inflight.length === 0) return { drained: true, abandoned: [] };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const outcome = await Promise.race([Promise.allSettled(inflight).then(() => "drained" as const), timedOut]);
    clearTimeout(timer);
    return outcome === "drained" ? { drained: true, abandoned: [] } : { drained: false, abandoned: [...this.processing.keys()] };
  }

  get isShuttingDown(): boolean {
    return this.stopping;
  }

  private cancelScheduled(key: string): void {
    const s = this.scheduled.get(key);
    if (s) {
      clearTimeout(s.timer);
      this.scheduled.delete(key);
    }
  }

  private reportDepth(): void {
    this.metrics.depth?.(this.ready.size + this.readyLow.size);
  }

  private pump(): void {
    const worker = this.worker;
    if (!worker || this.stopping) return;
    while (this.processing.size < this.concurrency && this.ready.size + this.readyLow.size > 0) {
      const low = this.ready.size === 0;
      const from = low ? this.readyLow : this.ready;
      const [key, queuedAt] = from.entries().next().value as [string, number];
      from.delete(key);
      this.reportDepth();
      this.metrics.queueDuration?.((this.now() - queuedAt) / 1000);
      const started = this.now();
      const p = (async () => {
        try {
          // A resync round's reconciles find their reads prefetched and often finish without any
          // I/O: chained through promise callbacks alone, a round of 10,000 would hold the thread
          // for its whole length (seen as 650 ms of event-loop lag), and a spec change's watch event
          // would wait behind it. Each round key starts in its own turn of the event loop instead.
          if (low) await yieldToEventLoop();
          await worker(key);
        } catch {
          // The worker owns error handling (error policy); a throw here must not stop the queue.
        }
      })().finally(() => {
        this.metrics.workDuration?.((this.now() - started) / 1000);
        this.processing.delete(key);
        if (this.dirty.delete(key) && !this.stopping) {
          this.ready.set(key, this.now());
          this.metrics.added?.();
          this.reportDepth();
        }
        this.pump();
        this.notifyIdle();
      });
      this.processing.set(key, p);
    }
  }

  private notifyIdle(): void {
    if (this.ready.size > 0 || this.readyLow.size > 0 || this.processing.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** Resolves in a later turn of the event loop, after pending I/O callbacks have run. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
