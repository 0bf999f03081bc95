import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EcsError } from "../../../src/emulator/errors.js";
import { Store } from "../../../src/emulator/state.js";

describe("instance state machine", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function store(): Store {
    const s = new Store({ delays: { stopMs: 1000, startMs: 2000 } });
    s.applySeed({ instances: [{ instanceId: "i-1" }] });
    return s;
  }

  it("stop: Running → Stopping → Stopped after the stop delay", () => {
    const s = store();
    s.stop("i-1");
    expect(s.getInstance("i-1").status).toBe("Stopping");
    vi.advanceTimersByTime(999);
    expect(s.getInstance("i-1").status).toBe("Stopping");
    vi.advanceTimersByTime(1);
    expect(s.getInstance("i-1").status).toBe("Stopped");
  });

  it("start: Stopped → Starting → Running after the start delay, counting the restart", () => {
    const s = store();
    s.setStatus("i-1", "Stopped");
    s.start("i-1");
    expect(s.getInstance("i-1").status).toBe("Starting");
    vi.advanceTimersByTime(2000);
    expect(s.getInstance("i-1")).toMatchObject({ status: "Running", restartCount: 1 });
  });

  it("reboot goes through Stopping and Starting and clears pending password/hostname changes", () => {
    const s = store();
    s.getInstance("i-1").restartPending = { password: true, hostName: true, userData: false };
    s.reboot("i-1");
    expect(s.getInstance("i-1").status).toBe("Stopping");
    vi.advanceTimersByTime(1000);
    expect(s.getInstance("i-1").status).toBe("Starting");
    vi.advanceTimersByTime(2000);
    expect(s.getInstance("i-1").status).toBe("Running");
    expect(s.getInstance("i-1").restartPending).toEqual({ password: false, hostName: false, userData: false });
  });

  it("rejects transitions from the wrong state with IncorrectInstanceStatus", () => {
    const s = store();
    const code = (fn: () => void): string => {
      try {
        fn();
        return "OK";
      } catch (e) {
        return (e as EcsError).code;
      }
    };
    expect(code(() => s.start("i-1"))).toBe("IncorrectInstanceStatus");
    s.stop("i-1");
    expect(code(() => s.stop("i-1"))).toBe("IncorrectInstanceStatus");
    expect(code(() => s.reboot("i-1"))).toBe("IncorrectInstanceStatus");
    expect(code(() => s.stop("i-nope"))).toBe("InvalidInstanceId.NotFound");
  });

  it("a forced status cancels the transition in flight", () => {
    const s = store();
    s.stop("i-1");
    s.setStatus("i-1", "Running");
    vi.advanceTimersByTime(5000);
    expect(s.getInstance("i-1").status).toBe("Running");
  });
});
