import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Lane, nextMinuteBoundary, RateLimiter, RateLimitWaitError, type BucketKey } from "../../../src/cloud/rate-limit.js";

const T0 = Date.UTC(2026, 10, 27, 12, 0, 20, 500); // 12:00:20.500, mid-minute
const key = (action = "DescribeInstances", account = "ak:A", region = "cn-hangzhou"): BucketKey => ({ account, region, action });

/** Starts `n` acquires and records the fake-clock time at which each one is granted. */
function startAcquires(rl: RateLimiter, k: BucketKey, n: number): { granted: number[]; errors: unknown[] } {
  const granted: number[] = [];
  const errors: unknown[] = [];
  for (let i = 0; i < n; i++) {
    rl.acquire(k).then(
      () => granted.push(Date.now() - T0),
      (e: unknown) => errors.push(e),
    );
  }
  return { granted, errors };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe("token bucket", () => {
  it("grants the burst at once, then one every 1/qps seconds", async () => {
    const rl = new RateLimiter({ default: { qps: 2, burst: 2 } });
    const { granted } = startAcquires(rl, key(), 6);
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toEqual([0, 0]);
    await vi.advanceTimersByTimeAsync(499);
    expect(granted).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(granted).toEqual([0, 0, 500]);
    await vi.advanceTimersByTimeAsync(1500);
    expect(granted).toEqual([0, 0, 500, 1000, 1500, 2000]);
  });

  it("keeps (account, region, action) buckets independent and applies per-action overrides", async () => {
    const rl = new RateLimiter({ default: { qps: 10, burst: 1 }, perAction: { ModifyInstanceAttribute: { qps: 1 } } });
    const modify = startAcquires(rl, key("ModifyInstanceAttribute"), 3);
    const describeA = startAcquires(rl, key("DescribeInstances"), 3);
    const describeB = startAcquires(rl, key("DescribeInstances", "ak:B"), 1);
    const otherRegion = startAcquires(rl, key("ModifyInstanceAttribute", "ak:A", "eu-central-1"), 1);
    await vi.advanceTimersByTimeAsync(200);
    expect(describeA.granted).toEqual([0, 100, 200]);
    expect(describeB.granted).toEqual([0]);
    expect(otherRegion.granted).toEqual([0]);
    expect(modify.granted).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1800);
    expect(modify.granted).toEqual([0, 1000, 2000]);
    expect(rl.rateFor("ModifyInstanceAttribute")).toEqual({ qps: 1, burst: 1 });
  });

  it("refills up to the burst only", async () => {
    const rl = new RateLimiter({ default: { qps: 1, burst: 3 } });
    await vi.advanceTimersByTimeAsync(60_000);
    const { granted } = startAcquires(rl, key(), 5);
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(2000);
    expect(granted).toHaveLength(5);
  });

  it("an aborted waiter is rejected and its slot goes to the next one", async () => {
    const rl = new RateLimiter({ default: { qps: 1, burst: 1 } });
    await rl.acquire(key());
    const ac = new AbortController();
    const first = rl.acquire(key(), ac.signal);
    const second = rl.acquire(key());
    let secondAt = -1;
    void second.then(() => (secondAt = Date.now() - T0));
    ac.abort(new Error("shutdown"));
    await expect(first).rejects.toThrow("shutdown");
    await vi.advanceTimersByTimeAsync(1000);
    expect(secondAt).toBe(1000);
  });
});

describe("throttling: pause, then probe", () => {
  it("pauses until x-acs-retry-after, then probes at 1 QPS, then returns to full rate", async () => {
    const rl = new RateLimiter({ default: { qps: 10, burst: 10 }, probeSuccesses: 2 });
    const k = key();
    expect(rl.onThrottled(k, 1500)).toBe(1500);
    expect(rl.snapshot(k)?.mode).toBe("paused");

    const { granted } = startAcquires(rl, k, 3);
    await vi.advanceTimersByTimeAsync(1499);
    expect(granted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(granted).toEqual([1500]); // exactly one probe when the pause ends
    expect(rl.snapshot(k)?.mode).toBe("probing");
    await vi.advanceTimersByTimeAsync(999);
    expect(granted).toEqual([1500]); // probing is 1 QPS, not 10
    await vi.advanceTimersByTimeAsync(1);
    expect(granted).toEqual([1500, 2500]);

    rl.onSuccess(k);
    expect(rl.snapshot(k)?.mode).toBe("probing");
    rl.onSuccess(k);
    expect(rl.snapshot(k)?.mode).toBe("normal");
    // Back to 10 QPS (starting from an empty bucket: no burst right after recovery).
    await vi.advanceTimersByTimeAsync(100);
    expect(granted).toEqual([1500, 2500, 2600]);
  });

  it("without retry-after, pauses until the next minute window", async () => {
    const rl = new RateLimiter({ default: { qps: 5, burst: 5 }, maxWaitMs: 120_000 });
    const k = key();
    const pausedMs = rl.onThrottled(k);
    expect(pausedMs).toBe(39_500); // 12:00:20.500 → 12:01:00.000
    expect(nextMinuteBoundary(T0) - T0).toBe(39_500);
    const { granted } = startAcquires(rl, k, 1);
    await vi.advanceTimersByTimeAsync(39_499);
    expect(granted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(granted).toEqual([39_500]);
  });

  it("a throttled probe pauses again until the next window", async () => {
    const rl = new RateLimiter({ default: { qps: 5, burst: 5 }, maxWaitMs: 120_000 });
    const k = key();
    rl.onThrottled(k, 1000);
    await vi.advanceTimersByTimeAsync(1000);
    await rl.acquire(k); // the probe
    expect(rl.onThrottled(k)).toBe(38_500); // from 12:00:21.500 to 12:01:00
    expect(rl.snapshot(k)?.mode).toBe("paused");
  });

  it("a later throttle never shortens an existing pause", () => {
    const rl = new RateLimiter({ default: { qps: 5, burst: 5 } });
    const k = key();
    rl.onThrottled(k); // until the minute boundary (39.5 s)
    expect(rl.onThrottled(k, 1000)).toBe(39_500);
  });

  it("refuses to queue past maxWaitMs and reports the wait", async () => {
    const rl = new RateLimiter({ default: { qps: 5, burst: 5 }, maxWaitMs: 10_000 });
    const k = key();
    rl.onThrottled(k);
    const err = await rl.acquire(k).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitWaitError);
    expect((err as RateLimitWaitError).waitMs).toBe(39_500);
    // Another action of the same account is not affected.
    await expect(rl.acquire(key("ModifyInstanceAttribute"))).resolves.toBeUndefined();
  });

  it("only the throttled bucket pauses", async () => {
    const rl = new RateLimiter({ default: { qps: 5, burst: 5 } });
    rl.onThrottled(key("DescribeInstances", "ak:A"), 5000);
    const other = startAcquires(rl, key("DescribeInstances", "ak:B"), 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(other.granted).toEqual([0]);
    expect(rl.pausedFor(key("DescribeInstances", "ak:A"))).toBe(5000);
    expect(rl.pausedFor(key("DescribeInstances", "ak:B"))).toBe(0);
  });
});

describe("validation", () => {
  it("rejects non-positive rates", () => {
    expect(() => new RateLimiter({ default: { qps: 0, burst: 1 } })).toThrow(/qps/);
    expect(() => new RateLimiter({ default: { qps: 1, burst: 0 } })).toThrow(/burst/);
    expect(() => new RateLimiter({ default: { qps: 1, burst: 1 }, perAction: { X: { qps: -1 } } })).toThrow(/X/);
  });
});

describe("token bucket invariant (property)", () => {
  it("in any window of length T, grants ≤ burst + qps·T, and every request is eventually granted", async () => {
    const fc = await import("fast-check");
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 40 }),
        async (qps, burst, arrivals) => {
          vi.setSystemTime(T0);
          const rl = new RateLimiter({ default: { qps, burst }, maxWaitMs: 1e9 });
          const granted: number[] = [];
          const sorted = [...arrivals].sort((a, b) => a - b);
          let now = 0;
          for (const at of sorted) {
            await vi.advanceTimersByTimeAsync(at - now);
            now = at;
            void rl.acquire(key()).then(() => granted.push(Date.now() - T0));
          }
          await vi.advanceTimersByTimeAsync(((sorted.length + 1) / qps) * 1000 + 1000);
          expect(granted).toHaveLength(sorted.length);
          for (let i = 0; i < granted.length; i++) {
            for (let j = i; j < granted.length; j++) {
              const windowMs = granted[j]! - granted[i]!;
              // j - i + 1 grants happened within windowMs (1 ms tolerance for timer rounding).
              expect(j - i + 1).toBeLessThanOrEqual(burst + (qps * (windowMs + 1)) / 1000 + 1e-9);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("lanes", () => {
  /** Queues acquires in the given lanes, recording the order in which they are granted. */
  function queue(rl: RateLimiter, lanes: readonly Lane[], order: string[], tag: string): void {
    lanes.forEach((lane, i) => {
      rl.acquire(key(), undefined, lane).then(
        () => order.push(`${tag}${i}`),
        (e: unknown) => order.push(`${tag}${i}:${(e as Error).name}`),
      );
    });
  }

  it("a normal waiter is served before background waiters queued earlier", async () => {
    const rl = new RateLimiter({ default: { qps: 10, burst: 1 } });
    await rl.acquire(key());
    const order: string[] = [];
    queue(rl, ["background", "background", "background"], order, "round");
    await vi.advanceTimersByTimeAsync(50);
    queue(rl, ["normal", "normal"], order, "change");
    await vi.advanceTimersByTimeAsync(500);
    expect(order).toEqual(["change0", "change1", "round0", "round1", "round2"]);
  });

  it("a background waiter that has waited maxWaitMs goes before newer normal waiters (delayed, never starved)", async () => {
    const rl = new RateLimiter({ default: { qps: 1, burst: 1 }, maxWaitMs: 3_000 });
    await rl.acquire(key());
    const order: string[] = [];
    queue(rl, ["background"], order, "round");
    // A steady normal demand: one more normal waiter each second.
    for (let s = 0; s < 5; s++) {
      queue(rl, ["normal"], order, `change${s}-`);
      await vi.advanceTimersByTimeAsync(1_000);
    }
    // Queued at 0 s, served at 3 s (= maxWaitMs), before the normal waiter queued at 2 s.
    expect(order.slice(0, 4)).toEqual(["change0-0", "change1-0", "round0", "change2-0"]);
  });

  it("a normal request's wait estimate ignores the background lane", async () => {
    const rl = new RateLimiter({ default: { qps: 1, burst: 1 }, maxWaitMs: 4_500 });
    await rl.acquire(key());
    const order: string[] = [];
    queue(rl, ["background", "background", "background", "background"], order, "round");
    // A fifth background request would wait 5 s: refused at once; a normal one (1 s) is not.
    queue(rl, ["background"], order, "late");
    queue(rl, ["normal"], order, "change");
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(["late0:RateLimitWaitError"]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(order).toEqual(["late0:RateLimitWaitError", "change0"]);
    expect(rl.snapshot(key())?.queued).toBe(4);
  });
});
