import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type EventApi, EventRecorder } from "../../../src/runtime/events.js";

/** Records API calls; patches of names in `gone` answer "not found". */
function fakeApi() {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const calls: Array<{ op: "create" | "patch"; ns: string; name?: string; body: Record<string, any> }> = [];
  const gone = new Set<string>();
  let n = 0;
  const api: EventApi = {
    async create(ns, body) {
      calls.push({ op: "create", ns, body });
      return { name: `ev-${++n}` };
    },
    async patch(ns, name, body) {
      calls.push({ op: "patch", ns, name, body });
      return !gone.has(name);
    },
  };
  return { api, calls, gone };
}

const res = (name: string, uid = `uid-${name}`) => ({
  apiVersion: "ecs.alicloud.dev/v1alpha1",
  kind: "EcsInstanceAttributes",
  metadata: { namespace: "team-a", name, uid, resourceVersion: "7" },
  spec: { password: "must-not-appear" },
});

describe("EventRecorder", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("creates one events.k8s.io/v1 Event with the object's identity only and a MicroTime eventTime", async () => {
    const { api, calls } = fakeApi();
    const rec = new EventRecorder({ api, reportingController: "ecs.alicloud.dev/ctl", reportingInstance: "pod-1" });
    rec.record(res("web"), "Warning", "ModifyFailed", "Throttling.User");
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    const body = calls[0]!.body;
    expect(calls[0]!.ns).toBe("team-a");
    expect(body).toMatchObject({
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: `web.${(BigInt(Date.parse("2026-01-01T00:00:00Z")) * 1_000_000n).toString(16)}`, namespace: "team-a" },
      eventTime: "2026-01-01T00:00:00.000000Z",
      reportingController: "ecs.alicloud.dev/ctl",
      reportingInstance: "pod-1",
      action: "ModifyFailed",
      reason: "ModifyFailed",
      note: "Throttling.User",
      type: "Warning",
      regarding: {
        apiVersion: "ecs.alicloud.dev/v1alpha1",
        kind: "EcsInstanceAttributes",
        name: "web",
        namespace: "team-a",
        uid: "uid-web",
        resourceVersion: "7",
      },
    });
    expect(JSON.stringify(body)).not.toContain("must-not-appear");
  });

  it("aggregates repeats into a series patched at most once per flush interval", async () => {
    const { api, calls } = fakeApi();
    const rec = new EventRecorder({ api, reportingController: "c", reportingInstance: "i", seriesFlushMs: 30_000 });
    for (let i = 0; i < 100; i++) {
      rec.record(res("web"), "Warning", "ModifyFailed", "Throttling.User");
      await vi.advanceTimersByTimeAsync(500); // 100 repeats over 50 s
    }
    await rec.flush();
    const creates = calls.filter((c) => c.op === "create");
    const patches = calls.filter((c) => c.op === "patch");
    expect(creates).toHaveLength(1);
    expect(patches.length).toBeGreaterThanOrEqual(1);
    expect(patches.length).toBeLessThanOrEqual(3); // 50 s / 30 s + the final flush
    expect(patches.at(-1)!.body["series"].count).toBe(100);
    expect(patches.at(-1)!.body["series"].lastObservedTime).toMatch(/\.\d{6}Z$/);
    expect(rec.stats).toMatchObject({ created: 1, aggregated: 99 });
  });

  it("different reasons, notes or objects are separate events", async () => {
    const { api, calls } = fakeApi();
    const rec = new EventRecorder({ api, reportingController: "c", reportingInstance: "i" });
    rec.record(res("web"), "Warning", "ModifyFailed", "A");
    rec.record(res("web"), "Warning", "ModifyFailed", "B");
    rec.record(res("web"), "Normal", "Applied", "A");
    rec.record(res("db"), "Warning", "ModifyFailed", "A");
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.filter((c) => c.op === "create")).toHaveLength(4);
  });

  it("a repeat after the series window starts a new Event", async () => {
    const { api, calls } = fakeApi();
    const rec = new EventRecorder({ api, reportingController: "c", reportingInstance: "i", seriesWindowMs: 60_000 });
    rec.record(res("web"), "Normal", "Applied", "ok");
    await vi.advanceTimersByTimeAsync(61_000);
    rec.record(res("web"), "Normal", "Applied", "ok");
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.filter((c) => c.op === "create")).toHaveLength(2);
  });

  it("recreates an expired Event with its series when the patch finds it gone", async () => {
    const { api, calls, gone } = fakeApi();
    const rec = new EventRecorder({ api, reportingController: "c", reportingInstance: "i" });
    rec.record(res("web"), "Warning", "X", "n");
    await vi.advanceTimersByTimeAsync(0);
    gone.add("ev-1");
    rec.record(res("web"), "Warning", "X", "n");
    rec.record(res("web"), "Warning", "X", "n");
    await rec.flush();
    const last = calls.at(-1)!;
    expect(last.op).toBe("create");
    expect(last.body["series"]).toMatchObject({ count: 3 });
  });

  it("limits distinct events per object (burst, then refill)", async () => {
    const { api, calls } = fakeApi();
    const rec = new EventRecorder({ api, reportingController: "c", reportingInstance: "i", burst: 5, refillMs: 60_000 });
    for (let i = 0; i < 20; i++) rec.record(res("flappy"), "Warning", "Flap", `message ${i}`);
    rec.record(res("calm"), "Normal", "Applied", "ok");
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.filter((c) => c.body["regarding"].name === "flappy")).toHaveLength(5);
    expect(calls.filter((c) => c.body["regarding"].name === "calm")).toHaveLength(1);
    expect(rec.stats.dropped).toBe(15);
    await vi.advanceTimersByTimeAsync(60_000);
    rec.record(res("flappy"), "Warning", "Flap", "after refill");
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.filter((c) => c.body["regarding"].name === "flappy")).toHaveLength(6);
  });

  it("never throws when the API fails, and truncates long notes to 1 kB", async () => {
    const api: EventApi = {
      create: async () => {
        throw new Error("HTTP 500");
      },
      patch: async () => true,
    };
    const rec = new EventRecorder({ api, reportingController: "c", reportingInstance: "i" });
    expect(() => rec.record(res("web"), "Warning", "X", "y".repeat(5000))).not.toThrow();
    await vi.advanceTimersByTimeAsync(0);
    expect(rec.stats.failed).toBe(1);
    const { api: ok, calls } = fakeApi();
    const rec2 = new EventRecorder({ api: ok, reportingController: "c", reportingInstance: "i" });
    rec2.record(res("web"), "Warning", "X", "y".repeat(5000));
    await vi.advanceTimersByTimeAsync(0);
    expect((calls[0]!.body["note"] as string).length).toBe(1024);
  });
});
