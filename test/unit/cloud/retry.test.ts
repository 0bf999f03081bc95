import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EcsError, type ErrorClass } from "../../../src/cloud/errors.js";
import { withRetry, type RetryPolicy } from "../../../src/cloud/retry.js";

const POLICY: Partial<RetryPolicy> = { retries: 3, minTimeoutMs: 500, factor: 2, maxTimeoutMs: 5000, randomize: false, maxRetryTimeMs: 20_000 };

function err(code: string, extra: { retryAfterMs?: number; errorClass?: ErrorClass } = {}): EcsError {
  return new EcsError({ code, message: code, action: "ModifyInstanceAttribute", ...extra });
}

/** An operation that fails with `errors` in order, then returns "ok"; records attempt times. */
function flaky(errors: EcsError[]) {
  const times: number[] = [];
  const start = Date.now();
  const fn = async () => {
    await Promise.resolve();
    times.push(Date.now() - start);
    const e = errors.shift();
    if (e) throw e;
    return "ok";
  };
  return { fn, times };
}

beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date", "performance"] }));
afterEach(() => vi.useRealTimers());

describe("withRetry", () => {
  it("retries transient errors with exponential backoff and succeeds", async () => {
    const { fn, times } = flaky([err("InternalError"), err("ServiceUnavailable"), err("Throttling.User", { retryAfterMs: 0 })]);
    const p = withRetry(fn, { policy: POLICY });
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(p).resolves.toBe("ok");
    expect(times).toEqual([0, 500, 1500, 3500]);
  });

  // Issue 13: waitForState is the error policy's state poll, and a connection failure is the
  // circuit breaker's; neither holds a worker in the call any more.
  for (const code of [
    "IncorrectInstanceStatus",
    "NetworkError",
    "InvalidHostName.Malformed",
    "InvalidInstanceId.NotFound",
    "InvalidAccessKeyId.NotFound",
    "InstanceLockedForSecurity",
  ]) {
    it(`does not retry ${code}`, async () => {
      const e = err(code);
      const { fn, times } = flaky([e]);
      const p = withRetry(fn, { policy: POLICY });
      const caught = p.catch((x: unknown) => x);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(await caught).toBe(e);
      expect(times).toEqual([0]);
    });
  }

  it("throws the last EcsError when the retry budget is spent", async () => {
    const last = err("InternalError");
    const { fn, times } = flaky([err("InternalError"), err("InternalError"), err("InternalError"), last, err("InternalError")]);
    const caught = withRetry(fn, { policy: POLICY }).catch((x: unknown) => x);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await caught).toBe(last);
    expect(times).toHaveLength(4); // 1 + 3 retries
  });

  it("stops when the total time budget is spent", async () => {
    const errors = Array.from({ length: 20 }, () => err("InternalError"));
    const { fn, times } = flaky(errors);
    const caught = withRetry(fn, { policy: { ...POLICY, retries: 20, maxTimeoutMs: 4000, maxRetryTimeMs: 10_000 } }).catch((x: unknown) => x);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(await caught).toBeInstanceOf(EcsError);
    expect(times.at(-1)!).toBeLessThanOrEqual(10_000);
    expect(times.length).toBeLessThan(20);
  });

  it("never starts the next attempt before retry-after", async () => {
    const { fn, times } = flaky([err("Throttling.User", { retryAfterMs: 3000 })]);
    const p = withRetry(fn, { policy: POLICY });
    await vi.advanceTimersByTimeAsync(2999);
    expect(times).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    await expect(p).resolves.toBe("ok");
    expect(times).toEqual([0, 3000]);
  });

  it("gives up at once when retry-after lies beyond the budget (the work queue takes over)", async () => {
    const e = err("Throttling.User", { retryAfterMs: 39_500 });
    const { fn, times } = flaky([e]);
    const caught = withRetry(fn, { policy: POLICY }).catch((x: unknown) => x);
    await vi.advanceTimersByTimeAsync(0);
    expect(await caught).toBe(e);
    expect(times).toEqual([0]);
  });

  it("aborting during a backoff rejects with the signal's reason and makes no further attempt", async () => {
    const { fn, times } = flaky([err("InternalError"), err("InternalError")]);
    const ac = new AbortController();
    const caught = withRetry(fn, { policy: POLICY, signal: ac.signal }).catch((x: unknown) => x);
    await vi.advanceTimersByTimeAsync(200);
    ac.abort(new Error("shutting down"));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(((await caught) as Error).message).toBe("shutting down");
    expect(times).toEqual([0]);
  });

  it("aborting during a retry-after wait also stops", async () => {
    const { fn, times } = flaky([err("Throttling.User", { retryAfterMs: 5000 })]);
    const ac = new AbortController();
    const caught = withRetry(fn, { policy: POLICY, signal: ac.signal }).catch((x: unknown) => x);
    await vi.advanceTimersByTimeAsync(1000);
    ac.abort(new Error("stop"));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(((await caught) as Error).message).toBe("stop");
    expect(times).toEqual([0]);
  });

  it("reports each retry with its delay", async () => {
    const events: { code: string; attempt: number; delayMs: number }[] = [];
    const { fn } = flaky([err("InternalError"), err("Throttling", { retryAfterMs: 2500 })]);
    const p = withRetry(fn, { policy: POLICY, onRetry: ({ error, attempt, delayMs }) => events.push({ code: error.code, attempt, delayMs }) });
    await vi.advanceTimersByTimeAsync(5000);
    await p;
    expect(events).toEqual([
      { code: "InternalError", attempt: 1, delayMs: 500 },
      { code: "Throttling", attempt: 2, delayMs: 2500 },
    ]);
  });

  it("jitter keeps each wait within [base, 2×base)", async () => {
    const delays: number[] = [];
    const { fn } = flaky([err("InternalError"), err("InternalError"), err("InternalError")]);
    const p = withRetry(fn, { policy: { ...POLICY, randomize: true }, onRetry: ({ delayMs }) => delays.push(delayMs) });
    await vi.advanceTimersByTimeAsync(20_000);
    await p;
    expect(delays).toHaveLength(3);
    [500, 1000, 2000].forEach((base, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(base);
      expect(delays[i]).toBeLessThan(2 * base);
    });
  });

  it("does not retry a connect timeout, but retries a read timeout", async () => {
    const connect = err("RequestTimeout");
    Object.defineProperty(connect, "message", { value: "connect timeout talking to the ECS endpoint" });
    const first = flaky([connect]);
    const caught = withRetry(first.fn, { policy: POLICY }).catch((x: unknown) => x);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await caught).toBe(connect);
    expect(first.times).toEqual([0]);

    const read = err("RequestTimeout");
    Object.defineProperty(read, "message", { value: "read timeout talking to the ECS endpoint" });
    const second = flaky([read]);
    const p = withRetry(second.fn, { policy: POLICY });
    await vi.advanceTimersByTimeAsync(1000);
    await expect(p).resolves.toBe("ok");
    expect(second.times).toHaveLength(2);
  });

  it("passes anything that is not an EcsError through at once (ecs.ts converts SDK errors, once)", async () => {
    let n = 0;
    const raw = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const fn = async () => {
      await Promise.resolve();
      n++;
      throw raw;
    };
    const caught = withRetry(fn, { policy: POLICY }).catch((x: unknown) => x);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await caught).toBe(raw);
    expect(n).toBe(1);
  });

  it("takes a custom retry predicate", async () => {
    const { fn, times } = flaky([err("IncorrectInstanceStatus")]);
    const p = withRetry(fn, { policy: POLICY, shouldRetry: (e) => e.errorClass === "waitForState" });
    await vi.advanceTimersByTimeAsync(1000);
    await expect(p).resolves.toBe("ok");
    expect(times).toHaveLength(2);
  });
});
