import { describe, expect, it, vi } from "vitest";
import { type BreakerTransition, CircuitBreakers } from "../../../src/cloud/breaker.js";
import { EcsError } from "../../../src/cloud/errors.js";

const refused = () => new EcsError({ code: "NetworkError", message: "network error ECONNREFUSED talking to the ECS endpoint", action: "DescribeInstances" });

function setup() {
  let t = 0;
  const transitions: BreakerTransition[] = [];
  const b = new CircuitBreakers({ failureThreshold: 3, coolDownMs: 5_000, now: () => t, onStateChange: (x) => transitions.push(x) });
  return { b, transitions, advance: (ms: number) => (t += ms) };
}

describe("CircuitBreakers", () => {
  it("opens after N consecutive connection failures and then fails fast with the last error, as a transient error", () => {
    const { b, transitions } = setup();
    for (let i = 0; i < 2; i++) {
      b.admit("A", "DescribeInstances");
      b.failed("A", refused());
    }
    expect(b.state("A")).toBe("closed");
    b.failed("A", refused());
    expect(b.state("A")).toBe("open");
    expect(transitions).toEqual([expect.objectContaining({ endpoint: "A", from: "closed", to: "open" })]);
    let thrown: unknown;
    try {
      b.admit("A", "ModifyInstanceAttribute");
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(EcsError);
    expect(thrown).toMatchObject({ code: "NetworkError", errorClass: "transient", action: "ModifyInstanceAttribute" });
  });

  it("keeps endpoints apart: B is admitted while A is open", () => {
    const { b } = setup();
    for (let i = 0; i < 3; i++) b.failed("A", refused());
    expect(() => b.admit("A", "DescribeInstances")).toThrow(EcsError);
    expect(() => b.admit("B", "DescribeInstances")).not.toThrow();
  });

  it("an answer resets the count: failures must be consecutive", () => {
    const { b } = setup();
    b.failed("A", refused());
    b.failed("A", refused());
    b.reached("A");
    b.failed("A", refused());
    b.failed("A", refused());
    expect(b.state("A")).toBe("closed");
  });

  it("after the cool-down lets one probe through (half-open); its success closes the circuit", () => {
    const { b, transitions, advance } = setup();
    for (let i = 0; i < 3; i++) b.failed("A", refused());
    advance(4_999);
    expect(() => b.admit("A", "DescribeInstances")).toThrow();
    advance(1);
    expect(() => b.admit("A", "DescribeInstances")).not.toThrow();
    expect(b.state("A")).toBe("halfOpen");
    // Others keep failing fast while the probe is out.
    expect(() => b.admit("A", "DescribeInstances")).toThrow();
    b.reached("A");
    expect(b.state("A")).toBe("closed");
    expect(() => b.admit("A", "DescribeInstances")).not.toThrow();
    expect(transitions.map((x) => x.to)).toEqual(["open", "halfOpen", "closed"]);
  });

  it("a failed probe re-opens the circuit for another cool-down", () => {
    const { b, advance } = setup();
    for (let i = 0; i < 3; i++) b.failed("A", refused());
    advance(5_000);
    b.admit("A", "DescribeInstances");
    b.failed("A", refused());
    expect(b.state("A")).toBe("open");
    advance(4_000);
    expect(() => b.admit("A", "DescribeInstances")).toThrow();
    advance(1_000);
    expect(() => b.admit("A", "DescribeInstances")).not.toThrow();
  });

  it("a probe that never reports is replaced after another cool-down", () => {
    const { b, advance } = setup();
    for (let i = 0; i < 3; i++) b.failed("A", refused());
    advance(5_000);
    b.admit("A", "DescribeInstances"); // aborted: neither reached nor failed
    expect(() => b.admit("A", "DescribeInstances")).toThrow();
    advance(5_000);
    expect(() => b.admit("A", "DescribeInstances")).not.toThrow();
  });
});

describe("CircuitBreakers: the probe after a cool-down", () => {
  it("probes an open endpoint by itself after the cool-down: an answer closes the circuit, none re-opens it", async () => {
    vi.useFakeTimers();
    try {
      let reachable = false;
      const probes: string[] = [];
      const transitions: string[] = [];
      const b = new CircuitBreakers({
        coolDownMs: 5_000,
        probe: async (e) => (probes.push(e), reachable),
        onStateChange: (t) => transitions.push(t.to),
      });
      for (let i = 0; i < 3; i++) b.failed("A", refused());
      await vi.advanceTimersByTimeAsync(5_000);
      expect(probes).toEqual(["A"]);
      expect(b.state("A")).toBe("open");
      reachable = true;
      await vi.advanceTimersByTimeAsync(5_000);
      expect(probes).toEqual(["A", "A"]);
      expect(b.state("A")).toBe("closed");
      expect(transitions).toEqual(["open", "halfOpen", "open", "halfOpen", "closed"]);
      // Closed: no more probes.
      await vi.advanceTimersByTimeAsync(20_000);
      expect(probes).toHaveLength(2);
      b.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("a call that became the probe and never reported does not leave the circuit half-open: the timer probes again", async () => {
    vi.useFakeTimers();
    try {
      const probes: string[] = [];
      const b = new CircuitBreakers({ coolDownMs: 5_000, probe: async (e) => (probes.push(e), true) });
      for (let i = 0; i < 3; i++) b.failed("A", refused());
      await vi.advanceTimersByTimeAsync(4_000);
      vi.setSystemTime(Date.now() + 1_500);
      b.admit("A", "DescribeInstances"); // this call is the probe, and is aborted: no verdict
      expect(b.state("A")).toBe("halfOpen");
      await vi.advanceTimersByTimeAsync(10_000); // two cool-downs: re-opened, which arms the timer probe
      await vi.advanceTimersByTimeAsync(5_000);
      expect(probes).toEqual(["A"]);
      expect(b.state("A")).toBe("closed");
      b.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
