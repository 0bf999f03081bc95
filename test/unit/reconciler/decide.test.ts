// The guard ladder as a table: plain World objects in, a Decision (or a read request) out. No fake
// ECS, no store, no clock: decide is pure.
import { describe, expect, it } from "vitest";
import { type EcsInstanceAttributes, validateSpec } from "../../../src/api/index.js";
import { EcsError } from "../../../src/cloud/errors.js";
import { decide, type Decision, GUARDS, type World } from "../../../src/reconciler/decide.js";
import { InputError, type ResolvedInputs } from "../../../src/reconciler/inputs.js";
import { observedInstance } from "./fixtures.js";

const now = new Date("2026-11-27T10:00:00Z");

function resource(spec: Record<string, unknown>, annotations: Record<string, string> = {}): EcsInstanceAttributes {
  return {
    apiVersion: "ecs.alicloud.dev/v1alpha1",
    kind: "EcsInstanceAttributes",
    metadata: { namespace: "ns", name: "a", uid: "u", generation: 1, annotations },
    spec: { instanceId: "i-bp1abc", regionId: "cn-hangzhou", ...spec },
  } as unknown as EcsInstanceAttributes;
}

/** A world that passes every guard (an instance that differs in instanceName), with overrides. */
function world(over: Partial<World> & { specFields?: Record<string, unknown>; annotations?: Record<string, string> } = {}): World {
  const { specFields = { instanceName: "new-name" }, annotations, ...rest } = over;
  const obj = resource(specFields, annotations);
  const inputs: ResolvedInputs = {};
  return { obj, spec: validateSpec(obj.spec), inputs, instance: { observed: observedInstance() }, now, ...rest };
}

const decided = (w: World): Decision => {
  const d = decide(w);
  if ("read" in d) throw new Error(`expected a decision, got a read of ${d.read.instanceId}`);
  return d;
};

describe("decide: the guard ladder", () => {
  const cases: Array<{ name: string; w: World; by: string; ready: string; next: string; error?: boolean }> = [
    { name: "deleted", w: { obj: undefined, now }, by: "deleted", ready: "-", next: "awaitChange" },
    { name: "paused", w: world({ annotations: { "ecs.alicloud.dev/paused": "true" } }), by: "paused", ready: "Paused", next: "awaitChange" },
    {
      name: "invalid spec",
      w: world({ spec: { ok: false, message: "spec.hostName: too long" } }),
      by: "invalidSpec",
      ready: "InvalidSpec",
      next: "awaitChange",
    },
    { name: "conflict", w: world({ conflictWith: "ns/older" }), by: "conflict", ready: "Conflict", next: "awaitChange" },
    {
      name: "missing Secret",
      w: world({ inputs: new InputError("spec.passwordSecretRef", "spec.passwordSecretRef: Secret ns/pw not found") }),
      by: "missingReference",
      ready: "SecretNotFound",
      next: "awaitChange",
    },
    {
      name: "missing ConfigMap",
      w: world({ inputs: new InputError("spec.userData.configMapRef", "cm missing", "ConfigMap") }),
      by: "missingReference",
      ready: "ConfigMapNotFound",
      next: "awaitChange",
    },
    {
      name: "user data over the limit",
      w: world({ inputs: { userData: { value: Buffer.alloc(32 * 1024 + 1).toString("base64"), source: { kind: "Secret", name: "ud", key: "k" } } } }),
      by: "userDataTooLarge",
      ready: "InvalidSpec",
      next: "awaitChange",
    },
    {
      name: "read failed (transient)",
      w: world({ instance: { failed: new EcsError({ code: "InternalError", message: "boom", action: "DescribeInstances", httpStatus: 500 }) } }),
      by: "readFailed",
      ready: "InternalError",
      next: "awaitChange",
      error: true,
    },
    { name: "not found", w: world({ instance: { observed: null } }), by: "notFound", ready: "InstanceNotFound", next: "resync" },
    {
      name: "Windows-invalid hostname",
      w: world({ specFields: { hostName: "web.example.com" }, instance: { observed: observedInstance({ osType: "windows" }) } }),
      by: "osInvalidSpec",
      ready: "InvalidSpec",
      next: "awaitChange",
    },
    {
      name: "Observe policy with drift",
      w: world({ specFields: { instanceName: "new-name", managementPolicy: "Observe" } }),
      by: "observeOnly",
      ready: "DriftDetected",
      next: "resync",
    },
    {
      name: "locked",
      w: world({ instance: { observed: observedInstance({ operationLocks: ["security"] }) } }),
      by: "locked",
      ready: "InstanceLocked",
      next: "lockedPoll",
    },
    {
      // ECS documents only the security lock as refusing ModifyInstanceAttribute (src/cloud/locks.ts).
      name: "a lock that does not block Modify (financial, Recycling) does not pause writes",
      w: world({ instance: { observed: observedInstance({ operationLocks: ["financial", "Recycling"] }) } }),
      by: "plan",
      ready: "InSync",
      next: "resync",
    },
    {
      name: "locked for security among other reasons",
      w: world({ instance: { observed: observedInstance({ operationLocks: ["financial", "Security"] }) } }),
      by: "locked",
      ready: "InstanceLocked",
      next: "lockedPoll",
    },
    {
      name: "held back for state",
      w: world({ specFields: { networkInterfaceQueueNumber: 4 } }),
      by: "plan",
      ready: "WaitingForInstanceState",
      next: "statePoll",
    },
    { name: "in sync", w: world({ specFields: { instanceName: "old-name" } }), by: "plan", ready: "InSync", next: "resync" },
    { name: "differs: one Modify", w: world(), by: "plan", ready: "InSync", next: "resync" },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const d = decided(c.w);
      expect(d.by).toBe(c.by);
      expect(d.status?.ready.reason ?? "-").toBe(c.ready);
      expect(d.next).toBe(c.next);
      expect(d.error !== undefined).toBe(c.error ?? false);
      // Only the plan sends anything.
      if (c.by !== "plan") expect(d.modify).toBeUndefined();
    });
  }

  it("the plan's decision carries exactly one Modify request with the differing fields", () => {
    const d = decided(world({ specFields: { instanceName: "new-name", description: "old description", deletionProtection: true } }));
    expect(d.modify?.request).toEqual({ instanceId: "i-bp1abc", instanceName: "new-name", deletionProtection: true });
    expect(d.modify?.target.regionId).toBe("cn-hangzhou");
  });

  it("asks to read ECS (with the spec's extra reads) only once every earlier guard passed", () => {
    const d = decide({ ...world({ specFields: { enableJumboFrame: true } }), instance: undefined });
    expect(d).toEqual({
      read: {
        target: { credentials: { type: "default" }, regionId: "cn-hangzhou" },
        instanceId: "i-bp1abc",
        extras: { jumboFrame: true, userData: false, nicQueue: false },
        reuseRoundObservation: false,
      },
    });
    // A paused resource is never read.
    expect("read" in decide({ ...world({ annotations: { "ecs.alicloud.dev/paused": "true" } }), instance: undefined })).toBe(false);
  });

  it("lets the last round's observation stand in for the read only for a resource that was in sync", () => {
    const withReady = (status: "True" | "False", reason: string, specFields?: Record<string, unknown>): World => {
      const w = world(specFields ? { specFields } : {});
      const conditions = [{ type: "Ready", status, reason, message: "", lastTransitionTime: now.toISOString(), observedGeneration: 1 }];
      return { ...w, obj: { ...w.obj!, status: { conditions } }, instance: undefined };
    };
    const reuse = (w: World) => {
      const d = decide(w);
      if (!("read" in d)) throw new Error(`expected a read, got ${JSON.stringify(d).slice(0, 300)}`);
      return d.read.reuseRoundObservation;
    };
    expect(reuse(withReady("True", "InSync"))).toBe(true);
    expect(reuse(withReady("False", "EcsError"))).toBe(false);
    expect(reuse({ ...world(), instance: undefined })).toBe(false); // never reconciled
    // Fields ECS accepts only in some instance states need the state as it is now.
    expect(reuse(withReady("True", "InSync", { hostName: "web-1" }))).toBe(false);
    expect(reuse(withReady("True", "InSync", { networkInterfaceQueueNumber: 4 }))).toBe(false);
    expect(reuse(withReady("True", "InSync", { description: "a description", deletionProtection: true }))).toBe(true);
  });

  it("guards run in the documented order (a new guard is one entry)", () => {
    expect(GUARDS.map((g) => g.name)).toEqual([
      "deleted",
      "paused",
      "invalidSpec",
      "providerConfig",
      "conflict",
      "missingReference",
      "userDataTooLarge",
      "readFailed",
      "notFound",
      "instanceTags",
      "osInvalidSpec",
      "observeOnly",
      "locked",
    ]);
  });

  it("an earlier guard wins over a later one (paused and conflicting → paused)", () => {
    expect(decided(world({ annotations: { "ecs.alicloud.dev/paused": "true" }, conflictWith: "ns/older" })).by).toBe("paused");
  });

  it("records a Normal event when a change waits for the instance state and nothing is sent", () => {
    const d = decided(world({ specFields: { networkInterfaceQueueNumber: 4 } }));
    expect(d.events).toEqual([
      { type: "Normal", reason: "WaitingForInstanceState", message: "instance is Running: networkInterfaceQueueNumber needs Stopped" },
    ]);
    expect(d.status?.pendingChanges).toEqual(["networkInterfaceQueueNumber"]);
  });
});
