/**
 * The controller end to end: real kube-apiserver + etcd, the ECS emulator over HTTP, and the
 * controller as a child process (src/main.ts), each scenario asserting status, Events and the
 * emulator's call log. One controller serves the file, in its own namespace, with a short resync.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type CallRecord, type EmulatorHandle, startEmulatorInProcess } from "../../../harness/emulator.js";
import { cond, Fleet, REGION } from "../../../harness/fleet.js";
import { waitFor } from "../../../harness/wait.js";

const RESYNC_MS = 4_000;

const PASSWORD_1 = "Scenario-Pw-One1!";
const PASSWORD_2 = "Scenario-Pw-Two2!";
const USER_DATA = "#!/bin/sh\necho scenario-user-data-marker\n";

const ns = `scen-${Date.now().toString(36)}`;
let fleet: Fleet;
let emu: EmulatorHandle;
let ctl: RunningController;

const vpcA = "vpc-scena";
const vpcB = "vpc-scenb";
const ids = {
  full: "i-scenfull",
  retry: "i-scenretry",
  nic: "i-scennic",
  terminal: "i-scenterm",
  password: "i-scenpw",
  drift: "i-scendrift",
  observe: "i-scenobserve",
  gone: "i-scengone",
  conflict: "i-scenconflict",
  starting: "i-scenstarting",
  throttle1: "i-scenthr1",
  throttle2: "i-scenthr2",
  throttle3: "i-scenthr3",
  stateErr: "i-scenstate",
};

function instance(instanceId: string, extra: Record<string, unknown> = {}) {
  return { instanceId, regionId: REGION, instanceName: `seed-${instanceId.slice(2)}`, vpcId: vpcA, securityGroupIds: ["sg-scena1"], ...extra };
}

/** The controller's log tail, for wait diagnostics. */
const logTail = () => `controller log tail:\n${ctl.logs().slice(-2000)}`;
const waitOpts = (timeoutMs = 60_000) => ({ timeoutMs, intervalMs: 250, diag: logTail });

const waitForCondition = (name: string, type: string, status: string, reason?: string, timeoutMs?: number) =>
  fleet.waitForCondition(name, type, status, { ...(reason ? { reason } : {}), ...waitOpts(timeoutMs) });

const modifies = async (instanceId: string): Promise<CallRecord[]> =>
  (await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).filter((c) => c.params["InstanceId"] === instanceId);

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
  emu = await startEmulatorInProcess({
    delays: { stopMs: 500, startMs: 500 },
    seed: {
      instanceTypes: [{ instanceType: "ecs.g7.large", jumboFrame: true, maxQueueNumberPerEni: 8, totalEniQueueQuantity: 16, primaryEniQueueNumber: 2 }],
      vpcs: [{ vpcId: vpcA }, { vpcId: vpcB }],
      securityGroups: [
        { securityGroupId: "sg-scena1", vpcId: vpcA },
        { securityGroupId: "sg-scena2", vpcId: vpcA },
        { securityGroupId: "sg-scenb1", vpcId: vpcB },
      ],
      instances: Object.values(ids).map((id) => instance(id)),
    },
  });
  ctl = await startController({
    kubeconfig: inject("kubeconfigPath"),
    ecsEndpoint: emu.url,
    namespace: ns,
    args: [`--resync-period=${RESYNC_MS}ms`, "--state-poll-interval=1s", "--concurrency=4"],
  });
}, 120_000);

afterAll(async () => {
  await ctl?.stop();
  await emu?.stop();
  await fleet?.deleteNamespace();
});

describe("controller scenarios (real API server + emulator + controller process)", () => {
  it("applies a full resource in one Modify, then stays idle across resyncs", async () => {
    await fleet.secret("full-pw", { password: PASSWORD_1 });
    await fleet.create("full", {
      instanceId: ids.full,
      instanceName: "full-name",
      description: "Full scenario description",
      hostName: "full-host.internal",
      securityGroupIds: ["sg-scena1", "sg-scena2"],
      deletionProtection: true,
      enableJumboFrame: true,
      privateDnsNameOptions: { hostnameType: "Custom", enableIpDnsARecord: true },
      passwordSecretRef: { name: "full-pw", key: "password" },
    });
    const o = await waitForCondition("full", "Ready", "True", "InSync");
    expect(cond(o, "Synced")).toMatchObject({ status: "True" });
    expect(cond(o, "RestartRequired")).toMatchObject({ status: "True", reason: "RestartPending" });
    const inst = await emu.admin.getInstance(ids.full);
    expect(inst).toMatchObject({
      instanceName: "full-name",
      description: "Full scenario description",
      hostName: "full-host.internal",
      deletionProtection: true,
      enableJumboFrame: true,
    });
    expect([...inst.securityGroupIds].sort()).toEqual(["sg-scena1", "sg-scena2"]);
    expect(await emu.admin.verifyPassword(ids.full, PASSWORD_1)).toBe(true);
    expect(await modifies(ids.full)).toHaveLength(1);
    const evs = (await fleet.events()).filter((e) => e.involvedObject.name === "full" && e.reason === "Applied");
    expect(evs.length).toBeGreaterThanOrEqual(1);
    expect(evs[0]!.message).toMatch(/RequestId/);

    // Two resync rounds later: the instance was re-read, nothing was written.
    const before = (await emu.admin.callLog({ action: "DescribeInstances" })).length;
    await waitFor(
      "two more DescribeInstances rounds",
      async () => (await emu.admin.callLog({ action: "DescribeInstances" })).length >= before + 2,
      waitOpts(30_000),
    );
    expect(await modifies(ids.full)).toHaveLength(1);
  });

  it("retries InternalError with backoff and converges", async () => {
    await emu.admin.addFault({ action: "ModifyInstanceAttribute", code: "InternalError", count: 3 });
    await fleet.create("retry", { instanceId: ids.retry, instanceName: "retry-name" });
    await waitForCondition("retry", "Ready", "True", "InSync");
    const calls = await modifies(ids.retry);
    expect(calls.map((c) => c.code)).toEqual(["InternalError", "InternalError", "InternalError", "OK"]);
    // Backoff: the policy waits at least 0.5 s, 1 s, 2 s between attempts (jitter only adds).
    const span = Date.parse(calls[3]!.time) - Date.parse(calls[0]!.time);
    expect(span).toBeGreaterThanOrEqual(3_000);
    const o = await fleet.get("retry");
    expect(o.status?.error).toBeUndefined();
  });

  it("holds back a NIC queue change while Running, applies the rest, and applies it once Stopped", async () => {
    await fleet.create("nic", { instanceId: ids.nic, instanceName: "nic-renamed", networkInterfaceQueueNumber: 4 });
    const waiting = await waitForCondition("nic", "Ready", "False", "WaitingForInstanceState");
    expect(waiting.status?.pendingChanges).toEqual(["networkInterfaceQueueNumber"]);
    expect((await emu.admin.getInstance(ids.nic)).instanceName).toBe("nic-renamed");
    await emu.admin.stop(ids.nic);
    await waitForCondition("nic", "Ready", "True", "InSync");
    expect((await emu.admin.getInstance(ids.nic)).primaryEni.queueNumber).toBe(4);
    const calls = await modifies(ids.nic);
    expect(calls.every((c) => c.code === "OK")).toBe(true);
  });

  it("reports a terminal ECS code in status without a retry storm, and recovers when the spec is fixed", async () => {
    await fleet.create("terminal", { instanceId: ids.terminal, securityGroupIds: ["sg-scenb1"] });
    const failed = await waitForCondition("terminal", "Synced", "False", "TerminalError");
    expect(failed.status?.error).toMatchObject({ code: "InvalidSecurityGroupVpc.NotBelongToOneVpc", retryable: false });
    expect(cond(failed, "Ready")?.reason).toBe("InvalidSecurityGroupVpcNotBelongToOneVpc");
    // Over three resync periods a terminal error is retried at most once per resync, never in a loop.
    const start = (await modifies(ids.terminal)).length;
    await new Promise((r) => setTimeout(r, 3 * RESYNC_MS));
    const during = (await modifies(ids.terminal)).length - start;
    expect(during).toBeLessThanOrEqual(4);
    await fleet.updateSpec("terminal", { securityGroupIds: ["sg-scena2"] });
    const fixed = await waitForCondition("terminal", "Ready", "True", "InSync");
    expect(fixed.status?.error).toBeUndefined();
  });

  it("applies a rotated password exactly once, flags RestartRequired, and clears it after a reboot", async () => {
    await fleet.secret("pw", { password: PASSWORD_1 });
    await fleet.create("password", { instanceId: ids.password, passwordSecretRef: { name: "pw", key: "password" } });
    await waitForCondition("password", "RestartRequired", "True", "RestartPending");
    expect(await modifies(ids.password)).toHaveLength(1);

    // ECS reports StartTime to the minute, so only a start in a later minute than the apply proves
    // the restart; wait for the minute to turn before rebooting.
    const applied = Date.parse(cond(await fleet.get("password"), "RestartRequired")!.lastTransitionTime ?? "");
    await waitFor("the next minute", async () => Math.floor(Date.now() / 60_000) > Math.floor(applied / 60_000), waitOpts(65_000));
    await emu.admin.reboot(ids.password);
    await emu.admin.waitForStatus(ids.password, "Running");
    await waitForCondition("password", "RestartRequired", "False", "NoRestartPending");

    await fleet.secret("pw", { password: PASSWORD_2 });
    await waitForCondition("password", "RestartRequired", "True", "RestartPending");
    const calls = await modifies(ids.password);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.params["Password"]).toBeDefined();
    expect(calls[1]!.params["Password"]).not.toContain(PASSWORD_2);
    expect(await emu.admin.verifyPassword(ids.password, PASSWORD_2)).toBe(true);
    // Another resync: the same Secret version is not applied again.
    await new Promise((r) => setTimeout(r, 2 * RESYNC_MS));
    expect(await modifies(ids.password)).toHaveLength(2);
  });

  it("reverts drift under Apply after a resync and only reports it under Observe", async () => {
    await fleet.create("drift", { instanceId: ids.drift, instanceName: "drift-wanted" });
    await fleet.create("observe", { instanceId: ids.observe, instanceName: "observe-wanted", managementPolicy: "Observe" });
    await waitForCondition("drift", "Ready", "True", "InSync");
    const observed = await waitForCondition("observe", "Ready", "False", "DriftDetected");
    expect(observed.status?.pendingChanges).toEqual(["instanceName"]);

    await emu.admin.patchInstance(ids.drift, { instanceName: "changed-by-hand" });
    await waitFor("drift reverted", async () => (await emu.admin.getInstance(ids.drift)).instanceName === "drift-wanted", waitOpts(30_000));
    expect(await modifies(ids.observe)).toHaveLength(0);
    expect((await emu.admin.getInstance(ids.observe)).instanceName).not.toBe("observe-wanted");
  });

  it("reports InstanceNotFound when the instance is deleted", async () => {
    await fleet.create("gone", { instanceId: ids.gone, instanceName: "gone-name" });
    await waitForCondition("gone", "Ready", "True");
    await emu.admin.deleteInstance(ids.gone);
    await waitForCondition("gone", "Ready", "False", "InstanceNotFound", 30_000);
  });

  it("gives the newer of two resources on one instance a Conflict and never applies it", async () => {
    const old = await fleet.create("conflict-old", { instanceId: ids.conflict, instanceName: "from-old" });
    await waitForCondition("conflict-old", "Ready", "True");
    // creationTimestamp has second precision: make "older" unambiguous.
    const createdOld = Date.parse(String((old.metadata as { creationTimestamp?: string }).creationTimestamp));
    await waitFor("a later second", async () => Date.now() - createdOld > 1_100, waitOpts(5_000));
    await fleet.create("conflict-new", { instanceId: ids.conflict, instanceName: "from-new" });
    const c = await waitForCondition("conflict-new", "Ready", "False", "Conflict");
    expect(cond(c, "Ready")?.message).toContain(`${ns}/conflict-old`);
    await new Promise((r) => setTimeout(r, RESYNC_MS));
    expect((await emu.admin.getInstance(ids.conflict)).instanceName).toBe("from-old");
    expect((await modifies(ids.conflict)).every((m) => m.params["InstanceName"] === "from-old")).toBe(true);
  });

  it("waits while the instance is Starting and converges once Running", async () => {
    await emu.admin.patchDelays({ startMs: 4_000 });
    await emu.admin.setState(ids.starting, "Stopped");
    await emu.admin.start(ids.starting);
    await fleet.create("starting", { instanceId: ids.starting, hostName: "starting-host" });
    await waitForCondition("starting", "Ready", "False", "WaitingForInstanceState");
    await waitForCondition("starting", "Ready", "True", "InSync", 30_000);
    await emu.admin.patchDelays({ startMs: 500 });
    expect((await emu.admin.getInstance(ids.starting)).hostName).toBe("starting-host");
  });

  it("waits on IncorrectInstanceStatus from ECS (beyond the in-reconcile retries) and converges", async () => {
    // 5 attempts fit the in-reconcile budget; the 6th failure makes the reconcile report and requeue.
    await emu.admin.addFault({ action: "ModifyInstanceAttribute", code: "IncorrectInstanceStatus", count: 6 });
    await fleet.create("state-err", { instanceId: ids.stateErr, instanceName: "state-err-name" });
    const waiting = await waitForCondition("state-err", "Ready", "False", "WaitingForInstanceState");
    expect(waiting.status?.error).toMatchObject({ code: "IncorrectInstanceStatus", retryable: true });
    await waitForCondition("state-err", "Ready", "True", "InSync");
    const calls = await modifies(ids.stateErr);
    expect(calls.filter((c) => c.code === "IncorrectInstanceStatus")).toHaveLength(6);
    expect(calls.at(-1)!.code).toBe("OK");
    expect((await fleet.get("state-err")).status?.error).toBeUndefined();
  });

  it("converges through Throttling.User without calling before the window reopens", async () => {
    await emu.admin.addFault({ action: "ModifyInstanceAttribute", kind: "throttle", limitPerMinute: 2, window: "first-call" });
    try {
      await Promise.all([
        fleet.create("thr1", { instanceId: ids.throttle1, instanceName: "thr-one" }),
        fleet.create("thr2", { instanceId: ids.throttle2, instanceName: "thr-two" }),
        fleet.create("thr3", { instanceId: ids.throttle3, instanceName: "thr-three" }),
      ]);
      for (const n of ["thr1", "thr2", "thr3"]) await waitForCondition(n, "Ready", "True", "InSync", 200_000);
      const calls = (await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).filter((c) => c.params["InstanceId"]?.startsWith("i-scenthr"));
      const throttled = calls.filter((c) => c.code === "Throttling.User");
      expect(throttled.length).toBeGreaterThanOrEqual(1);
      // After the first throttled answer, the next success waits for the window (60 s from the first call).
      const firstOk = Date.parse(calls.find((c) => c.code === "OK")!.time);
      const firstThrottle = Date.parse(throttled[0]!.time);
      const after = calls.filter((c) => Date.parse(c.time) > firstThrottle);
      const nextOk = after.find((c) => c.code === "OK");
      expect(nextOk).toBeDefined();
      expect(Date.parse(nextOk!.time) - firstOk).toBeGreaterThanOrEqual(59_000);
      // No hammering: throttled calls stay few even though three resources waited a minute.
      expect(throttled.length).toBeLessThanOrEqual(4);
    } finally {
      await emu.admin.clearFaults();
    }
  }, 240_000);

  it("serves /metrics with reconcile, work-queue and ECS call metrics, and /healthz and /readyz", async () => {
    const metrics = await (await fetch(ctl.metricsUrl)).text();
    expect(metrics).toMatch(/controller_runtime_reconcile_total\{controller="ecsinstanceattributes",result="success"\} [1-9]/);
    expect(metrics).toMatch(/ecs_api_requests_total\{action="ModifyInstanceAttribute",region="cn-hangzhou",code="Success"\} [1-9]/);
    expect(metrics).toMatch(/ecs_api_requests_total\{action="ModifyInstanceAttribute",region="cn-hangzhou",code="InternalError"\} [1-9]/);
    expect(metrics).toContain("workqueue_depth{");
    expect(metrics).toContain("ecs_api_request_duration_seconds_bucket{");
    const healthz = await fetch(`${ctl.healthUrl}/healthz`);
    expect([healthz.status, await healthz.text()]).toEqual([200, "ok"]);
    const readyz = await fetch(`${ctl.healthUrl}/readyz?verbose`);
    expect(readyz.status).toBe(200);
    expect(await readyz.text()).toContain("leader-election");
  });

  it("never puts a password, user data or the access key secret into logs, Events, status or metrics", async () => {
    await fleet.secret("ud", { data: USER_DATA });
    await fleet.updateSpec("nic", { userData: { secretRef: { name: "ud", key: "data" } } });
    await waitForCondition("nic", "Ready", "True", "InSync");
    const list = { items: await fleet.list() };
    const metrics = await (await fetch(ctl.metricsUrl)).text();
    const captured = [
      ctl.logs(),
      metrics,
      JSON.stringify(list.items.map((i) => i.status)),
      JSON.stringify(await fleet.events()),
      JSON.stringify(await emu.admin.callLog()),
    ].join("\n");
    for (const s of [PASSWORD_1, PASSWORD_2, "scenario-user-data-marker", Buffer.from(USER_DATA).toString("base64"), "testsecret"]) {
      expect(captured.includes(s), `leaked ${s.slice(0, 4)}…`).toBe(false);
    }
    // The debug log is not empty: the check above has something to look at.
    expect(ctl.logRecords().length).toBeGreaterThan(10);
  });
});
