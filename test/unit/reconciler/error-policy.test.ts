// The error policy table: one row per failure class → status reasons and how the key comes back.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EcsError, type ErrorClass } from "../../../src/cloud/errors.js";
import { Cadence } from "../../../src/reconciler/cadence.js";
import { ERROR_POLICY, errorPolicy, failureClass, failureStatus, renderErrorPolicyTable } from "../../../src/reconciler/error-policy.js";
import { TerminalError } from "../../../src/runtime/controller.js";
import { settle } from "../../../src/reconciler/settle.js";
import { kstatusFrom, kstatusOfReason } from "../../../src/reconciler/status.js";
import type { Decision } from "../../../src/reconciler/decide.js";
import { observedInstance } from "./fixtures.js";

const cadence = new Cadence({ resyncPeriodMs: 600_000, stateWaitMs: 15_000, lockedWaitMs: 600_000, random: () => 0.5 });
const policy = errorPolicy(cadence);
const key = { namespace: "ns", name: "a" };
const now = new Date("2026-11-27T10:00:00Z");

function err(code: string, extra: { retryAfterMs?: number; errorClass?: ErrorClass; httpStatus?: number } = {}): EcsError {
  return new EcsError({ code, message: `${code} happened`, action: "ModifyInstanceAttribute", requestId: "REQ-7", ...extra });
}

describe("error policy", () => {
  const rows: Array<{ code: string; extra?: Parameters<typeof err>[1]; cls: string; synced: string; ready: string; action: unknown }> = [
    { code: "InternalError", extra: { httpStatus: 500 }, cls: "transient", synced: "TransientError", ready: "InternalError", action: { backoff: true } },
    { code: "NetworkError", cls: "transient", synced: "TransientError", ready: "NetworkError", action: { backoff: true } },
    {
      code: "Throttling.User",
      extra: { retryAfterMs: 10_000 },
      cls: "throttled",
      synced: "Throttled",
      ready: "ThrottlingUser",
      action: { requeueAfterMs: 11_000 },
    },
    { code: "Throttling.User", cls: "throttled", synced: "Throttled", ready: "ThrottlingUser", action: { backoff: true } },
    {
      code: "IncorrectInstanceStatus",
      cls: "waitForState",
      synced: "WaitingForInstanceState",
      ready: "WaitingForInstanceState",
      action: { requeueAfterMs: 15_000 },
    },
    { code: "InstanceLockedForSecurity", cls: "locked", synced: "InstanceLocked", ready: "InstanceLockedForSecurity", action: { requeueAfterMs: 600_000 } },
    {
      code: "InvalidInstanceId.NotFound",
      cls: "notFound",
      synced: "InstanceNotFound",
      ready: "InvalidInstanceIdNotFound",
      action: { requeueAfterMs: 600_000 },
    },
    { code: "InvalidAccessKeyId.NotFound", cls: "auth", synced: "CredentialsError", ready: "InvalidAccessKeyIdNotFound", action: { requeueAfterMs: 600_000 } },
    { code: "InvalidHostName.Malformed", cls: "terminal", synced: "TerminalError", ready: "InvalidHostNameMalformed", action: { requeueAfterMs: 600_000 } },
  ];
  for (const r of rows) {
    it(`${r.code}${r.extra?.retryAfterMs ? " with retry-after" : ""} → ${r.cls}: Synced ${r.synced}, ${JSON.stringify(r.action)}`, () => {
      const e = err(r.code, r.extra);
      expect(failureClass(e)).toBe(r.cls);
      const s = failureStatus(e, now)!;
      expect(s.synced).toMatchObject({ status: "False", reason: r.synced });
      expect(s.ready).toMatchObject({ status: "False", reason: r.ready });
      expect(s.error).toEqual({
        code: r.code,
        message: `${r.code} happened`,
        retryable: e.retryable,
        lastTime: "2026-11-27T10:00:00Z",
        action: "ModifyInstanceAttribute",
      });
      // RequestIds go to the Event only, never into conditions.
      expect(JSON.stringify([s.ready, s.synced, s.error])).not.toContain("REQ-7");
      expect(s.event.message).toContain("REQ-7");
      expect(policy(e, key, 1)).toEqual(r.action);
    });
  }

  it("has one row per class of the classification table, plus throttled", () => {
    expect(Object.keys(ERROR_POLICY).sort()).toEqual(["auth", "locked", "notFound", "terminal", "throttled", "transient", "waitForState"]);
  });

  it("leaves errors that are not ECS failures to the runtime's default", () => {
    expect(policy(new Error("status write failed"), key, 1)).toEqual({ backoff: true });
    expect(policy(new TerminalError("bug"), key, 1)).toEqual({ awaitChange: true });
  });

  it("with a resync sweeper, 'resync' means awaiting the sweeper's round", () => {
    const swept = errorPolicy(new Cadence({ resyncPeriodMs: 600_000, resyncBySweeper: true }));
    expect(swept(err("InvalidHostName.Malformed"), key, 1)).toEqual({ awaitChange: true });
  });
});

describe("settle", () => {
  const observed = observedInstance();
  const decision: Decision = {
    by: "plan",
    status: {
      ready: { status: "True", reason: "InSync", message: "ECS matches the spec" },
      synced: { status: "True", reason: "ReconcileSuccess", message: "ok" },
      observed,
      pendingChanges: [],
      error: null,
      applied: {},
    },
    events: [],
    next: "resync",
    modify: {
      target: { credentials: { type: "default" }, regionId: "cn-hangzhou" },
      request: { instanceId: "i-bp1abc", hostName: "new-host" },
      observed,
      differences: ["hostName"],
      restartFields: ["hostName"],
      sources: {},
    },
  };

  it("without a Modify the decision is the outcome", () => {
    expect(settle({ ...decision, modify: undefined }, { kind: "none" })).toMatchObject({ status: decision.status, next: "resync" });
  });

  it("a successful Modify: the written values, RestartRequired with a new clock, an Applied event", () => {
    const out = settle(decision, { kind: "applied", requestId: "REQ-1", at: now });
    expect(out.status?.observed?.hostName).toBe("new-host");
    expect(out.status?.restartRequired).toMatchObject({ status: "True", reason: "RestartPending" });
    expect(out.status?.restartClock).toBe(true);
    expect(out.events).toEqual([{ type: "Normal", reason: "Applied", message: "ModifyInstanceAttribute set hostName (RequestId REQ-1)" }]);
    expect(out.error).toBeUndefined();
  });

  it("a failed Modify: the error's row in status, the differences pending, rethrown", () => {
    const e = err("InvalidHostName.Malformed", { httpStatus: 400 });
    const out = settle(decision, { kind: "failed", error: e, at: now });
    expect(out.error).toBe(e);
    expect(out.status).toMatchObject({
      synced: { reason: "TerminalError" },
      ready: { reason: "InvalidHostNameMalformed" },
      pendingChanges: ["hostName"],
      error: { code: "InvalidHostName.Malformed" },
    });
    expect(out.events[0]).toMatchObject({ type: "Warning", reason: "InvalidHostNameMalformed" });
  });
});

describe("docs", () => {
  it("docs/runtime.md carries the error policy table as generated from ERROR_POLICY", () => {
    const doc = readFileSync(new URL("../../../docs/runtime.md", import.meta.url), "utf8");
    const m = /<!-- error-policy-table:start -->\n([\s\S]*?)\n<!-- error-policy-table:end -->/.exec(doc);
    expect(m?.[1]).toBe(renderErrorPolicyTable());
  });
});

// Issue 18: a recorded failure always tells GitOps tools whether to keep waiting (kstatus Reconciling)
// or to give up (Stalled); the Synced reason of its class carries that (REASON_DOCS' kstatus column).
describe("kstatus of each failure class", () => {
  it("is Reconciling for what retries on its own and Stalled for what needs a person", () => {
    const byClass = Object.fromEntries(Object.entries(ERROR_POLICY).map(([cls, row]) => [cls, kstatusOfReason(row.synced)]));
    expect(byClass).toEqual({
      transient: "Reconciling",
      throttled: "Reconciling",
      waitForState: "Reconciling",
      locked: "Stalled",
      notFound: "Stalled",
      auth: "Stalled",
      terminal: "Stalled",
    });
  });

  it("reaches status: the failure's Ready/Synced pair raises the class's condition", () => {
    const at = new Date("2026-12-03T10:00:00Z");
    for (const [code, type] of [
      ["InternalError", "Reconciling"],
      ["Throttling.User", "Reconciling"],
      ["IncorrectInstanceStatus", "Reconciling"],
      ["InvalidHostName.Malformed", "Stalled"],
      ["InvalidAccessKeyId.NotFound", "Stalled"],
    ] as const) {
      const f = failureStatus(err(code, { httpStatus: 400 }), at)!;
      expect(kstatusFrom(f.ready, f.synced)?.type, code).toBe(type);
    }
  });
});
