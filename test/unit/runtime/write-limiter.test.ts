import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { KubeWriteLimiter } from "../../../src/runtime/write-limiter.js";

describe("KubeWriteLimiter", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("lets a burst through, then paces writes at qps", async () => {
    const lim = new KubeWriteLimiter(10, 3);
    const done: number[] = [];
    const start = Date.now();
    for (let i = 0; i < 6; i++) void lim.acquire().then(() => done.push(Date.now() - start));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toEqual([0, 0, 0]);
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(200);
    expect(done).toHaveLength(6);
    expect(done[5]).toBeGreaterThanOrEqual(300);
  });
});
