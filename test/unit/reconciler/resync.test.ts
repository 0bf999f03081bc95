import pino from "pino";
import { describe, expect, it } from "vitest";
import type { EcsInstanceAttributes } from "../../../src/api/index.js";
import { DEFAULT_CREDENTIALS } from "../../../src/cloud/client.js";
import { ResyncSweeper, type SweepTarget } from "../../../src/reconciler/resync.js";

function res(name: string, regionId: string, extra: Partial<EcsInstanceAttributes["metadata"]> = {}): EcsInstanceAttributes {
  return {
    apiVersion: "ecs.alicloud.dev/v1alpha1",
    kind: "EcsInstanceAttributes",
    metadata: { namespace: "ns", name, ...extra },
    spec: { instanceId: `i-${name}`, regionId, managementPolicy: "Apply" },
  };
}

describe("ResyncSweeper", () => {
  it("reads every instance ahead, grouped by target, before queueing every resource", async () => {
    const calls: Array<{ region: string; ids: readonly string[] }> = [];
    const order: string[] = [];
    const fleet = [
      ...Array.from({ length: 250 }, (_, i) => res(`a${i}`, "cn-hangzhou")),
      res("b0", "cn-beijing"),
      res("paused", "cn-hangzhou", { annotations: { "ecs.alicloud.dev/paused": "true" } }),
      res("nocreds", "cn-hangzhou"),
    ];
    const sweeper = new ResyncSweeper({
      periodMs: 60_000,
      resources: () => fleet,
      targetOf: (o): SweepTarget | undefined => (o.metadata.name === "nocreds" ? undefined : { credentials: DEFAULT_CREDENTIALS, regionId: o.spec.regionId }),
      prefetch: async (t, ids) => {
        calls.push({ region: t.regionId, ids });
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
    expect(calls[0]!.ids).not.toContain("i-nocreds");
    // Every resource is queued (paused and unresolvable ones report their state), after the reads.
    expect(order.slice(0, 2)).toEqual(["prefetch", "prefetch"]);
    expect(order.slice(2)).toHaveLength(fleet.length);
    expect(sweeper.rounds).toBe(1);
  });

  it("still queues the fleet when the read-ahead fails", async () => {
    const queued: string[] = [];
    const sweeper = new ResyncSweeper({
      periodMs: 60_000,
      resources: () => [res("a", "cn-hangzhou")],
      targetOf: (o) => ({ credentials: DEFAULT_CREDENTIALS, regionId: o.spec.regionId }),
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
