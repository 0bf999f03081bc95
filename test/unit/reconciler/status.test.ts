import { describe, expect, it } from "vitest";
import type { EcsInstanceAttributesStatus } from "../../../src/api/index.js";
import { jsonEqual, statusNeedsWrite } from "../../../src/reconciler/status.js";

describe("jsonEqual (status comparison, as the API server would store the values)", () => {
  it("ignores key order at every depth", () => {
    expect(jsonEqual({ a: 1, b: { c: [1, { d: "x", e: true }] } }, { b: { c: [1, { e: true, d: "x" }] }, a: 1 })).toBe(true);
  });
  it("treats a key holding undefined as absent, on either side", () => {
    expect(jsonEqual({ a: 1, error: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, pendingChanges: undefined })).toBe(true);
  });
  it("tells apart a changed value, a missing key, array order and length, null from absent", () => {
    expect(jsonEqual({ a: 1 }, { a: 2 })).toBe(false);
    expect(jsonEqual({ a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual({ ids: ["sg-1", "sg-2"] }, { ids: ["sg-2", "sg-1"] })).toBe(false);
    expect(jsonEqual({ ids: ["sg-1"] }, { ids: ["sg-1", "sg-2"] })).toBe(false);
    expect(jsonEqual({ a: null }, {})).toBe(false);
    expect(jsonEqual({ a: [] }, { a: {} })).toBe(false);
    expect(jsonEqual({ a: "1" }, { a: 1 })).toBe(false);
  });
});

describe("statusNeedsWrite", () => {
  const now = new Date("2026-12-03T12:00:00Z");
  const cond = { type: "Ready", status: "True" as const, reason: "Synced", message: "", lastTransitionTime: "2026-12-03T11:00:00Z", observedGeneration: 2 };
  const prev: EcsInstanceAttributesStatus = { observedGeneration: 2, conditions: [cond], lastSyncTime: "2026-12-03T11:59:00Z" };

  it("is false when only key order differs and lastSyncTime is recent", () => {
    const next = { conditions: [{ ...cond }], observedGeneration: 2, error: undefined, lastSyncTime: "2026-12-03T12:00:00Z" };
    expect(statusNeedsWrite(prev, next, now, 300_000)).toBe(false);
  });
  it("is true when a condition changes", () => {
    const next = { ...prev, conditions: [{ ...cond, status: "False" as const, reason: "TransientError" }] };
    expect(statusNeedsWrite(prev, next, now, 300_000)).toBe(true);
  });
  it("is true when lastSyncTime alone is older than the refresh interval", () => {
    const next = { ...prev, lastSyncTime: "2026-12-03T12:00:00Z" };
    expect(statusNeedsWrite({ ...prev, lastSyncTime: "2026-12-03T11:50:00Z" }, next, now, 300_000)).toBe(true);
  });
});
