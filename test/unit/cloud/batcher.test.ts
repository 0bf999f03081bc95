import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Batcher, chunk, collectPages } from "../../../src/cloud/batcher.js";

interface Group {
  account: string;
  region: string;
}

/** A fake "ECS" that knows some IDs and records each batch it is asked for. */
function fakeFetch(known: Set<string>, opts: { fail?: Error; delayMs?: number } = {}) {
  const calls: { group: Group; ids: string[] }[] = [];
  const fetch = async (group: Group, ids: readonly string[]) => {
    calls.push({ group, ids: [...ids] });
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (opts.fail) throw opts.fail;
    return new Map(ids.filter((id) => known.has(id)).map((id) => [id, { id, region: group.region }]));
  };
  return { calls, fetch };
}

const G: Group = { account: "a", region: "cn-hangzhou" };
const groupKey = (g: Group) => `${g.account}|${g.region}`;
const ids = (n: number, prefix = "i-") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("Batcher", () => {
  it("coalesces concurrent gets into batches of at most 100 distinct IDs", async () => {
    const all = ids(250);
    const { calls, fetch } = fakeFetch(new Set(all));
    const b = new Batcher({ fetch, groupKey, windowMs: 5 });
    const results = Promise.all(all.map((id) => b.get(G, id)));
    await vi.advanceTimersByTimeAsync(5);
    const got = await results;
    expect(calls.map((c) => c.ids.length)).toEqual([100, 100, 50]);
    expect(new Set(calls.flatMap((c) => c.ids)).size).toBe(250);
    expect(got.map((r) => r?.id)).toEqual(all);
  });

  it("waits for the collection window before sending a partial batch", async () => {
    const { calls, fetch } = fakeFetch(new Set(["i-1", "i-2"]));
    const b = new Batcher({ fetch, groupKey, windowMs: 5 });
    const p1 = b.get(G, "i-1");
    await vi.advanceTimersByTimeAsync(3);
    const p2 = b.get(G, "i-2");
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2);
    expect(calls).toEqual([{ group: G, ids: ["i-1", "i-2"] }]);
    expect((await p1)?.id).toBe("i-1");
    expect((await p2)?.id).toBe("i-2");
  });

  it("returns null for IDs the batch did not return, and dedups repeated IDs", async () => {
    const { calls, fetch } = fakeFetch(new Set(["i-1"]));
    const b = new Batcher({ fetch, groupKey });
    const all = Promise.all([b.get(G, "i-1"), b.get(G, "i-1"), b.get(G, "i-gone")]);
    await vi.advanceTimersByTimeAsync(5);
    const [a, a2, gone] = await all;
    expect(a?.id).toBe("i-1");
    expect(a2?.id).toBe("i-1");
    expect(gone).toBeNull();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.ids).toEqual(["i-1", "i-gone"]);
  });

  it("keeps groups (credentials, region) apart", async () => {
    const { calls, fetch } = fakeFetch(new Set(["i-1"]));
    const b = new Batcher({ fetch, groupKey });
    const p = Promise.all([b.get(G, "i-1"), b.get({ account: "a", region: "eu-central-1" }, "i-1"), b.get({ account: "b", region: "cn-hangzhou" }, "i-1")]);
    await vi.advanceTimersByTimeAsync(5);
    const got = await p;
    expect(calls).toHaveLength(3);
    expect(got.map((r) => r?.region)).toEqual(["cn-hangzhou", "eu-central-1", "cn-hangzhou"]);
  });

  it("rejects every caller of a failed batch with the batch's error", async () => {
    const boom = new Error("Throttling.User");
    const { fetch } = fakeFetch(new Set(["i-1", "i-2"]), { fail: boom });
    const b = new Batcher({ fetch, groupKey });
    const p1 = b.get(G, "i-1");
    const p2 = b.get(G, "i-2");
    const both = Promise.allSettled([p1, p2]);
    await vi.advanceTimersByTimeAsync(5);
    const settled = await both;
    expect(settled.map((s) => (s.status === "rejected" ? s.reason : s.value))).toEqual([boom, boom]);
  });

  it("an aborted caller is detached: its ID is not sent if nobody else wants it", async () => {
    const { calls, fetch } = fakeFetch(new Set(["i-1", "i-2"]));
    const b = new Batcher({ fetch, groupKey });
    const ac = new AbortController();
    const p1 = b.get(G, "i-1", ac.signal);
    const p2 = b.get(G, "i-2");
    ac.abort(new Error("cancelled"));
    await expect(p1).rejects.toThrow("cancelled");
    await vi.advanceTimersByTimeAsync(5);
    expect((await p2)?.id).toBe("i-2");
    expect(calls[0]!.ids).toEqual(["i-2"]);
  });

  it("an abort while the batch is in flight rejects that caller only", async () => {
    const { fetch } = fakeFetch(new Set(["i-1"]), { delayMs: 50 });
    const b = new Batcher({ fetch, groupKey });
    const ac = new AbortController();
    const p1 = b.get(G, "i-1", ac.signal);
    const p2 = b.get(G, "i-1");
    await vi.advanceTimersByTimeAsync(10);
    ac.abort(new Error("cancelled"));
    await expect(p1).rejects.toThrow("cancelled");
    await vi.advanceTimersByTimeAsync(50);
    expect((await p2)?.id).toBe("i-1");
  });

  it("a batch that fills up is sent without waiting for the window", async () => {
    const { calls, fetch } = fakeFetch(new Set(ids(3)));
    const b = new Batcher({ fetch, groupKey, maxBatch: 3, windowMs: 1000 });
    const p = Promise.all(ids(3).map((id) => b.get(G, id)));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    await p;
  });
});

/** An `admit` whose token waits the test resolves (or refuses) one by one, in order. */
function tokens() {
  const waits: { resolve: () => void; reject: (e: unknown) => void; signal: AbortSignal }[] = [];
  const admit = (_g: Group, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      waits.push({ resolve, reject, signal });
    });
  return { waits, admit };
}

describe("Batcher with a token wait (admit)", () => {
  it("keeps the batch open while it waits for its token: reads arriving meanwhile join it", async () => {
    const all = ids(40);
    const { calls, fetch } = fakeFetch(new Set(all));
    const { waits, admit } = tokens();
    const b = new Batcher({ fetch, groupKey, admit, windowMs: 5 });
    const results = [b.get(G, all[0]!)];
    // One read every 10 ms, far apart compared with the window: without the token wait each would go alone.
    for (const id of all.slice(1)) {
      await vi.advanceTimersByTimeAsync(10);
      results.push(b.get(G, id));
    }
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toHaveLength(0);
    expect(waits).toHaveLength(1);
    waits[0]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.ids)).toEqual([all]);
    expect((await Promise.all(results)).map((r) => r?.id)).toEqual(all);
  });

  it("a full batch stops taking IDs; the next ID opens another batch with its own token wait", async () => {
    const all = ids(150);
    const { calls, fetch } = fakeFetch(new Set(all));
    const { waits, admit } = tokens();
    const b = new Batcher({ fetch, groupKey, admit, windowMs: 5 });
    const results = Promise.all(all.map((id) => b.get(G, id)));
    await vi.advanceTimersByTimeAsync(5);
    expect(waits).toHaveLength(2);
    expect(calls).toHaveLength(0);
    waits[0]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.ids.length)).toEqual([100]);
    waits[1]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.ids.length)).toEqual([100, 50]);
    expect((await results).every((r, i) => r?.id === all[i])).toBe(true);
  });

  it("a token granted at once still waits for the window (reads of the same moment share a call)", async () => {
    const { calls, fetch } = fakeFetch(new Set(ids(3)));
    const b = new Batcher({ fetch, groupKey, admit: () => Promise.resolve(), windowMs: 5 });
    const p = Promise.all(ids(3).map((id) => b.get(G, id)));
    await vi.advanceTimersByTimeAsync(4);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.ids)).toEqual([ids(3)]);
    await p;
  });

  it("a refused token wait fails every caller of the batch, and nothing is sent", async () => {
    const { calls, fetch } = fakeFetch(new Set(ids(2)));
    const { waits, admit } = tokens();
    const b = new Batcher({ fetch, groupKey, admit });
    const both = Promise.allSettled(ids(2).map((id) => b.get(G, id)));
    await vi.advanceTimersByTimeAsync(5);
    const refused = new Error("client-side rate limit");
    waits[0]!.reject(refused);
    expect((await both).map((r) => (r.status === "rejected" ? r.reason : r.value))).toEqual([refused, refused]);
    expect(calls).toHaveLength(0);
    // The next read opens a new batch.
    const next = b.get(G, "i-0");
    await vi.advanceTimersByTimeAsync(5);
    waits[1]!.resolve();
    expect((await next)?.id).toBe("i-0");
  });

  it("a batch whose callers all left gives up its token wait", async () => {
    const { calls, fetch } = fakeFetch(new Set(["i-1"]));
    const { waits, admit } = tokens();
    const b = new Batcher({ fetch, groupKey, admit });
    const ac = new AbortController();
    const p = b.get(G, "i-1", ac.signal);
    await vi.advanceTimersByTimeAsync(5);
    expect(waits[0]!.signal.aborted).toBe(false);
    ac.abort(new Error("cancelled"));
    await expect(p).rejects.toThrow("cancelled");
    expect(waits[0]!.signal.aborted).toBe(true);
    waits[0]!.resolve();
    await vi.advanceTimersByTimeAsync(5);
    expect(calls).toHaveLength(0);
  });
});

describe("collectPages", () => {
  it("follows NextToken until it is empty", async () => {
    const pages: Record<string, { items: number[]; nextToken?: string }> = {
      "": { items: [1, 2], nextToken: "t1" },
      t1: { items: [3, 4], nextToken: "t2" },
      t2: { items: [5] },
    };
    const seen: (string | undefined)[] = [];
    const out = await collectPages((token) => {
      seen.push(token);
      return Promise.resolve(pages[token ?? ""]!);
    });
    expect(out).toEqual([1, 2, 3, 4, 5]);
    expect(seen).toEqual([undefined, "t1", "t2"]);
  });

  it("stops on a repeated token instead of looping", async () => {
    await expect(collectPages(() => Promise.resolve({ items: [1], nextToken: "same" }))).rejects.toThrow(/repeated/);
  });

  it("stops after maxPages", async () => {
    let n = 0;
    await expect(collectPages(() => Promise.resolve({ items: [], nextToken: `t${n++}` }), 5)).rejects.toThrow(/5 pages/);
  });
});

describe("chunk", () => {
  it("splits into chunks of at most size", () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 100)).toEqual([]);
  });
});
