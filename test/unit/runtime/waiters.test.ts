import { describe, expect, it } from "vitest";
import { DependencyWaiters } from "../../../src/runtime/waiters.js";

describe("DependencyWaiters", () => {
  it("releases the keys waiting for one dependency, once, and leaves the others", () => {
    const w = new DependencyWaiters();
    w.wait("a", "ns/1");
    w.wait("a", "ns/2");
    w.wait("a", "ns/1");
    w.wait("b", "ns/3");
    expect(w.isWaiting("ns/1")).toBe(true);
    expect(w.release("a").sort()).toEqual(["ns/1", "ns/2"]);
    expect(w.isWaiting("ns/1")).toBe(false);
    expect(w.release("a")).toEqual([]);
    expect(w.release("b")).toEqual(["ns/3"]);
  });

  it("a key waits for its last failure's dependency only, and not after it is forgotten", () => {
    const w = new DependencyWaiters();
    w.wait("a", "ns/1");
    w.wait("b", "ns/1");
    expect(w.release("a")).toEqual([]);
    w.forget("ns/1");
    expect(w.isWaiting("ns/1")).toBe(false);
    expect(w.release("b")).toEqual([]);
  });
});
