/**
 * Operation locks (issue 19 item 4): only a security lock makes ECS refuse ModifyInstanceAttribute
 * (src/cloud/locks.ts cites the pages), so only a security lock pauses the controller's writes.
 *
 * Real kube-apiserver + etcd, the ECS emulator over HTTP (which refuses Modify only under a security
 * lock, with InstanceLockedForSecurity), the controller as a child process with a short resync.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type EmulatorHandle, startEmulatorInProcess } from "../../../harness/emulator.js";
import { cond, Fleet, REGION } from "../../../harness/fleet.js";
import { sleep, waitFor } from "../../../harness/wait.js";

const ns = `locks-${Date.now().toString(36)}`;
const FINANCIAL = "i-lockfin";
const SECURITY = "i-locksec";
/** Several resyncs (4 s) with the security lock in place. */
const WINDOW_MS = 10_000;

let fleet: Fleet;
let emu: EmulatorHandle;
let ctl: RunningController;

const modifyCount = async (id: string): Promise<number> =>
  (await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).filter((c) => c.params["InstanceId"] === id).length;
const diag = (name: string) => async () => `status: ${JSON.stringify((await fleet.get(name)).status)}\ncontroller log tail:\n${ctl.logs().slice(-1500)}`;

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
  emu = await startEmulatorInProcess({
    seed: {
      instances: [
        { instanceId: FINANCIAL, regionId: REGION, operationLocks: [{ lockReason: "financial", lockMsg: "overdue" }] },
        { instanceId: SECURITY, regionId: REGION, operationLocks: [{ lockReason: "security", lockMsg: "audit" }] },
      ],
    },
  });
  ctl = await startController({ kubeconfig: inject("kubeconfigPath"), ecsEndpoint: emu.url, namespace: ns, args: ["--resync-period=4s"] });
  await ctl.waitForLog(/workers running/);
});

afterAll(async () => {
  await ctl?.stop();
  await emu?.stop();
  await fleet?.deleteNamespace();
});

describe("operation locks", () => {
  it("a financial lock does not pause writes: the change is applied and the lock is reported", async () => {
    await fleet.create("fin", { instanceId: FINANCIAL, description: "applied under a financial lock" });
    const obj = await fleet.waitForCondition("fin", "Ready", "True", { reason: "InSync", timeoutMs: 60_000, diag: diag("fin") });
    expect((await emu.admin.getInstance(FINANCIAL)).description).toBe("applied under a financial lock");
    expect(obj.status?.atProvider?.["lockReasons"]).toEqual(["financial"]);
    expect(await modifyCount(FINANCIAL)).toBe(1);
  });

  it("a security lock pauses writes (no Modify sent) until it is lifted", async () => {
    await fleet.create("sec", { instanceId: SECURITY, description: "waits for the lock" });
    const locked = await fleet.waitForCondition("sec", "Ready", "False", { reason: "InstanceLocked", timeoutMs: 60_000, diag: diag("sec") });
    expect(cond(locked, "Ready")?.message).toContain("security");
    await sleep(WINDOW_MS);
    const whileLocked = await modifyCount(SECURITY);
    process.stderr.write(`[locks] Modify calls under a security lock in ${WINDOW_MS / 1000}+ s: ${whileLocked}\n`);
    expect(whileLocked).toBe(0);

    await emu.admin.patchInstance(SECURITY, { operationLocks: [] });
    // The lock poll is 10 min; the resync's read sees the lock gone.
    await waitFor("the change applied after the lock was lifted", async () => (await emu.admin.getInstance(SECURITY)).description === "waits for the lock", {
      timeoutMs: 60_000,
      diag: diag("sec"),
    });
    await fleet.waitForCondition("sec", "Ready", "True", { reason: "InSync", timeoutMs: 60_000, diag: diag("sec") });
    expect(await modifyCount(SECURITY)).toBe(1);
  }, 120_000);
});
