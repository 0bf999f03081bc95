import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backoffDelay, WorkQueue } from "../../../src/runtime/workqueue.js";

/** A worker whose calls stay pending until the test resolves them. */
function controllableWorker() {
  const calls: string[] = [];
  const pending = new Map<string, Array<(err?: Error) => void>>();
  let running = 0;
  let maxRunning = 0;
  const perKeyRunning = new Map<string, number>();
  let overlap = false;
  const worker = (key: string) =>
    new Promise<void>((resolve, reject) => {
      calls.push(key);
      running++;
      maxRunning = Math.max(maxRunning, running);
      const n = (perKeyRunning.get(key) ?? 0) + 1;
      perKeyRunning.set(key, n);
      if (n > 1) overlap = true;
      const list = pending.get(key) ?? [];
      list.push((err) => {
        running--;
        perKeyRunning.set(key, (perKeyRunning.get(key) ?? 1) - 1);
        if (err) reject(err);
        else resolve();
      });
      pending.set(key, list);
    });
  const finish = async (key: string, err?: Error) => {
    const list = pending.get(key);
    const f = list?.shift();
    if (!f) throw new Error(`no pending call for ${key}`);
    f(err);
    await vi.advanceTimersByTimeAsync(0);
  };
  return { worker, calls, finish, stats: () => ({ running, maxRunning, overlap }) };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

describe("WorkQueue", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("hands out low-priority keys only when no normal key waits; add() promotes a low key", async () => {
    const q = new WorkQueue({ concurrency: 1 });
    const w = controllableWorker();
    q.add("ns/busy");
    q.run(w.worker);
    q.addLowPriority("ns/r1");
    q.addLowPriority("ns/r2");
    q.addLowPriority("ns/r3");
    q.add("ns/change"); // a spec change arriving during a resync round
    q.add("ns/r3"); // promoted: an event for a key already queued for resync
    q.addLowPriority("ns/change"); // already queued at normal priority: no-op
    expect(q.depth).toBe(4);
    for (const k of ["ns/busy", "ns/change", "ns/r3", "ns/r1", "ns/r2"]) await w.finish(k);
    expect(w.calls).toEqual(["ns/busy", "ns/change", "ns/r3", "ns/r1", "ns/r2"]);
    await q.whenIdle();
  });

  it("lets I/O callbacks run between low-priority keys whose work never waits for I/O", async () => {
    vi.useRealTimers(); // the turn of the event loop is what is tested
    const q = new WorkQueue({ concurrency: 4 });
    const done: string[] = [];
    q.run(async (key) => {
      done.push(key); // a round's reconcile that found its read prefetched: no I/O at all
    });
    let doneWhenIoRan = -1;
    setImmediate(() => (doneWhenIoRan = done.length)); // stands for a watch event arriving meanwhile
    for (let i = 0; i < 200; i++) q.addLowPriority(`ns/r${i}`);
    await q.whenIdle();
    expect(done).toHaveLength(200);
    expect(doneWhenIoRan).toBeGreaterThanOrEqual(0);
    expect(doneWhenIoRan).toBeLessThan(200);
  });

  it("drops a low-priority add for a key being processed (no second run of the same round)", async () => {
    const q = new WorkQueue({ concurrency: 1 });
    const w = controllableWorker();
    q.add("ns/a");
    q.run(w.worker);
    q.addLowPriority("ns/a");
    await w.finish("ns/a");
    expect(w.calls).toEqual(["ns/a"]);
    expect(q.depth).toBe(0);
  });

  it("deduplicates a key added many times while queued", async () => {
    const q = new WorkQueue({ concurrency: 1 });
    const w = controllableWorker();
    q.add("ns/busy");
    q.run(w.worker); // ns/busy is taken at once
    for (let i = 0; i < 5; i++) q.add("ns/a");
    q.add("ns/b");
    q.add("ns/a");
    expect(q.depth).toBe(2);
    await w.finish("ns/busy");
    await w.finish("ns/a");
    await w.finish("ns/b");
    expect(w.calls).toEqual(["ns/busy", "ns/a", "ns/b"]);
    expect(q.depth).toBe(0);
  });

  it("never processes one key twice at once: an add during processing runs once, after it finishes", async () => {
    const q = new WorkQueue({ concurrency: 4 });
    const w = controllableWorker();
    q.run(w.worker);
    q.add("ns/a");
    await flush();
    expect(q.isProcessing("ns/a")).toBe(true);
    q.add("ns/a");
    q.add("ns/a");
    await flush();
    expect(w.calls).toEqual(["ns/a"]);
    expect(q.depth).toBe(0); // deferred, not queued while processing
    await w.finish("ns/a");
    expect(w.calls).toEqual(["ns/a", "ns/a"]);
    await w.finish("ns/a");
    expect(w.calls).toEqual(["ns/a", "ns/a"]);
    expect(w.stats().overlap).toBe(false);
  });

  it("bounds concurrency", async () => {
    const q = new WorkQueue({ concurrency: 3 });
    const w = controllableWorker();
    q.run(w.worker);
    for (let i = 0; i < 10; i++) q.add(`ns/k${i}`);
    await flush();
    expect(q.active).toBe(3);
    expect(q.depth).toBe(7);
    for (let i = 0; i < 10; i++) await w.finish(`ns/k${i}`);
    expect(w.calls).toHaveLength(10);
    expect(w.stats().maxRunning).toBe(3);
  });

  it("backoff doubles per failure from ~1 s and stops at the cap", () => {
    const noJitter = { baseMs: 1000, maxMs: 300_000, jitter: 0 };
    const delays = Array.from({ length: 12 }, (_, i) => backoffDelay(i + 1, noJitter));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000, 300000]);
    // jitter only ever adds, by at most the jitter fraction, and never exceeds the cap
    expect(backoffDelay(3, { jitter: 0.2 }, () => 0.999)).toBe(Math.round(4000 * 1.1998));
    expect(backoffDelay(30, { maxMs: 60_000, jitter: 0.2 }, () => 0.999)).toBe(60_000);
  });

  it("addRateLimited requeues after the growing backoff; forget resets it", async () => {
    const q = new WorkQueue({ backoff: { baseMs: 1000, maxMs: 8000, jitter: 0 } });
    const w = controllableWorker();
    q.run(w.worker);
    const delays: number[] = [];
    q.add("ns/a");
    for (let i = 0; i < 5; i++) {
      await flush();
      expect(w.calls).toHaveLength(i + 1);
      await w.finish("ns/a", new Error("boom"));
      const d = q.addRateLimited("ns/a");
      delays.push(d);
      await vi.advanceTimersByTimeAsync(d - 1);
      expect(w.calls).toHaveLength(i + 1); // not before the delay
      await vi.advanceTimersByTimeAsync(1);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(q.failures("ns/a")).toBe(5);
    q.forget("ns/a");
    expect(q.failures("ns/a")).toBe(0);
    await w.finish("ns/a");
    expect(q.addRateLimited("ns/a")).toBe(1000);
  });

  it("addAfter keeps the earliest time; a later schedule never delays an earlier one", async () => {
    const q = new WorkQueue();
    const w = controllableWorker();
    q.run(w.worker);
    q.addAfter("ns/a", 10_000);
    q.addAfter("ns/a", 3_000); // earlier: replaces
    q.addAfter("ns/a", 20_000); // later: ignored
    expect(q.scheduledAt("ns/a")).toBe(Date.now() + 3_000);
    await vi.advanceTimersByTimeAsync(2_999);
    expect(w.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(w.calls).toEqual(["ns/a"]);
    await w.finish("ns/a");
    // nothing left over from the superseded schedules
    await vi.advanceTimersByTimeAsync(30_000);
    expect(w.calls).toEqual(["ns/a"]);
  });

  it("an immediate add supersedes a pending schedule (earliest wins) without running twice", async () => {
    const q = new WorkQueue();
    const w = controllableWorker();
    q.run(w.worker);
    q.addAfter("ns/a", 60_000);
    q.add("ns/a");
    await flush();
    expect(w.calls).toEqual(["ns/a"]);
    await w.finish("ns/a");
    await vi.advanceTimersByTimeAsync(120_000);
    expect(w.calls).toEqual(["ns/a"]);
    expect(q.pendingScheduled).toBe(0);
  });

  it("a scheduled requeue that fires during processing runs once after the worker finishes", async () => {
    const q = new WorkQueue();
    const w = controllableWorker();
    q.run(w.worker);
    q.add("ns/a");
    await flush();
    q.addAfter("ns/a", 1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(w.calls).toEqual(["ns/a"]);
    await w.finish("ns/a");
    expect(w.calls).toEqual(["ns/a", "ns/a"]);
    expect(w.stats().overlap).toBe(false);
  });

  it("shutdown waits for in-flight work, ignores new adds and hands out nothing more", async () => {
    const q = new WorkQueue({ concurrency: 1 });
    const w = controllableWorker();
    q.run(w.worker);
    q.add("ns/a");
    q.add("ns/b");
    q.addAfter("ns/c", 500);
    await flush();
    const done = q.shutdown(10_000);
    q.add("ns/d");
    let result: Awaited<typeof done> | undefined;
    void done.then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(1000);
    expect(result).toBeUndefined(); // ns/a still running
    await w.finish("ns/a");
    expect(result).toEqual({ drained: true, abandoned: [] });
    await vi.advanceTimersByTimeAsync(5000);
    expect(w.calls).toEqual(["ns/a"]); // neither b (queued), c (scheduled) nor d (late add)
  });

  it("shutdown abandons in-flight work after the timeout", async () => {
    const q = new WorkQueue({ concurrency: 2 });
    const w = controllableWorker();
    q.run(w.worker);
    q.add("ns/slow");
    q.add("ns/fast");
    await flush();
    const done = q.shutdown(5_000);
    await w.finish("ns/fast");
    await vi.advanceTimersByTimeAsync(5_000);
    await expect(done).resolves.toEqual({ drained: false, abandoned: ["ns/slow"] });
  });

  it("a worker that throws does not stop the queue", async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    q.run(async (key) => {
      seen.push(key);
      throw new Error("unhandled in worker");
    });
    q.add("ns/a");
    q.add("ns/b");
    await flush();
    expect(seen).toEqual(["ns/a", "ns/b"]);
  });

  it("reports metrics hooks", async () => {
    const m = { adds: 0, retries: 0, depths: [] as number[], queued: [] as number[], work: [] as number[] };
    const q = new WorkQueue({
      metrics: {
        added: () => m.adds++,
        retried: () => m.retries++,
        depth: (n) => m.depths.push(n),
        queueDuration: (s) => m.queued.push(s),
        workDuration: (s) => m.work.push(s),
      },
    });
    q.add("ns/a");
    q.add("ns/a");
    await vi.advanceTimersByTimeAsync(2000);
    q.run(async () => {
      await new Promise((r) => setTimeout(r, 500));
    });
    await vi.advanceTimersByTimeAsync(500);
    q.addRateLimited("ns/a");
    expect(m.adds).toBe(1);
    expect(m.retries).toBe(1);
    expect(m.depths).toEqual([1, 0]);
    expect(m.queued).toEqual([2]);
    expect(m.work).toEqual([0.5]);
  });
});
