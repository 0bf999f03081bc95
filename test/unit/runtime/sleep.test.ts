import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { wakeableSleep } from "../../../src/runtime/sleep.js";

describe("wakeableSleep", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const settled = async (p: Promise<void>) => {
    let done = false;
    void p.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    return done;
  };

  it("resolves after the delay", async () => {
    const s = wakeableSleep(1_000);
    expect(await settled(s.done)).toBe(false);
    await vi.advanceTimersByTimeAsync(999);
    expect(await settled(s.done)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(s.done)).toBe(true);
  });

  it("wake() resolves it at once and clears the timer", async () => {
    const s = wakeableSleep(60_000);
    s.wake();
    expect(await settled(s.done)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});
