// Client-side rate limiting per (account, region, action).
//
// ECS throttles per Alibaba Cloud account × region × API in whole-minute windows, shared with
// everything else the customer runs (docs/cloud.md). Each (account, region, action) gets its own
// token bucket (QPS + burst; a global default with per-action overrides). When ECS answers with a
// Throttling* code, that bucket PAUSES until the server's `x-acs-retry-after`, or else until the
// next minute boundary, and then PROBES: one request at a time at `probeQps` (Alibaba's advice:
// probe the same API at 1 QPS until it succeeds). After `probeSuccesses` consecutive successes the
// bucket returns to its full rate (starting with an empty bucket, so there is no burst).
//
// Two lanes share each bucket: `normal` (a reconcile's own reads and writes) and `background` (a
// resync round's read-ahead). A background waiter gets a token only when no normal waiter is queued,
// or once it has waited `maxWaitMs` (so a busy normal lane delays a round, never stalls it): a round
// of N resources queues ceil(N/100) reads at once, and a spec change's read must not wait behind them.
//
// Pure logic: time comes from `now()` and timers from the global setTimeout at call time, so
// vitest's fake timers drive it deterministically.

export interface BucketKey {
  /** Account or credential identity (never a secret): e.g. `ak:LTAI…`, `default`. */
  account: string;
  region: string;
  action: string;
}

export interface RateSpec {
  /** Sustained requests per second. */
  qps: number;
  /** Bucket size: how many requests may go back to back after a quiet period. */
  burst: number;
}

export interface RateLimiterOptions {
  /** Default rate for every action. */
  default: RateSpec;
  /**
   * Per-action overrides, e.g. `{ ModifyInstanceAttribute: { qps: 2, burst: 4 } }`; a missing
   * burst is the default burst.
   */
  perAction?: Readonly<Record<string, { qps: number; burst?: number | undefined }>>;
  /** Rate while probing after a throttle. Default 1 QPS. */
  probeQps?: number;
  /** Consecutive successful probes before returning to full rate. Default 3. */
  probeSuccesses?: number;
  /**
   * Refuse to queue a request whose estimated wait is longer than this (ms); `acquire` then
   * rejects with `RateLimitWaitError` so the reconcile fails fast and the work queue backs off
   * instead of a worker sleeping through a throttled minute. Default 15 000.
   */
  maxWaitMs?: number;
  /** Clock (ms). Default Date.now. */
  now?: () => number;
}

export type BucketMode = "normal" | "paused" | "probing";

/** Which queue a waiter joins (see the header). */
export type Lane = "normal" | "background";

export interface BucketSnapshot {
  mode: BucketMode;
  tokens: number;
  pausedUntil: number;
  queued: number;
  probeSuccesses: number;
  rate: RateSpec;
}

/** Thrown by `acquire` when the wait would exceed `maxWaitMs`. */
export class RateLimitWaitError extends Error {
  override readonly name = "RateLimitWaitError";
  constructor(
    readonly key: BucketKey,
    /** Estimated ms until a slot is free (at least until the bucket reopens). */
    readonly waitMs: number,
  ) {
    super(`client-side rate limit for ${key.action} in ${key.region}: next slot in ~${Math.ceil(waitMs / 1000)} s`);
  }
}

interface Waiter {
  /** When it was queued (background waiters are served first once they have waited maxWaitMs). */
  since: number;
  resolve: () => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Bucket {
  key: BucketKey;
  rate: RateSpec;
  tokens: number;
  last: number;
  mode: BucketMode;
  pausedUntil: number;
  probeSuccesses: number;
  /** The normal lane, FIFO. */
  queue: Waiter[];
  /** The background lane, FIFO. */
  background: Waiter[];
  timer: ReturnType<typeof setTimeout> | undefined;
  timerAt: number;
}

export const MINUTE_MS = 60_000;

/** The start of the next whole minute after `now` (ECS throttling windows are whole minutes). */
export function nextMinuteBoundary(now: number): number {
  return Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly probeQps: number;
  private readonly probeNeeded: number;
  private readonly maxWaitMs: number;

  constructor(private readonly opts: RateLimiterOptions) {
    validateRate(opts.default, "default");
    for (const a of Object.keys(opts.perAction ?? {})) validateRate(this.rateFor(a), a);
    this.now = opts.now ?? Date.now;
    this.probeQps = opts.probeQps ?? 1;
    this.probeNeeded = Math.max(1, opts.probeSuccesses ?? 3);
    this.maxWaitMs = opts.maxWaitMs ?? 15_000;
    if (!(this.probeQps > 0)) throw new Error("probeQps must be > 0");
  }

  /** The configured rate for an action. */
  rateFor(action: string): RateSpec {
    const o = this.opts.perAction?.[action];
    return o ? { qps: o.qps, burst: o.burst ?? this.opts.default.burst } : this.opts.default;
  }

  /**
   * Waits for a slot in the (account, region, action) bucket, in `lane` (default normal). Rejects
   * with the signal's reason when aborted, or with `RateLimitWaitError` when the estimated wait
   * exceeds `maxWaitMs`.
   */
  acquire(key: BucketKey, signal?: AbortSignal, lane: Lane = "normal"): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const b = this.bucket(key);
    const now = this.now();
    this.advance(b, now);
    if (queued(b) === 0 && b.mode !== "paused" && b.tokens >= 1) {
      b.tokens -= 1;
      return Promise.resolve();
    }
    const wait = this.estimateWait(b, now, lane);
    if (wait > this.maxWaitMs) return Promise.reject(new RateLimitWaitError(key, wait));
    const line = lane === "normal" ? b.queue : b.background;
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { since: now, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        w.onAbort = () => {
          const i = line.indexOf(w);
          if (i >= 0) line.splice(i, 1);
          reject(signal.reason as Error);
          this.pump(b);
        };
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      line.push(w);
      this.pump(b);
    });
  }

  /**
   * ECS answered Throttling*: pause the bucket until `retryAfterMs` from now (if the server sent
   * `x-acs-retry-after`) or the next minute window. Returns the ms until the bucket reopens.
   */
  onThrottled(key: BucketKey, retryAfterMs?: number): number {
    const b = this.bucket(key);
    const now = this.now();
    const until = retryAfterMs !== undefined && retryAfterMs >= 0 ? now + retryAfterMs : nextMinuteBoundary(now);
    // Never shorten an existing pause (several in-flight calls may report throttling).
    b.pausedUntil = Math.max(b.pausedUntil, until);
    b.mode = "paused";
    b.tokens = 0;
    b.probeSuccesses = 0;
    this.pump(b);
    return b.pausedUntil - now;
  }

  /** A call in this bucket succeeded (advances probing back to full rate). */
  onSuccess(key: BucketKey): void {
    const b = this.buckets.get(bucketId(key));
    if (!b || b.mode !== "probing") return;
    b.probeSuccesses += 1;
    if (b.probeSuccesses >= this.probeNeeded) {
      b.mode = "normal";
      b.probeSuccesses = 0;
      b.tokens = 0;
      b.last = this.now();
      this.pump(b);
    }
  }

  /** Ms until the bucket accepts requests again (0 when not paused). */
  pausedFor(key: BucketKey): number {
    const b = this.buckets.get(bucketId(key));
    if (!b) return 0;
    return Math.max(0, b.pausedUntil - this.now());
  }

  snapshot(key: BucketKey): BucketSnapshot | undefined {
    const b = this.buckets.get(bucketId(key));
    if (!b) return undefined;
    this.advance(b, this.now());
    return {
      mode: b.mode,
      tokens: b.tokens,
      pausedUntil: b.pausedUntil,
      queued: queued(b),
      probeSuccesses: b.probeSuccesses,
      rate: this.effectiveRate(b),
    };
  }

  /** Rejects every waiter and clears timers (shutdown). */
  close(reason: Error = new Error("rate limiter closed")): void {
    for (const b of this.buckets.values()) {
      if (b.timer) clearTimeout(b.timer);
      b.timer = undefined;
      for (const w of [...b.queue.splice(0), ...b.background.splice(0)]) {
        if (w.onAbort) w.signal?.removeEventListener("abort", w.onAbort);
        w.reject(reason);
      }
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  private bucket(key: BucketKey): Bucket {
    const id = bucketId(key);
    let b = this.buckets.get(id);
    if (!b) {
      const rate = this.rateFor(key.action);
      b = {
        key: { ...key },
        rate,
        tokens: rate.burst,
        last: this.now(),
        mode: "normal",
        pausedUntil: 0,
        probeSuccesses: 0,
        queue: [],
        background: [],
        timer: undefined,
        timerAt: 0,
      };
      this.buckets.set(id, b);
    }
    return b;
  }

  private effectiveRate(b: Bucket): RateSpec {
    return b.mode === "normal" ? b.rate : { qps: Math.min(this.probeQps, b.rate.qps), burst: 1 };
  }

  /** Moves the bucket through time: end a pause, refill tokens. */
  private advance(b: Bucket, now: number): void {
    if (b.mode === "paused") {
      if (now < b.pausedUntil) return;
      b.mode = "probing";
      b.probeSuccesses = 0;
      b.tokens = 1; // exactly one probe right away
      b.last = now;
      return;
    }
    const r = this.effectiveRate(b);
    if (now > b.last) {
      b.tokens = Math.min(r.burst, b.tokens + ((now - b.last) / 1000) * r.qps);
      b.last = now;
    }
  }

  private estimateWait(b: Bucket, now: number, lane: Lane): number {
    // Including this request; a normal request is not behind the background lane.
    const ahead = (lane === "normal" ? b.queue.length : queued(b)) + 1;
    if (b.mode === "paused") {
      const probe = Math.min(this.probeQps, b.rate.qps);
      return b.pausedUntil - now + ((ahead - 1) / probe) * 1000;
    }
    const r = this.effectiveRate(b);
    const missing = Math.max(0, ahead - b.tokens);
    return (missing / r.qps) * 1000;
  }

  /** The waiter served next: the normal lane first, unless a background waiter has waited maxWaitMs. */
  private next(b: Bucket, now: number): Waiter | undefined {
    const overdue = b.background.length > 0 && now - b.background[0]!.since >= this.maxWaitMs;
    return (overdue ? b.background.shift() : undefined) ?? b.queue.shift() ?? b.background.shift();
  }

  /** Grants tokens to waiters (see `next`) and arms one timer for the next grant. */
  private pump(b: Bucket): void {
    const now = this.now();
    this.advance(b, now);
    while (queued(b) > 0 && b.mode !== "paused" && b.tokens >= 1) {
      b.tokens -= 1;
      const w = this.next(b, now)!;
      if (w.onAbort) w.signal?.removeEventListener("abort", w.onAbort);
      w.resolve();
    }
    if (queued(b) === 0) {
      if (b.timer) clearTimeout(b.timer);
      b.timer = undefined;
      return;
    }
    const at = b.mode === "paused" ? b.pausedUntil : now + Math.ceil(((1 - b.tokens) / this.effectiveRate(b).qps) * 1000);
    if (b.timer && b.timerAt === at) return;
    if (b.timer) clearTimeout(b.timer);
    b.timerAt = at;
    b.timer = setTimeout(
      () => {
        b.timer = undefined;
        this.pump(b);
      },
      Math.max(0, at - now),
    );
    // Timers must not keep a shutting-down process alive.
    b.timer.unref?.();
  }
}

function queued(b: Bucket): number {
  return b.queue.length + b.background.length;
}

function bucketId(k: BucketKey): string {
  return `${k.account}\u0000${k.region}\u0000${k.action}`;
}

function validateRate(r: RateSpec, what: string): void {
  if (!(r.qps > 0) || !Number.isFinite(r.qps)) throw new Error(`rate for ${what}: qps must be a positive number`);
  if (!(r.burst >= 1) || !Number.isFinite(r.burst)) throw new Error(`rate for ${what}: burst must be >= 1`);
}
