import { describe, expect, it } from "vitest";
import { FaultInjector } from "../../../src/emulator/faults.js";

describe("FaultInjector", () => {
  it("fails exactly the next N matching calls, only for the named action", () => {
    const f = new FaultInjector();
    f.add({ action: "ModifyInstanceAttribute", code: "InternalError", count: 2 });
    const codes = [1, 2, 3].map(() => {
      const o = f.evaluate("ModifyInstanceAttribute", "k", "r");
      return o.type === "error" ? `${o.error.code}/${o.error.status}` : o.type;
    });
    expect(codes).toEqual(["InternalError/500", "InternalError/500", "none"]);
    expect(f.evaluate("DescribeInstances", "k", "r").type).toBe("none");
  });

  it("fails a fraction of calls according to the random source", () => {
    const seq = [0.1, 0.9, 0.4, 0.6];
    let n = 0;
    const f = new FaultInjector({ random: () => seq[n++ % seq.length]! });
    f.add({ action: "*", code: "ServiceUnavailable", rate: 0.5 });
    const types = seq.map(() => f.evaluate("X", "k", "r").type);
    expect(types).toEqual(["error", "none", "error", "none"]);
  });

  it("throttles per minute window with Throttling.User and x-acs-retry-after until the window ends", () => {
    let now = Date.parse("2026-01-01T00:00:10Z");
    const f = new FaultInjector({ now: () => now });
    f.add({ action: "DescribeInstances", kind: "throttle", limitPerMinute: 3 });
    const results = Array.from({ length: 5 }, () => f.evaluate("DescribeInstances", "k", "r"));
    expect(results.map((r) => r.type)).toEqual(["none", "none", "none", "error", "error"]);
    const last = results[4]!;
    expect(last.type === "error" && last.error.code).toBe("Throttling.User");
    expect(last.type === "error" && last.error.status).toBe(400);
    expect(last.type === "error" && last.error.headers["x-acs-retry-after"]).toBe("50000");
    // other keys and regions have their own budget
    expect(f.evaluate("DescribeInstances", "other-key", "r").type).toBe("none");
    // the next whole minute opens a new window
    now = Date.parse("2026-01-01T00:01:00Z");
    expect(f.evaluate("DescribeInstances", "k", "r").type).toBe("none");
  });

  it("first-call windows last 60 s from the first call", () => {
    let now = Date.parse("2026-01-01T00:00:59Z");
    const f = new FaultInjector({ now: () => now });
    f.add({ action: "*", kind: "throttle", limitPerMinute: 1, window: "first-call" });
    expect(f.evaluate("A", "k", "r").type).toBe("none");
    now += 2000; // crosses a wall-clock minute but not the 60 s window
    expect(f.evaluate("A", "k", "r").type).toBe("error");
    now += 58_000;
    expect(f.evaluate("A", "k", "r").type).toBe("none");
  });

  it("adds latency, fixed or within a range, and offers 502 pages and resets", () => {
    const f = new FaultInjector({ random: () => 0.5 });
    f.add({ action: "*", kind: "latency", latencyMs: 100 });
    f.add({ action: "*", kind: "latency", latencyMs: 10, latencyMaxMs: 20 });
    f.add({ action: "A", kind: "badGateway", count: 1 });
    f.add({ action: "B", kind: "reset", count: 1 });
    const a = f.evaluate("A", "k", "r");
    expect(a).toEqual({ type: "badGateway", delayMs: 115 });
    expect(f.evaluate("B", "k", "r").type).toBe("reset");
    expect(f.evaluate("A", "k", "r").type).toBe("none");
  });

  it("exponential latency: minimum plus an exponential tail with the given mean, capped", () => {
    const draws = [0.5, 0.999999];
    let n = 0;
    const f = new FaultInjector({ random: () => draws[n++]! });
    f.add({ action: "*", kind: "latency", distribution: "exponential", latencyMs: 10, latencyMeanMs: 100, latencyMaxMs: 500 });
    // rate check consumes one draw (0.5 < 1), the tail the next: -ln(1 - 0.999999) * 100 ≈ 1382 → capped at 490
    expect(f.evaluate("A", "k", "r").delayMs).toBe(500);
    const g = new FaultInjector({ random: () => 0.5 });
    g.add({ action: "*", kind: "latency", distribution: "exponential", latencyMs: 10, latencyMeanMs: 100 });
    expect(g.evaluate("A", "k", "r").delayMs).toBe(10 + Math.round(Math.log(2) * 100));
  });

  it("validates fault definitions and clears everything", () => {
    const f = new FaultInjector();
    expect(() => f.add({ kind: "error" })).toThrow(/needs a code/);
    expect(() => f.add({ kind: "throttle" })).toThrow(/limitPerMinute/);
    f.add({ code: "InternalError" });
    expect(f.list()).toHaveLength(1);
    f.clear();
    expect(f.list()).toHaveLength(0);
    expect(f.evaluate("A", "k", "r").type).toBe("none");
  });
});
