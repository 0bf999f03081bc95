/**
 * A hostname that waits for a restart costs one call, not one per state poll (issue 20, item 1).
 *
 * Real kube-apiserver + etcd, the ECS emulator over HTTP, the controller as a child process with a
 * short state poll and resync. The hostname is changed twice before the instance restarts: ECS
 * answers the second with InvalidInstanceStatus.NeedRestart. The call log must show that second
 * hostname sent once until the restart, while another field changed meanwhile still applies; after
 * a restart from ECS it is sent once more and the resource is Ready.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type CallRecord, type EmulatorHandle, startEmulatorInProcess } from "../../../harness/emulator.js";
import { cond, Fleet, REGION } from "../../../harness/fleet.js";
import { sleep, waitFor } from "../../../harness/wait.js";

const ns = `hold-${Date.now().toString(36)}`;
const ID = "i-holdhost";
/** Observation window with the hold in place: several state polls and resyncs long. */
const WINDOW_MS = 20_000;
let fleet: Fleet;
let emu: EmulatorHandle;
let ctl: RunningController;

const diag = async () =>
  `status: ${JSON.stringify((await fleet.get("h")).status)}\ninstance: ${JSON.stringify(await emu.admin.getInstance(ID))}\ncontroller log tail:\n${ctl.logs().slice(-1500)}`;
const hostNameCalls = async (value: string): Promise<CallRecord[]> =>
  (await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).filter((c) => c.params["InstanceId"] === ID && c.params["HostName"] === value);

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
  emu = await startEmulatorInProcess({
    delays: { stopMs: 300, startMs: 300 },
    seed: { instances: [{ instanceId: ID, regionId: REGION, instanceName: "hold-seed", hostName: "seed-host" }] },
  });
  ctl = await startController({
    kubeconfig: inject("kubeconfigPath"),
    ecsEndpoint: emu.url,
    namespace: ns,
    args: ["--resync-period=4s", "--state-poll-interval=2s"],
  });
  await ctl.waitForLog(/workers running/);
});

afterAll(async () => {
  await ctl?.stop();
  await emu?.stop();
  await fleet?.deleteNamespace();
});

describe("restart hold", () => {
  it("sends a second hostname once until the restart, applies other fields meanwhile, and sends it after the restart", async () => {
    await fleet.create("h", { regionId: REGION, instanceId: ID, hostName: "first-host" });
    await fleet.waitForCondition("h", "RestartRequired", "True", { timeoutMs: 60_000, diag });

    await fleet.patchSpec("h", { hostName: "second-host" });
    await fleet.waitForCondition("h", "Ready", "False", { reason: "WaitingForRestart", timeoutMs: 60_000, diag });
    await fleet.patchSpec("h", { description: "changed while held" });
    await waitFor("the description to be applied", async () => (await emu.admin.getInstance(ID)).description === "changed while held", {
      timeoutMs: 30_000,
      diag,
    });

    await sleep(WINDOW_MS);
    const held = await hostNameCalls("second-host");
    process.stderr.write(
      `[restart-hold] ModifyInstanceAttribute calls with the held hostname in ${WINDOW_MS / 1000}+ s before the restart: ${held.length} (${held.map((c) => c.code).join(", ")})\n`,
    );
    expect(held.map((c) => c.code)).toEqual(["InvalidInstanceStatus.NeedRestart"]);
    const obj = await fleet.get("h");
    expect(cond(obj, "Ready")).toMatchObject({ status: "False", reason: "WaitingForRestart" });
    expect(cond(obj, "Ready")?.message).toContain("hostName");
    expect(cond(obj, "RestartRequired")?.status).toBe("True");
    expect(obj.status?.pendingChanges).toEqual(["hostName"]);

    // ECS reports StartTime to the minute: a restart shows only in a later minute than the instance's
    // last start and the hold, so let the minute turn first (as the password scenario does).
    const since = Date.parse(obj.status?.restartHolds?.[0]?.since ?? "");
    await waitFor("the next minute", () => Math.floor(Date.now() / 60_000) > Math.floor(since / 60_000), { timeoutMs: 65_000 });
    await emu.admin.reboot(ID);
    await fleet.waitForCondition("h", "Ready", "True", { reason: "InSync", timeoutMs: 60_000, diag });
    expect((await hostNameCalls("second-host")).map((c) => c.code)).toEqual(["InvalidInstanceStatus.NeedRestart", "OK"]);
    expect((await emu.admin.getInstance(ID)).hostName).toBe("second-host");
  });
});
