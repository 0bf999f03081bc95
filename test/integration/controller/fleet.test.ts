/**
 * 200 resources in one region: the initial convergence and every resync round read the fleet with
 * ceil(200/100) = 2 DescribeInstances calls, not 200, and idle rounds write nothing.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type EmulatorHandle, startEmulatorInProcess } from "../../../harness/emulator.js";
import { Fleet, fleetInstances, fleetSpecs } from "../../../harness/fleet.js";
import { waitFor } from "../../../harness/wait.js";

const N = 200;
const RESYNC_MS = 6_000;
const ns = `fleet-${Date.now().toString(36)}`;

let emu: EmulatorHandle;
let ctl: RunningController;
let fleet: Fleet;

/** Resync rounds the controller logged so far. */
const rounds = () => ctl.logRecords().filter((r) => r["msg"] === "resync round queued").length;

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
  emu = await startEmulatorInProcess({ seed: { instances: fleetInstances("fleet", N) } });
  await fleet.createMany(
    fleetSpecs("fleet", N, (i) => ({ instanceName: `managed-${i}` })),
    25,
  );
  // Started after the resources exist, so its first round reads all of them at once.
  ctl = await startController({
    kubeconfig: inject("kubeconfigPath"),
    ecsEndpoint: emu.url,
    namespace: ns,
    args: [`--resync-period=${RESYNC_MS}ms`, "--concurrency=4", "--ecs-qps=200", "--ecs-burst=200"],
  });
}, 120_000);

afterAll(async () => {
  await ctl?.stop();
  await emu?.stop();
  await fleet?.deleteNamespace();
});

describe("a 200-resource fleet", () => {
  it("converges with batched reads and one Modify per resource", async () => {
    await fleet.waitConverged({ count: N, timeoutMs: 120_000, diag: () => `controller log tail:\n${ctl.logs().slice(-2000)}` });
    const modifies = await emu.admin.callLog({ action: "ModifyInstanceAttribute" });
    expect(modifies.filter((c) => c.code === "OK")).toHaveLength(N);
    expect(new Set(modifies.map((c) => c.params["InstanceId"])).size).toBe(N);
    // Every round (the initial one included) read all 200 in 2 calls and reconciles used those reads;
    // a slow machine may fit more than one round into the convergence, and one may be in flight.
    const describes = await emu.admin.callLog({ action: "DescribeInstances" });
    expect(rounds()).toBeGreaterThanOrEqual(1);
    expect(describes.length).toBeLessThanOrEqual(2 * (rounds() + 1));
  }, 150_000);

  it("reads ceil(N/100) times per idle resync round and writes nothing", async () => {
    const firstRound = rounds();
    const before = await emu.admin.callLog({ action: "DescribeInstances" });
    const modifiesBefore = (await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).length;
    await waitFor("two resync rounds", () => rounds() >= firstRound + 2, { timeoutMs: 60_000, intervalMs: 500 });
    const seen = rounds() - firstRound;
    const after = await emu.admin.callLog({ action: "DescribeInstances" });
    const perRound = (after.length - before.length) / seen;
    process.stdout.write(
      `fleet: ${N} resources, ${seen} idle rounds, ${after.length - before.length} DescribeInstances (${perRound} per round, ${(perRound / N).toFixed(3)} per resource)\n`,
    );
    // Each round: exactly ceil(200/100) = 2; a round still in flight at the measurement may add 2.
    expect(after.length - before.length).toBeGreaterThanOrEqual(2 * seen);
    expect(after.length - before.length).toBeLessThanOrEqual(2 * (seen + 1));
    // Every resource was read in every round (on a loaded machine a round can overlap the previous
    // one's reconciles; the call count above bounds what that may cost).
    const idsRead = after.slice(before.length).reduce((n, c) => n + (JSON.parse(c.params["InstanceIds"] ?? "[]") as string[]).length, 0);
    expect(idsRead).toBeGreaterThanOrEqual(N * seen);
    expect((await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).length).toBe(modifiesBefore);
  }, 90_000);
});
