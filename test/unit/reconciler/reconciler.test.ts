import pino from "pino";
import { describe, expect, it } from "vitest";
import { type EcsInstanceAttributes, type EcsInstanceAttributesStatus, getCondition } from "../../../src/api/index.js";
import { EcsError } from "../../../src/cloud/errors.js";
import type { ModifyRequest, ObservedInstance } from "../../../src/cloud/model.js";
import type { ConfigMapLike, SecretLike } from "../../../src/reconciler/inputs.js";
import { errorPolicy } from "../../../src/reconciler/error-policy.js";
import { type EcsPort, Reconciler, restartedSince } from "../../../src/reconciler/reconciler.js";
import { kstatusFrom } from "../../../src/reconciler/status.js";
import { observedInstance } from "./fixtures.js";

const log = pino({ level: "silent" });

const instance = observedInstance;

/** A small in-memory world: one ECS instance, a resource store, Secrets, and recorders. */
class World {
  ecsInstance: ObservedInstance | null = instance();
  modifies: ModifyRequest[] = [];
  statusWrites: EcsInstanceAttributesStatus[] = [];
  events: Array<{ type: string; reason: string; message: string }> = [];
  resources = new Map<string, EcsInstanceAttributes>();
  secrets = new Map<string, SecretLike>();
  configMaps = new Map<string, ConfigMapLike>();
  modifyError: EcsError | undefined;
  clock = new Date("2026-11-27T10:00:00Z");

  ecs: EcsPort = {
    getInstance: async () => (this.ecsInstance ? { ...this.ecsInstance, userData: "" } : null),
    modifyInstanceAttribute: async (_t, req) => {
      if (this.modifyError) throw this.modifyError;
      this.modifies.push(req);
      if (this.ecsInstance) {
        const { instanceId: _id, password: _pw, userData: _ud, cpuOptions: _c, privateDnsNameOptions: _p, ...rest } = req;
        Object.assign(this.ecsInstance, rest);
      }
      return { requestId: "REQ-1" };
    },
  };

  reconciler = new Reconciler({
    resources: {
      get: (ns, name) => this.resources.get(`${ns}/${name}`),
      sameInstance: (o) =>
        [...this.resources.values()].filter((r) => r !== o && r.spec.instanceId === o.spec.instanceId && r.spec.regionId === o.spec.regionId),
    },
    objects: {
      getSecret: (ns, name) => this.secrets.get(`${ns}/${name}`),
      getConfigMap: (ns, name) => this.configMaps.get(`${ns}/${name}`),
    },
    ecs: this.ecs,
    events: { record: (_o, type, reason, message) => this.events.push({ type, reason, message }) },
    writeStatus: async (obj, status) => {
      this.statusWrites.push(status);
      // Mirror what the API server does: the next read sees the written status.
      obj.status = structuredClone(status);
    },
    resyncPeriodMs: 600_000,
    now: () => this.clock,
    random: () => 0.5,
  });

  add(name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}): EcsInstanceAttributes {
    const obj = {
      apiVersion: "ecs.alicloud.dev/v1alpha1",
      kind: "EcsInstanceAttributes",
      metadata: { namespace: "ns", name, uid: `uid-${name}`, generation: 1, creationTimestamp: new Date("2026-11-27T08:00:00Z"), ...meta },
      spec: { instanceId: "i-bp1abc", regionId: "cn-hangzhou", ...spec },
    } as unknown as EcsInstanceAttributes;
    this.resources.set(`ns/${name}`, obj);
    return obj;
  }

  reconcile(name: string) {
    return this.reconciler.reconcile("ns", name, { log, signal: new AbortController().signal });
  }

  status(name: string) {
    return this.resources.get(`ns/${name}`)!.status!;
  }
}

const cond = (s: EcsInstanceAttributesStatus, type: string) => getCondition(s.conditions, type);

describe("Reconciler", () => {
  it("applies differences in one call, then is idle: no Modify and no status write", async () => {
    const w = new World();
    w.add("a", { instanceName: "new-name", description: "old description", deletionProtection: true });
    expect(await w.reconcile("a")).toEqual({ requeueAfterMs: 600_000 });
    expect(w.modifies).toEqual([{ instanceId: "i-bp1abc", instanceName: "new-name", deletionProtection: true }]);
    expect(cond(w.status("a"), "Ready")).toMatchObject({ status: "True", reason: "InSync" });
    expect(cond(w.status("a"), "Synced")).toMatchObject({ status: "True" });
    expect(w.events[0]).toMatchObject({ type: "Normal", reason: "Applied" });
    expect(w.events[0]!.message).toContain("REQ-1");

    const writes = w.statusWrites.length;
    await w.reconcile("a");
    expect(w.modifies).toHaveLength(1);
    expect(w.statusWrites).toHaveLength(writes);
  });

  it("holds back NIC queues while Running and reports them, applies once Stopped", async () => {
    const w = new World();
    w.ecsInstance = instance({ networkInterfaceQueueNumber: 2 });
    w.ecs.getInstance = async () => ({ ...w.ecsInstance!, networkInterfaceQueueNumber: w.ecsInstance!.networkInterfaceQueueNumber });
    w.add("a", { instanceName: "new-name", networkInterfaceQueueNumber: 4 });
    expect(await w.reconcile("a")).toEqual({ requeueAfterMs: 15_000 });
    expect(w.modifies).toEqual([{ instanceId: "i-bp1abc", instanceName: "new-name" }]);
    expect(w.status("a").pendingChanges).toEqual(["networkInterfaceQueueNumber"]);
    expect(cond(w.status("a"), "Ready")).toMatchObject({ status: "False", reason: "WaitingForInstanceState" });

    w.ecsInstance.status = "Stopped";
    await w.reconcile("a");
    expect(w.modifies[1]).toEqual({ instanceId: "i-bp1abc", networkInterfaceQueueNumber: 4 });
    expect(w.status("a").pendingChanges).toEqual([]);
    expect(cond(w.status("a"), "Ready")).toMatchObject({ status: "True" });
  });

  it("reports drift without writing under Observe", async () => {
    const w = new World();
    w.add("a", { instanceName: "new-name", managementPolicy: "Observe" });
    await w.reconcile("a");
    expect(w.modifies).toEqual([]);
    expect(cond(w.status("a"), "Ready")).toMatchObject({ status: "False", reason: "DriftDetected" });
    expect(w.status("a").pendingChanges).toEqual(["instanceName"]);
  });

  it("makes no ECS call while paused", async () => {
    const w = new World();
    let reads = 0;
    w.ecs.getInstance = async () => (reads++, w.ecsInstance);
    w.add("a", { instanceName: "new-name" }, { annotations: { "ecs.alicloud.dev/paused": "true" } });
    expect(await w.reconcile("a")).toEqual({ awaitChange: true });
    expect(reads).toBe(0);
    expect(cond(w.status("a"), "Synced")).toMatchObject({ reason: "Paused" });
  });

  it("gives the newer of two resources on one instance a Conflict and never applies it", async () => {
    const w = new World();
    w.add("old", { instanceName: "from-old" });
    w.add("new", { instanceName: "from-new" }, { creationTimestamp: new Date("2026-11-27T09:00:00Z") });
    await w.reconcile("new");
    expect(w.modifies).toEqual([]);
    expect(cond(w.status("new"), "Ready")).toMatchObject({ status: "False", reason: "Conflict" });
    expect(cond(w.status("new"), "Ready")!.message).toContain("ns/old");
    await w.reconcile("old");
    expect(w.modifies).toEqual([{ instanceId: "i-bp1abc", instanceName: "from-old" }]);
  });

  it("reports a missing Secret by name and key without calling ECS", async () => {
    const w = new World();
    w.add("a", { passwordSecretRef: { name: "pw", key: "password" } });
    expect(await w.reconcile("a")).toEqual({ awaitChange: true });
    expect(cond(w.status("a"), "Ready")).toMatchObject({ reason: "SecretNotFound", message: "spec.passwordSecretRef: Secret ns/pw not found" });
    w.secrets.set("ns/pw", { metadata: { name: "pw", namespace: "ns", uid: "s1", resourceVersion: "1" }, data: {} });
    await w.reconcile("a");
    expect(cond(w.status("a"), "Ready")!.message).toBe('spec.passwordSecretRef: key "password" not found in Secret ns/pw');
  });

  it("reports a missing user-data ConfigMap as ConfigMapNotFound", async () => {
    const w = new World();
    w.add("a", { userData: { configMapRef: { name: "ud", key: "init" } } });
    await w.reconcile("a");
    expect(cond(w.status("a"), "Ready")).toMatchObject({ reason: "ConfigMapNotFound", message: "spec.userData.configMapRef: ConfigMap ns/ud not found" });
  });

  it("applies a password once per Secret version, sets RestartRequired, clears it after a restart", async () => {
    const w = new World();
    const secret = (rv: string, value: string): SecretLike => ({
      metadata: { name: "pw", namespace: "ns", uid: "s1", resourceVersion: rv },
      data: { password: Buffer.from(value).toString("base64") },
    });
    w.secrets.set("ns/pw", secret("1", "Corr3ct!Horse"));
    w.add("a", { passwordSecretRef: { name: "pw", key: "password" } });
    await w.reconcile("a");
    expect(w.modifies).toEqual([{ instanceId: "i-bp1abc", password: "Corr3ct!Horse" }]);
    expect(cond(w.status("a"), "RestartRequired")).toMatchObject({ status: "True", reason: "RestartPending" });
    expect(w.status("a").appliedSecretVersions?.password).toMatchObject({ kind: "Secret", name: "pw", key: "password", resourceVersion: "1" });
    await w.reconcile("a");
    expect(w.modifies).toHaveLength(1);

    w.secrets.set("ns/pw", secret("2", "N3w!Battery"));
    await w.reconcile("a");
    expect(w.modifies).toHaveLength(2);
    expect(w.modifies[1]!.password).toBe("N3w!Battery");

    w.clock = new Date("2026-11-27T10:05:00Z");
    w.ecsInstance!.startTime = "2026-11-27T10:04:00Z";
    await w.reconcile("a");
    expect(cond(w.status("a"), "RestartRequired")).toMatchObject({ status: "False", reason: "NoRestartPending" });
    // The value never lands in status or Events.
    const everything = JSON.stringify([w.statusWrites, w.events]);
    expect(everything).not.toContain("Corr3ct!Horse");
    expect(everything).not.toContain("N3w!Battery");
  });

  it("rejects a Windows-invalid hostname as InvalidSpec once the OS is known", async () => {
    const w = new World();
    w.ecsInstance = instance({ osType: "windows" });
    w.add("a", { hostName: "web.example.com" });
    expect(await w.reconcile("a")).toEqual({ awaitChange: true });
    expect(w.modifies).toEqual([]);
    expect(cond(w.status("a"), "Ready")).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(cond(w.status("a"), "Ready")!.message).toContain("hostName");
  });

  // Issue 13: every recorded ECS failure is rethrown; the runtime's error policy (one table) says
  // when it comes back. Terminal → the next resync (was: returned by the reconciler itself).
  it("records a terminal ECS error with its raw code, rethrows it for the error policy (resync), and clears it once fixed", async () => {
    const w = new World();
    w.modifyError = new EcsError({
      code: "InvalidSecurityGroupVpc.NotBelongToOneVpc",
      message: "The security group and instance are not in the same VPC.",
      action: "ModifyInstanceAttribute",
      httpStatus: 403,
      requestId: "REQ-9",
    });
    w.add("a", { securityGroupIds: ["sg-other"] });
    const thrown = await w.reconcile("a").catch((e: unknown) => e);
    expect(thrown).toBe(w.modifyError);
    expect(errorPolicy(w.reconciler.cadence)(thrown, { namespace: "ns", name: "a" }, 1)).toEqual({ requeueAfterMs: 600_000 });
    expect(w.status("a").error).toMatchObject({ code: "InvalidSecurityGroupVpc.NotBelongToOneVpc", retryable: false });
    expect(cond(w.status("a"), "Synced")).toMatchObject({ status: "False", reason: "TerminalError" });
    expect(cond(w.status("a"), "Ready")!.reason).toBe("InvalidSecurityGroupVpcNotBelongToOneVpc");
    expect(JSON.stringify(w.status("a"))).not.toContain("REQ-9");
    expect(w.events.at(-1)).toMatchObject({ type: "Warning" });
    expect(w.events.at(-1)!.message).toContain("REQ-9");

    w.modifyError = undefined;
    await w.reconcile("a");
    expect(w.status("a").error).toBeUndefined();
    expect(cond(w.status("a"), "Synced")).toMatchObject({ status: "True" });
  });

  it("rethrows transient errors for the work queue after recording them", async () => {
    const w = new World();
    w.modifyError = new EcsError({
      code: "InternalError",
      message: "The request processing has failed due to some unknown error.",
      action: "ModifyInstanceAttribute",
      httpStatus: 500,
    });
    w.add("a", { instanceName: "new-name" });
    await expect(w.reconcile("a")).rejects.toThrow(EcsError);
    expect(w.status("a").error).toMatchObject({ code: "InternalError", retryable: true });
    expect(cond(w.status("a"), "Synced")).toMatchObject({ reason: "TransientError" });
  });

  it("records a credentials error once per reconcile: one read, one Warning, status, rethrown for the error policy", async () => {
    const w = new World();
    let reads = 0;
    const denied = new EcsError({
      code: "InvalidAccessKeyId.NotFound",
      message: "Specified access key is not found.",
      action: "DescribeInstances",
      httpStatus: 404,
      requestId: "REQ-A",
    });
    w.ecs.getInstance = async () => {
      reads++;
      throw denied;
    };
    w.add("a", { instanceName: "new-name" });
    await expect(w.reconcile("a")).rejects.toBe(denied);
    expect(reads).toBe(1);
    expect(w.modifies).toEqual([]);
    expect(w.statusWrites).toHaveLength(1);
    expect(cond(w.status("a"), "Synced")).toMatchObject({ status: "False", reason: "CredentialsError" });
    expect(w.status("a").error).toMatchObject({ code: "InvalidAccessKeyId.NotFound", retryable: false, action: "DescribeInstances" });
    expect(w.events.filter((e) => e.type === "Warning")).toHaveLength(1);
    // The error policy brings it back at the next resync (or when the credentials Secret changes).
    expect(errorPolicy(w.reconciler.cadence)(denied, { namespace: "ns", name: "a" }, 1)).toEqual({ requeueAfterMs: 600_000 });
    // The same failure again changes nothing in status (no churn).
    await expect(w.reconcile("a")).rejects.toBe(denied);
    expect(w.statusWrites).toHaveLength(1);
  });

  it("does not record an abort (shutdown) as an ECS failure", async () => {
    const w = new World();
    const aborted = new DOMException("This operation was aborted", "AbortError");
    w.ecs.getInstance = async () => {
      throw aborted;
    };
    w.add("a", { instanceName: "new-name" });
    await expect(w.reconcile("a")).rejects.toBe(aborted);
    expect(w.statusWrites).toEqual([]);
  });

  it("reports a missing instance", async () => {
    const w = new World();
    w.ecsInstance = null;
    w.add("a", { instanceName: "new-name" });
    await w.reconcile("a");
    expect(cond(w.status("a"), "Ready")).toMatchObject({ status: "False", reason: "InstanceNotFound" });
  });

  it("does not write while the instance is locked", async () => {
    const w = new World();
    w.ecsInstance = instance({ operationLocks: ["security"] });
    w.add("a", { instanceName: "new-name" });
    await w.reconcile("a");
    expect(w.modifies).toEqual([]);
    expect(cond(w.status("a"), "Ready")).toMatchObject({ reason: "InstanceLocked" });
  });
});

describe("restartedSince", () => {
  it("compares second-precision times directly", () => {
    expect(restartedSince("2026-11-27T10:00:30Z", "2026-11-27T10:00:10Z")).toBe(true);
    expect(restartedSince("2026-11-27T10:00:05Z", "2026-11-27T10:00:10Z")).toBe(false);
  });
  it("needs a later minute when StartTime has minute precision", () => {
    expect(restartedSince("2026-11-27T10:00Z", "2026-11-27T10:00:10Z")).toBe(false);
    expect(restartedSince("2026-11-27T10:01Z", "2026-11-27T10:00:10Z")).toBe(true);
    expect(restartedSince(undefined, "2026-11-27T10:00:10Z")).toBe(false);
  });
});

// Issue 18: the kstatus conditions, derived in one place (src/reconciler/status.ts) from the Ready and
// Synced reasons (REASON_DOCS' kstatus column). Abnormal-true: present only while True.
describe("kstatus conditions (Reconciling / Stalled)", () => {
  const kstatus = (w: World, name: string) =>
    (w.status(name).conditions ?? [])
      .filter((c) => c.type === "Reconciling" || c.type === "Stalled")
      .map(({ type, status, reason }) => ({ type, status, reason }));

  it("in sync: neither is present, and an idle resync writes nothing", async () => {
    const w = new World();
    w.add("a", { instanceName: "new-name" });
    await w.reconcile("a");
    expect(cond(w.status("a"), "Ready")).toMatchObject({ status: "True" });
    expect(kstatus(w, "a")).toEqual([]);
    const writes = w.statusWrites.length;
    w.clock = new Date("2026-11-27T10:01:00Z");
    await w.reconcile("a");
    await w.reconcile("a");
    expect(w.statusWrites).toHaveLength(writes);
  });

  it("waiting for an instance state: Reconciling=True with the Ready reason and message, removed once converged", async () => {
    const w = new World();
    w.ecsInstance = instance({ networkInterfaceQueueNumber: 2 });
    w.add("a", { networkInterfaceQueueNumber: 4 });
    await w.reconcile("a");
    expect(kstatus(w, "a")).toEqual([{ type: "Reconciling", status: "True", reason: "WaitingForInstanceState" }]);
    expect(cond(w.status("a"), "Reconciling")!.message).toBe(cond(w.status("a"), "Ready")!.message);
    // The state poll finds the same state: nothing to write (no flapping of Reconciling).
    const writes = w.statusWrites.length;
    w.clock = new Date("2026-11-27T10:00:15Z");
    await w.reconcile("a");
    expect(w.statusWrites).toHaveLength(writes);

    w.ecsInstance.status = "Stopped";
    await w.reconcile("a");
    expect(cond(w.status("a"), "Ready")).toMatchObject({ status: "True" });
    expect(kstatus(w, "a")).toEqual([]);
  });

  it("a terminal ECS error: Stalled=True (TerminalError, naming the code) until the spec is fixed; the same failure again writes nothing", async () => {
    const w = new World();
    w.modifyError = new EcsError({
      code: "InvalidHostName.Malformed",
      message: "The specified HostName is invalid.",
      action: "ModifyInstanceAttribute",
      httpStatus: 400,
    });
    w.add("a", { hostName: "bad" });
    await expect(w.reconcile("a")).rejects.toBe(w.modifyError);
    expect(kstatus(w, "a")).toEqual([{ type: "Stalled", status: "True", reason: "TerminalError" }]);
    expect(cond(w.status("a"), "Stalled")!.message).toContain("InvalidHostName.Malformed");
    const writes = w.statusWrites.length;
    await expect(w.reconcile("a")).rejects.toBe(w.modifyError);
    expect(w.statusWrites).toHaveLength(writes);

    w.modifyError = undefined;
    await w.reconcile("a");
    expect(kstatus(w, "a")).toEqual([]);
  });

  it("a transient ECS error: Reconciling=True (TransientError), not Stalled", async () => {
    const w = new World();
    w.modifyError = new EcsError({ code: "InternalError", message: "unknown error", action: "ModifyInstanceAttribute", httpStatus: 500 });
    w.add("a", { instanceName: "new-name" });
    await expect(w.reconcile("a")).rejects.toThrow(EcsError);
    expect(kstatus(w, "a")).toEqual([{ type: "Reconciling", status: "True", reason: "TransientError" }]);
  });

  it("guards that need a person: invalid spec, missing reference, conflict, credentials, missing instance, Observe drift are Stalled", async () => {
    const w = new World();
    w.ecsInstance = instance({ osType: "windows" });
    w.add("invalid", { hostName: "web.example.com" });
    await w.reconcile("invalid");
    expect(kstatus(w, "invalid")).toEqual([{ type: "Stalled", status: "True", reason: "InvalidSpec" }]);

    const v = new World();
    v.add("secret", { passwordSecretRef: { name: "pw", key: "password" }, instanceId: "i-secret" });
    v.add("old", { instanceName: "from-old" });
    v.add("new", { instanceName: "from-new" }, { creationTimestamp: new Date("2026-11-27T09:00:00Z") });
    v.add("observe", { instanceName: "drifted", managementPolicy: "Observe", instanceId: "i-observe" });
    for (const n of ["secret", "new", "observe"]) await v.reconcile(n);
    expect(kstatus(v, "secret")).toEqual([{ type: "Stalled", status: "True", reason: "SecretNotFound" }]);
    expect(kstatus(v, "new")).toEqual([{ type: "Stalled", status: "True", reason: "Conflict" }]);
    expect(kstatus(v, "observe")).toEqual([{ type: "Stalled", status: "True", reason: "DriftDetected" }]);

    const gone = new World();
    gone.ecsInstance = null;
    gone.add("a", { instanceName: "new-name" });
    await gone.reconcile("a");
    expect(kstatus(gone, "a")).toEqual([{ type: "Stalled", status: "True", reason: "InstanceNotFound" }]);

    const denied = new World();
    denied.ecs.getInstance = async () => {
      throw new EcsError({ code: "Forbidden.RAM", message: "denied", action: "DescribeInstances", httpStatus: 403 });
    };
    denied.add("a", { instanceName: "new-name" });
    await expect(denied.reconcile("a")).rejects.toThrow(EcsError);
    expect(kstatus(denied, "a")).toEqual([{ type: "Stalled", status: "True", reason: "CredentialsError" }]);
  });

  it("paused: neither (kstatus falls back to Ready=False, InProgress; Argo CD's script says Suspended)", async () => {
    const w = new World();
    w.add("a", { instanceName: "new-name" }, { annotations: { "ecs.alicloud.dev/paused": "true" } });
    await w.reconcile("a");
    expect(kstatus(w, "a")).toEqual([]);
  });
});

describe("kstatusFrom", () => {
  const c = (status: "True" | "False", reason: string) => ({ status, reason, message: `${reason} message` });

  it("Stalled wins over Reconciling, whichever condition raises it", () => {
    expect(kstatusFrom(c("False", "WaitingForRestart"), c("False", "TerminalError"))).toEqual({
      type: "Stalled",
      condition: { status: "True", reason: "TerminalError", message: "TerminalError message" },
    });
    expect(kstatusFrom(c("False", "InvalidSpec"), c("False", "Throttled"))?.type).toBe("Stalled");
  });

  it("reasons derived from ECS codes raise nothing by themselves (Synced's class reason does)", () => {
    expect(kstatusFrom(c("False", "InvalidHostNameMalformed"), c("True", "ReconcileSuccess"))).toBeUndefined();
    expect(kstatusFrom(c("False", "ThrottlingUser"), c("False", "Throttled"))?.condition.reason).toBe("Throttled");
  });

  it("a True condition raises nothing whatever its reason", () => {
    expect(kstatusFrom(c("True", "InSync"), c("True", "ReconcileSuccess"))).toBeUndefined();
    expect(kstatusFrom(c("True", "TerminalError"), c("True", "TransientError"))).toBeUndefined();
  });
});
