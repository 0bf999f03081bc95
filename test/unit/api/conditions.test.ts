import { existsSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Condition,
  ConditionType,
  getCondition,
  isConditionTrue,
  Reason,
  reasonFromEcsCode,
  removeCondition,
  setCondition,
  UNKNOWN_ECS_ERROR_REASON,
} from "../../../src/api/index.js";
import { ECS_ERROR_CODES } from "./ecs-error-codes.js";

// Written out here (not imported) so the test checks the code against apimachinery's pattern.
const K8S_REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const K8S_TYPE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;

describe("reasonFromEcsCode", () => {
  it.each(ECS_ERROR_CODES)("maps %s to a condition-safe reason", (code) => {
    const reason = reasonFromEcsCode(code);
    expect(reason).toMatch(K8S_REASON);
    expect(reason.length).toBeLessThanOrEqual(1024);
    expect(reason).not.toContain(".");
    // Nothing but the separators is lost: the letters and digits of the code survive in order.
    expect(reason.toLowerCase()).toBe(code.replaceAll(".", "").toLowerCase());
  });

  it("keeps different codes apart (no two codes in the reference share a reason)", () => {
    const reasons = new Map<string, string>();
    for (const code of ECS_ERROR_CODES) {
      const r = reasonFromEcsCode(code);
      expect(reasons.get(r), `${code} collides with ${reasons.get(r)}`).toBeUndefined();
      reasons.set(r, code);
    }
    expect(reasons.size).toBe(new Set(ECS_ERROR_CODES).size);
  });

  it("joins segments in UpperCamelCase", () => {
    expect(reasonFromEcsCode("InvalidHostName.Malformed")).toBe("InvalidHostNameMalformed");
    expect(reasonFromEcsCode("Throttling.User")).toBe("ThrottlingUser");
    expect(reasonFromEcsCode("Forbidden.RAM")).toBe("ForbiddenRAM");
    expect(reasonFromEcsCode("InternalError")).toBe("InternalError");
    expect(reasonFromEcsCode("ECONNREFUSED")).toBe("ECONNREFUSED");
    expect(reasonFromEcsCode("foo.bar-baz qux")).toBe("FooBarBazQux");
  });

  it("handles codes that cannot start a reason", () => {
    expect(reasonFromEcsCode("")).toBe(UNKNOWN_ECS_ERROR_REASON);
    expect(reasonFromEcsCode(undefined)).toBe(UNKNOWN_ECS_ERROR_REASON);
    expect(reasonFromEcsCode("...")).toBe(UNKNOWN_ECS_ERROR_REASON);
    expect(reasonFromEcsCode("500.Internal")).toBe("Ecs500Internal");
    expect(reasonFromEcsCode("_x")).toBe("Ecs_x");
  });

  it("always yields a valid reason for arbitrary input", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (code) => {
        const r = reasonFromEcsCode(code);
        return K8S_REASON.test(r) && r.length <= 1024;
      }),
      { numRuns: 500 },
    );
  });

  const reference = "/work/shared/reference/ecs-api.md";
  it.skipIf(!existsSync(reference))("the code list covers every code in the reference's error tables", () => {
    const text = readFileSync(reference, "utf8");
    const section = text.slice(text.indexOf("## 4. Error codes"), text.indexOf("## 5."));
    const parameterNames = new Set(["Description", "HostName", "Password"]);
    const codes = [...section.matchAll(/`([A-Za-z][A-Za-z0-9.]*)`/g)].map((m) => m[1] as string).filter((c) => !parameterNames.has(c));
    expect(codes.length).toBeGreaterThan(90);
    const known = new Set<string>(ECS_ERROR_CODES);
    expect(codes.filter((c) => !known.has(c))).toEqual([]);
  });
});

describe("condition vocabulary", () => {
  it("every reason constant matches the Kubernetes reason pattern", () => {
    for (const r of Object.values(Reason)) expect(r).toMatch(K8S_REASON);
    expect(UNKNOWN_ECS_ERROR_REASON).toMatch(K8S_REASON);
  });
  it("every condition type matches the Kubernetes type pattern", () => {
    expect(Object.values(ConditionType).sort()).toEqual(["Ready", "Reconciling", "RestartRequired", "Stalled", "Synced"]);
    for (const t of Object.values(ConditionType)) expect(t).toMatch(K8S_TYPE);
  });
});

describe("setCondition", () => {
  const t0 = new Date("2026-01-01T00:00:00.123Z");
  const t1 = new Date("2026-01-01T00:05:00Z");
  const ready = (status: "True" | "False" | "Unknown", reason: string, message = "") => ({ type: "Ready", status, reason, message });

  it("appends a new type with lastTransitionTime = now (RFC 3339, seconds)", () => {
    const out = setCondition(undefined, { ...ready("True", Reason.InSync), observedGeneration: 3 }, t0);
    expect(out).toEqual([{ type: "Ready", status: "True", reason: "InSync", message: "", lastTransitionTime: "2026-01-01T00:00:00Z", observedGeneration: 3 }]);
  });

  it("keeps lastTransitionTime when the status does not change, even if reason and message do", () => {
    const a = setCondition([], ready("False", Reason.ChangesPending, "hostName differs"), t0);
    const b = setCondition(a, ready("False", Reason.WaitingForInstanceState, "needs Stopped"), t1);
    expect(b[0]?.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
    expect(b[0]?.reason).toBe("WaitingForInstanceState");
    expect(b[0]?.message).toBe("needs Stopped");
  });

  it("moves lastTransitionTime when the status changes", () => {
    const a = setCondition([], ready("False", Reason.ChangesPending), t0);
    const b = setCondition(a, ready("True", Reason.InSync), t1);
    expect(b[0]?.lastTransitionTime).toBe("2026-01-01T00:05:00Z");
  });

  it("returns the same array when nothing changes, a new one otherwise, and never mutates its input", () => {
    const a = setCondition([], ready("True", Reason.InSync), t0);
    const frozen = Object.freeze(a.map((c) => Object.freeze({ ...c }))) as Condition[];
    expect(setCondition(frozen, ready("True", Reason.InSync), t1)).toBe(frozen);
    const changed = setCondition(frozen, ready("True", Reason.InSync, "new message"), t1);
    expect(changed).not.toBe(frozen);
    expect(frozen[0]?.message).toBe("");
  });

  it("keeps the order of other conditions and replaces in place", () => {
    let c = setCondition([], ready("True", Reason.InSync), t0);
    c = setCondition(c, { type: "Synced", status: "True", reason: Reason.ReconcileSuccess, message: "" }, t0);
    c = setCondition(c, ready("False", Reason.DriftDetected), t1);
    expect(c.map((x) => `${x.type}=${x.status}`)).toEqual(["Ready=False", "Synced=True"]);
    expect(getCondition(c, "Synced")?.reason).toBe("ReconcileSuccess");
    expect(isConditionTrue(c, "Synced")).toBe(true);
    expect(isConditionTrue(c, "Ready")).toBe(false);
    expect(isConditionTrue(c, "RestartRequired")).toBe(false);
  });

  it("treats a changed observedGeneration as a change but keeps the transition time", () => {
    const a = setCondition([], { ...ready("True", Reason.InSync), observedGeneration: 1 }, t0);
    const b = setCondition(a, { ...ready("True", Reason.InSync), observedGeneration: 2 }, t1);
    expect(b).not.toBe(a);
    expect(b[0]?.observedGeneration).toBe(2);
    expect(b[0]?.lastTransitionTime).toBe(a[0]?.lastTransitionTime);
  });

  it("rejects reasons the API server would reject", () => {
    expect(() => setCondition([], ready("False", "InvalidHostName.Malformed"), t0)).toThrow(/invalid condition reason/);
    expect(() => setCondition([], ready("False", ""), t0)).toThrow();
    expect(setCondition([], ready("False", reasonFromEcsCode("InvalidHostName.Malformed")), t0)[0]?.reason).toBe("InvalidHostNameMalformed");
  });

  it("truncates messages to the metav1.Condition limit", () => {
    const out = setCondition([], ready("False", Reason.TerminalError, "x".repeat(40_000)), t0);
    expect(out[0]?.message.length).toBe(32768);
  });

  it("removeCondition drops one type and is a no-op (same array) when absent", () => {
    const a = setCondition([], ready("True", Reason.InSync), t0);
    expect(removeCondition(a, "RestartRequired")).toBe(a);
    expect(removeCondition(a, "Ready")).toEqual([]);
  });
});
