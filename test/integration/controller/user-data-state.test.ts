/**
 * User data under both readings of the docs (issue 19 item 2): the current ModifyInstanceAttribute
 * page gives no state rule for UserData, older pages required Stopped. The emulator's account switch
 * `userDataRequiresStopped` gives either; the controller must converge under both.
 *
 * Real kube-apiserver + etcd, the ECS emulator over HTTP, the controller as a child process with a
 * short state poll and resync.
 *  A. ECS accepts user data while Running: each change is one Modify (with the other fields), user
 *     data is sent once per change, Ready never leaves True.
 *  B. ECS requires Stopped: the first Modify (user data + description) is refused with
 *     IncorrectInstanceStatus; the description is retried alone; user data is not sent again while
 *     the instance runs (several state polls and resyncs); Ready is False naming userData; once the
 *     instance is Stopped user data is sent exactly once and Ready turns True (one transition).
 *  B2. Started again and changed while Running: one more refused try, then held (no loop).
 * Each scenario prints its Modify and Ready transition counts.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type CallRecord, type EmulatorHandle, startEmulatorInProcess } from "../../../harness/emulator.js";
import { cond, Fleet, REGION } from "../../../harness/fleet.js";
import { ReadyWatch } from "../../../harness/ready-watch.js";
import { sleep, waitFor } from "../../../harness/wait.js";

const ns = `udstate-${Date.now().toString(36)}`;
const ACCEPTING = "i-udaccept";
const STOPPED_RULE = "i-udstopped";
/** Observation window while user data is held: several state polls (2 s) and resyncs (4 s). */
const WINDOW_MS = 12_000;
const b64 = (s: string): string => Buffer.from(s).toString("base64");

let fleet: Fleet;
let emu: EmulatorHandle;
let ctl: RunningController;
let watch: ReadyWatch;

const diag = (name: string, id: string) => async () =>
  `status: ${JSON.stringify((await fleet.get(name)).status)}\ninstance: ${JSON.stringify(await emu.admin.getInstance(id))}\ncontroller log tail:\n${ctl.logs().slice(-1500)}`;
const modifies = async (id: string): Promise<CallRecord[]> =>
  (await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).filter((c) => c.params["InstanceId"] === id);
/** One entry per Modify: the parameters it carried (values left out) and ECS's answer. */
const summary = (calls: CallRecord[]): string[] =>
  calls.map(
    (c) =>
      `${Object.keys(c.params)
        .filter((k) => k !== "InstanceId" && k !== "RegionId")
        .sort()
        .join("+")}:${c.code}`,
  );
const appliedGeneration = async (name: string): Promise<number | undefined> => (await fleet.get(name)).status?.appliedSecretVersions?.userData?.generation;

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
  emu = await startEmulatorInProcess({
    delays: { stopMs: 300, startMs: 300 },
    seed: {
      instances: [
        { instanceId: ACCEPTING, regionId: REGION, status: "Running" },
        { instanceId: STOPPED_RULE, regionId: REGION, status: "Running" },
      ],
    },
  });
  ctl = await startController({
    kubeconfig: inject("kubeconfigPath"),
    ecsEndpoint: emu.url,
    namespace: ns,
    args: ["--resync-period=4s", "--state-poll-interval=2s"],
  });
  await ctl.waitForLog(/workers running/);
  watch = new ReadyWatch(() => fleet.list());
});

afterAll(async () => {
  await watch?.stop();
  await ctl?.stop();
  await emu?.stop();
  await fleet?.deleteNamespace();
});

describe("user data under both readings of the state rule", () => {
  it("A: ECS accepts user data while Running: one Modify per change, sent once, Ready stays True", async () => {
    await fleet.create("accept", { instanceId: ACCEPTING, description: "first", userData: { inlineBase64: b64("#!/bin/sh\necho one\n") } });
    await waitFor("user data applied while Running", async () => (await appliedGeneration("accept")) === 1, {
      timeoutMs: 60_000,
      diag: diag("accept", ACCEPTING),
    });
    const first = await fleet.patchSpec("accept", { description: "second", userData: { inlineBase64: b64("#!/bin/sh\necho two\n") } });
    const gen = first.metadata.generation;
    await waitFor("the second user data applied", async () => (await appliedGeneration("accept")) === gen, {
      timeoutMs: 60_000,
      diag: diag("accept", ACCEPTING),
    });
    await sleep(WINDOW_MS / 2); // a few resyncs: nothing is re-sent
    const calls = summary(await modifies(ACCEPTING));
    const instance = await emu.admin.getInstance(ACCEPTING);
    process.stderr.write(`[user-data-state] A accepting: Modify ${JSON.stringify(calls)}; Ready transitions ${watch.count("accept")}\n`);
    expect(calls).toEqual(["Description+UserData:OK", "Description+UserData:OK"]);
    expect(instance.status).toBe("Running");
    expect(Buffer.from(instance.userData, "base64").toString()).toContain("echo two");
    expect(watch.count("accept")).toBe(0);
    expect(cond(await fleet.get("accept"), "Ready")).toMatchObject({ status: "True", reason: "InSync" });
  }, 120_000);

  it("B: ECS requires Stopped: one refused try, the rest applied without it, then sent exactly once after Stop", async () => {
    await emu.admin.patchAccount({ userDataRequiresStopped: true });
    await fleet.create("stopped", { instanceId: STOPPED_RULE, description: "first", userData: { inlineBase64: b64("#!/bin/sh\necho stopped\n") } });
    await waitFor("the description applied without user data", async () => (await emu.admin.getInstance(STOPPED_RULE)).description === "first", {
      timeoutMs: 60_000,
      diag: diag("stopped", STOPPED_RULE),
    });
    await sleep(WINDOW_MS);
    const held = summary(await modifies(STOPPED_RULE));
    const obj = await fleet.get("stopped");
    process.stderr.write(`[user-data-state] B before Stop (${WINDOW_MS / 1000}+ s Running): Modify ${JSON.stringify(held)}\n`);
    expect(held).toEqual(["Description+UserData:IncorrectInstanceStatus", "Description:OK"]);
    expect(cond(obj, "Ready")).toMatchObject({ status: "False", reason: "WaitingForInstanceState" });
    expect(cond(obj, "Ready")?.message).toBe("instance is Running: userData needs Stopped (ECS refused it in another state)");
    expect(obj.status?.restartHolds).toEqual([expect.objectContaining({ field: "userData", cause: "NeedsStopped" })]);
    expect(obj.status?.pendingChanges).toEqual(["userData"]);

    await emu.admin.stop(STOPPED_RULE);
    await fleet.waitForCondition("stopped", "Ready", "True", { reason: "InSync", timeoutMs: 60_000, diag: diag("stopped", STOPPED_RULE) });
    await sleep(WINDOW_MS / 2); // a few resyncs while Stopped: nothing is re-sent
    const calls = summary(await modifies(STOPPED_RULE));
    const done = await fleet.get("stopped");
    process.stderr.write(`[user-data-state] B after Stop: Modify ${JSON.stringify(calls)}; Ready transitions ${watch.count("stopped")}\n`);
    expect(calls).toEqual(["Description+UserData:IncorrectInstanceStatus", "Description:OK", "UserData:OK"]);
    expect(done.status?.restartHolds).toBeUndefined();
    expect(cond(done, "RestartRequired")?.status).toBe("True");
    expect(watch.count("stopped")).toBe(1);
  }, 120_000);

  it("B2: ECS requires Stopped, a second change while Running again: one more refused try, then held (no loop)", async () => {
    await emu.admin.start(STOPPED_RULE);
    await emu.admin.waitForStatus(STOPPED_RULE, "Running");
    const before = (await modifies(STOPPED_RULE)).length;
    await fleet.patchSpec("stopped", { userData: { inlineBase64: b64("#!/bin/sh\necho second\n") } });
    await fleet.waitForCondition("stopped", "Ready", "False", { reason: "WaitingForInstanceState", timeoutMs: 60_000, diag: diag("stopped", STOPPED_RULE) });
    await sleep(WINDOW_MS);
    const calls = summary((await modifies(STOPPED_RULE)).slice(before));
    process.stderr.write(`[user-data-state] B2 second change while Running (${WINDOW_MS / 1000}+ s): Modify ${JSON.stringify(calls)}\n`);
    expect(calls).toEqual(["UserData:IncorrectInstanceStatus"]);
    expect((await fleet.get("stopped")).status?.restartHolds).toEqual([expect.objectContaining({ field: "userData", cause: "NeedsStopped" })]);
  }, 120_000);
});
