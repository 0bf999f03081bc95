// Restart holds (src/reconciler/holds.ts) through decide and settle, pure: a hostname ECS
// refused with InvalidInstanceStatus.NeedRestart is not sent again until a later StartTime, the
// other fields still apply, and a hostname that ECS shows only after the restart is not re-sent.
import { describe, expect, it } from "vitest";
import { type EcsInstanceAttributes, type RestartHold, validateSpec } from "../../../src/api/index.js";
import { EcsError } from "../../../src/cloud/errors.js";
import { decide, type Decision, type World } from "../../../src/reconciler/decide.js";
import { activeHolds, holdsAfterApply, holdsAfterNeedRestart } from "../../../src/reconciler/holds.js";
import type { ResolvedInputs } from "../../../src/reconciler/inputs.js";
import { settle } from "../../../src/reconciler/settle.js";
import { observedInstance } from "./fixtures.js";

const t0 = new Date("2026-11-27T10:00:00Z");
const needRestart = () =>
  new EcsError({ code: "InvalidInstanceStatus.NeedRestart", message: "The instance needs a restart.", action: "ModifyInstanceAttribute", httpStatus: 404 });

function world(spec: Record<string, unknown>, holds: RestartHold[] | undefined, observed = observedInstance(), inputs: ResolvedInputs = {}): World {
  const obj = {
    apiVersion: "ecs.alicloud.dev/v1alpha1",
    kind: "EcsInstanceAttributes",
    metadata: { namespace: "ns", name: "a", uid: "u", generation: 2 },
    spec: { instanceId: "i-bp1abc", regionId: "cn-hangzhou", ...spec },
    status: holds ? { restartHolds: holds } : undefined,
  } as unknown as EcsInstanceAttributes;
  return { obj, spec: validateSpec(obj.spec), inputs, instance: { observed }, now: t0 };
}

const decided = (w: World): Decision => {
  const d = decide(w);
  if ("read" in d) throw new Error("expected a decision");
  return d;
};

describe("restart holds", () => {
  it("NeedRestart holds the hostname, keeps the failure in status, and comes back by state poll without rethrowing", () => {
    const d = decided(world({ hostName: "second", description: "d2" }, undefined));
    expect(d.modify?.request).toMatchObject({ hostName: "second", description: "d2" });
    const out = settle(d, { kind: "failed", error: needRestart(), at: t0 });
    expect(out.error).toBeUndefined();
    expect(out.next).toBe("statePoll");
    expect(out.status?.restartHolds).toEqual([{ field: "hostName", cause: "NeedRestart", since: "2026-11-27T10:00:00Z", startTime: "2026-11-27T09:00:00Z" }]);
    expect(out.status?.ready).toMatchObject({ status: "False", reason: "WaitingForRestart" });
    expect(out.status?.ready.message).toContain("hostName");
    expect(out.status?.restartRequired).toMatchObject({ status: "True", reason: "RestartPending" });
    expect(out.status?.error?.code).toBe("InvalidInstanceStatus.NeedRestart");
  });

  it("while held, the next decision sends the other fields only, and then nothing until the restart", () => {
    const holds: RestartHold[] = [{ field: "hostName", cause: "NeedRestart", since: "2026-11-27T10:00:00Z" }];
    const d = decided(world({ hostName: "second", description: "d2" }, holds));
    expect(d.modify?.request).toEqual({ instanceId: "i-bp1abc", description: "d2" });
    expect(d.status?.pendingChanges).toEqual(["hostName"]);

    const quiet = decided(world({ hostName: "second" }, holds));
    expect(quiet.modify).toBeUndefined();
    expect(quiet.next).toBe("resync"); // no state poll: the resync's read sees the restart
    expect(quiet.status?.ready).toMatchObject({ status: "False", reason: "WaitingForRestart" });
    expect(quiet.status?.restartHolds).toEqual(holds);
  });

  it("a later StartTime ends the hold: the hostname is sent again", () => {
    const holds: RestartHold[] = [{ field: "hostName", cause: "NeedRestart", since: "2026-11-27T10:00:00Z" }];
    const restarted = observedInstance({ startTime: "2026-11-27T10:05:00Z" });
    const d = decided(world({ hostName: "second" }, holds, restarted));
    expect(d.modify?.request).toEqual({ instanceId: "i-bp1abc", hostName: "second" });
    expect(d.status?.restartHolds).toEqual([]);
  });

  it("a hostname sent and shown only after the restart is not sent again; a different one is", () => {
    const d = decided(world({ hostName: "first" }, undefined));
    const applied = settle(d, { kind: "applied", requestId: "R", at: t0 });
    const holds = applied.status?.restartHolds ?? [];
    expect(holds).toEqual([{ field: "hostName", cause: "Applied", value: "first", since: "2026-11-27T10:00:00Z", startTime: "2026-11-27T09:00:00Z" }]);

    // ECS still reads "old-host" (the fixture) until the restart: in sync, nothing sent.
    const again = decided(world({ hostName: "first" }, holds));
    expect(again.modify).toBeUndefined();
    expect(again.status?.ready).toMatchObject({ status: "True", reason: "InSync" });
    expect(again.status?.pendingChanges).toEqual([]);

    const changed = decided(world({ hostName: "second" }, holds));
    expect(changed.modify?.request).toEqual({ instanceId: "i-bp1abc", hostName: "second" });
  });

  it("holds of fields the spec no longer manages, or from before the last restart, are dropped", () => {
    const holds: RestartHold[] = [
      { field: "hostName", cause: "NeedRestart", since: "2026-11-27T10:00:00Z" },
      { field: "password", cause: "NeedRestart", since: "2026-11-27T08:00:00Z" },
    ];
    const spec = validateSpec({ instanceId: "i-bp1abc", regionId: "cn-hangzhou", description: "xy" });
    if (!spec.ok) throw new Error(spec.message);
    expect(activeHolds(holds, observedInstance(), spec.value)).toEqual([]);
    const withHost = validateSpec({ instanceId: "i-bp1abc", regionId: "cn-hangzhou", hostName: "web-1" });
    if (!withHost.ok) throw new Error(withHost.message);
    expect(activeHolds(holds, observedInstance({ startTime: "2026-11-27T09:00:00Z" }), withHost.value).map((h) => h.field)).toEqual(["hostName"]);
  });

  it("a restart in the minute the hold began shows as a changed StartTime and ends the hold", () => {
    const hold: RestartHold = { field: "hostName", cause: "NeedRestart", since: "2026-11-27T10:00:40Z", startTime: "2026-11-27T09:00Z" };
    const spec = validateSpec({ instanceId: "i-bp1abc", regionId: "cn-hangzhou", hostName: "web-1" });
    if (!spec.ok) throw new Error(spec.message);
    expect(activeHolds([hold], observedInstance({ startTime: "2026-11-27T09:00Z" }), spec.value)).toEqual([hold]);
    expect(activeHolds([hold], observedInstance({ startTime: "2026-11-27T10:00Z" }), spec.value)).toEqual([]);
  });

  it("with the instance's StartTime recorded, only ECS's clock decides (a controller clock behind ECS's does not end the hold)", () => {
    const hold: RestartHold = { field: "hostName", cause: "NeedRestart", since: "2026-11-27T10:04:30Z", startTime: "2026-11-27T10:05Z" };
    const spec = validateSpec({ instanceId: "i-bp1abc", regionId: "cn-hangzhou", hostName: "web-1" });
    if (!spec.ok) throw new Error(spec.message);
    expect(activeHolds([hold], observedInstance({ startTime: "2026-11-27T10:05Z" }), spec.value)).toEqual([hold]);
  });

  it("NeedRestart for a request without a restart field is an ordinary state failure (rethrown, no hold)", () => {
    const d = decided(world({ description: "d2" }, undefined));
    const out = settle(d, { kind: "failed", error: needRestart(), at: t0 });
    expect(out.error?.code).toBe("InvalidInstanceStatus.NeedRestart");
    expect(out.status?.restartHolds).toBeUndefined();
    expect(out.status?.ready.reason).toBe("WaitingForInstanceState");
  });

  it("NeedRestart without a hostname in the request holds every restart field it sent; secrets never get a value", () => {
    expect(holdsAfterNeedRestart([], { instanceId: "i", password: "Secret#123", description: "d" }, t0)).toEqual([
      { field: "password", cause: "NeedRestart", since: "2026-11-27T10:00:00Z" },
    ]);
    expect(holdsAfterApply([], { instanceId: "i", password: "Secret#123", hostName: "h" }, t0)).toEqual([
      { field: "hostName", cause: "Applied", value: "h", since: "2026-11-27T10:00:00Z" },
    ]);
  });
});

// User data: the current docs give no state rule, older ones require Stopped (issue 19). The
// controller tries it in any state and learns the rule from ECS's refusal.
describe("learned state holds (user data)", () => {
  const content = Buffer.from("#!/bin/sh\necho hold\n").toString("base64");
  const userData = { userData: { value: content, source: { kind: "Inline" as const, generation: 2 } } };
  const udSpec = { userData: { inlineBase64: content }, description: "d2" };
  const refused = (code = "IncorrectInstanceStatus") =>
    new EcsError({ code, message: "The current status of the resource does not support this operation.", action: "ModifyInstanceAttribute", httpStatus: 403 });
  const running = observedInstance({ userData: "" });
  const stopped = observedInstance({ userData: "", status: "Stopped" });
  const learned: RestartHold[] = [{ field: "userData", cause: "NeedsStopped", since: "2026-11-27T10:00:00Z", startTime: "2026-11-27T09:00:00Z" }];

  it("tries user data while Running in the same Modify as the other fields", () => {
    const d = decided(world(udSpec, undefined, running, userData));
    expect(d.modify?.request).toEqual({ instanceId: "i-bp1abc", description: "d2", userData: content });
    expect(d.status?.ready.reason).toBe("InSync");
  });

  it.each(["IncorrectInstanceStatus", "InvalidStatus.StoppedRequired"])(
    "%s while Running: user data is held for Stopped, the failure is recorded, not rethrown, back by state poll",
    (code) => {
      const d = decided(world(udSpec, undefined, running, userData));
      const out = settle(d, { kind: "failed", error: refused(code), at: t0 });
      expect(out.error).toBeUndefined();
      expect(out.next).toBe("statePoll");
      expect(out.status?.restartHolds).toEqual(learned);
      expect(out.status?.ready).toMatchObject({ status: "False", reason: "WaitingForInstanceState" });
      expect(out.status?.ready.message).toBe(
        `userData waits for the instance to be Stopped: ECS refused it while Running (${code}); the other fields are applied without it`,
      );
      expect(out.status?.synced).toMatchObject({ status: "False", reason: "WaitingForInstanceState" });
      expect(out.status?.error?.code).toBe(code);
      expect(out.status?.pendingChanges).toEqual(["description", "userData"]);
      expect(out.status?.restartRequired).toBeUndefined();
      expect(out.events).toEqual([expect.objectContaining({ type: "Warning" })]);
    },
  );

  it("with the hold, the next decision sends the other fields only; then nothing but state polls", () => {
    const d = decided(world(udSpec, learned, running, userData));
    expect(d.modify?.request).toEqual({ instanceId: "i-bp1abc", description: "d2" });
    expect(d.status?.ready).toMatchObject({ status: "False", reason: "WaitingForInstanceState" });
    expect(d.status?.ready.message).toBe("instance is Running: userData needs Stopped (ECS refused it in another state)");
    expect(d.next).toBe("statePoll");
    const quiet = decided(world({ userData: udSpec.userData }, learned, running, userData));
    expect(quiet.modify).toBeUndefined();
    expect(quiet.status?.restartHolds).toEqual(learned);
  });

  it("once Stopped, user data is sent, and its success ends the hold", () => {
    const d = decided(world(udSpec, learned, stopped, userData));
    expect(d.modify?.request).toEqual({ instanceId: "i-bp1abc", description: "d2", userData: content });
    const out = settle(d, { kind: "applied", requestId: "R", at: t0 });
    expect(out.status?.restartHolds).toEqual([]);
    expect(out.status?.ready.reason).toBe("InSync");
    expect(out.status?.applied?.userData).toMatchObject({ kind: "Inline", generation: 2 });
  });

  it("a restart ends the learned hold (at most one more refused try per restart)", () => {
    const d = decided(world(udSpec, learned, observedInstance({ userData: "", startTime: "2026-11-27T10:07:00Z" }), userData));
    expect(d.modify?.request).toMatchObject({ userData: content });
    expect(d.status?.restartHolds).toEqual([]);
  });

  it("a state refusal while the read said Stopped, or of a request without user data, is an ordinary state failure", () => {
    const whileStopped = settle(decided(world(udSpec, undefined, stopped, userData)), { kind: "failed", error: refused(), at: t0 });
    expect(whileStopped.error?.code).toBe("IncorrectInstanceStatus");
    expect(whileStopped.status?.restartHolds).toBeUndefined();
    const noUserData = settle(decided(world({ description: "d2" }, undefined, running)), { kind: "failed", error: refused(), at: t0 });
    expect(noUserData.error?.code).toBe("IncorrectInstanceStatus");
    expect(noUserData.status?.restartHolds).toBeUndefined();
  });

  it("another code (a malformed value) holds nothing", () => {
    const out = settle(decided(world(udSpec, undefined, running, userData)), { kind: "failed", error: refused("InvalidUserData.Base64FormatInvalid"), at: t0 });
    expect(out.error?.code).toBe("InvalidUserData.Base64FormatInvalid");
    expect(out.status?.restartHolds).toBeUndefined();
  });
});
