import pino from "pino";
import { describe, expect, it } from "vitest";
import { ResyncSweeper } from "../../../src/runtime/resync.js";

interface Obj {
  metadata: { namespace: string; name: string; annotations?: Record<string, string> };
  spec: { id: string; region: string };
}

function res(name: string, region: string, annotations?: Record<string, string>): Obj {
  return { metadata: { namespace: "ns", name, ...(annotations ? { annotations } : {}) }, spec: { id: `i-${name}`, region } };
}

describe("ResyncSweeper", () => {
  it("reads every object ahead, one call per group, before queueing every object", async () => {
    const calls: Array<{ region: string; ids: readonly string[] }> = [];
    const order: string[] = [];
    const fleet = [
      ...Array.from({ length: 250 }, (_, i) => res(`a${i}`, "cn-hangzhou")),
      res("b0", "cn-beijing"),
      res("paused", "cn-hangzhou", { paused: "true" }),
    ];
    const sweeper = new ResyncSweeper<Obj, string>({
      periodMs: 60_000,
      resources: () => fleet,
      // Skipping is the caller's choice (the controller skips paused resources and unresolvable credentials).
      readAhead: (o) => (o.metadata.annotations?.["paused"] ? undefined : { group: o.spec.region, target: o.spec.region, id: o.spec.id }),
      prefetch: async (region, ids) => {
        calls.push({ region, ids });
        order.push("prefetch");
      },
      enqueue: (k) => order.push(k),
      log: pino({ level: "silent" }),
    });
    await sweeper.round();
    expect(calls.map((c) => [c.region, c.ids.length])).toEqual([
      ["cn-hangzhou", 250],
      ["cn-beijing", 1],
    ]);
    expect(calls[0]!.ids).not.toContain("i-paused");
    // Every object is queued (skipped ones too: their reconcile reports their state), after the reads.
    expect(order.slice(0, 2)).toEqual(["prefetch", "prefetch"]);
    expect(order.slice(2)).toHaveLength(fleet.length);
    expect(sweeper.rounds).toBe(1);
  });

  it("still queues the fleet when the read-ahead fails", async () => {
    const queued: string[] = [];
    const sweeper = new ResyncSweeper<Obj, string>({
      periodMs: 60_000,
      resources: () => [res("a", "cn-hangzhou")],
      readAhead: (o) => ({ group: o.spec.region, target: o.spec.region, id: o.spec.id }),
      prefetch: async () => {
        throw new Error("Throttling.User");
      },
      enqueue: (k) => queued.push(k),
      log: pino({ level: "silent" }),
    });
    await sweeper.round();
    expect(queued).toEqual(["ns/a"]);
  });
});
