/**
 * Reliability scenario 6 (issue 9): concurrent edits. Each of 5 resources gets 20 spec updates
 * within 2 s while the controller is writing (ECS writes take 300–600 ms) → the final spec of each
 * is applied and intermediate specs are coalesced (far fewer than 20 Modify calls per resource).
 * Status writes made while the spec kept changing — the ones a resourceVersion precondition refuses
 * with 409 — land (the writer guards on uid instead, see src/runtime/status-writer.ts). The first
 * edit also adds a password, applied while the edits keep coming: it must reach ECS exactly once
 * per resource (a lost status write forgets it was applied and sends it again).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type EmulatorHandle, startEmulatorInProcess, TEST_ACCESS_KEY } from "../../../harness/emulator.js";
import { byInstance, findLeaks, Fleet, fleetInstanceId, fleetInstances, fleetName, fleetSpecs, isConverged } from "../../../harness/fleet.js";
import { sleep } from "../../../harness/wait.js";

const N = 5;
const EDITS = 20;
const PREFIX = "edit";
const ns = `rel-edits-${Date.now().toString(36)}`;
let fleet: Fleet;
let emu: EmulatorHandle;
let ctl: RunningController;
const report: Record<string, unknown> = {};
const PASSWORD = "Edit-Storm-Pw-7!";

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
  emu = await startEmulatorInProcess({ seed: { instances: fleetInstances(PREFIX, N) } });
  ctl = await startController({ kubeconfig: inject("kubeconfigPath"), ecsEndpoint: emu.url, namespace: ns, args: ["--resync-period=10m", "--concurrency=4"] });
  await ctl.waitForLog(/workers running/);
});

afterAll(async () => {
  report["leaks"] = ctl ? findLeaks({ controllerLog: ctl.logs() }, [TEST_ACCESS_KEY.accessKeySecret, PASSWORD]).length : 0;
  await ctl?.stop();
  await emu?.stop();
  await fleet?.deleteNamespace();
  process.stderr.write(`[reliability] concurrent-edits figures: ${JSON.stringify(report)}\n`);
  expect(report["leaks"]).toBe(0);
});

describe("reliability: concurrent edits", () => {
  it("scenario 6: 20 updates in 2 s per resource → final spec applied, writes coalesced, status written across the edits", async () => {
    await fleet.createMany(fleetSpecs(PREFIX, N, () => ({ instanceName: "edit-v0" })));
    await fleet.waitConverged({ count: N, timeoutMs: 60_000 });
    await fleet.secret("pw", { password: PASSWORD });
    const seq0 = (await emu.admin.callLog({ limit: 1 })).at(-1)?.seq ?? 0;
    await emu.admin.addFault({ action: "ModifyInstanceAttribute", kind: "latency", latencyMs: 300, latencyMaxMs: 600 });

    const started = Date.now();
    // Fire each resource's updates every 100 ms without waiting for the previous answer (a busy
    // 2-core machine would otherwise stretch the window); the API server orders them.
    const pending: Array<Promise<unknown>> = [];
    for (let k = 1; k <= EDITS; k++) {
      for (let r = 0; r < N; r++)
        pending.push(
          fleet.patchSpec(fleetName(PREFIX, r), {
            instanceName: `edit-v${k}`,
            description: `revision ${k} of ${EDITS}`,
            passwordSecretRef: { name: "pw", key: "password" },
          }),
        );
      await sleep(100);
    }
    await Promise.all(pending);
    report["editWindowMs"] = Date.now() - started;
    const { items } = await fleet.waitConverged({ count: N, timeoutMs: 60_000, diag: () => ctl.logs().slice(-1500) });
    report["convergeMs"] = Date.now() - started;

    // The final spec (whichever update the API server took last) is what ECS holds.
    const instances = new Map((await emu.admin.listInstances()).map((x) => [x.instanceId, x]));
    for (const o of items) {
      expect(isConverged(o)).toBe(true);
      // Every update changed the spec (distinct values), so each one made a generation.
      expect(o.metadata.generation).toBe(1 + EDITS);
      const inst = instances.get(String(o.spec["instanceId"]));
      expect(inst?.instanceName).toBe(o.spec["instanceName"]);
      expect(inst?.description).toBe(o.spec["description"]);
    }
    report["finalSpecs"] = items.map((o) => o.spec["instanceName"]);

    const modifies = byInstance(await emu.admin.callLog({ action: "ModifyInstanceAttribute", since: seq0 }));
    const perResource = Array.from({ length: N }, (_, r) => (modifies.get(fleetInstanceId(PREFIX, r)) ?? []).length);
    report["modifiesPerResource"] = perResource;
    for (const n of perResource) {
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(EDITS / 2);
    }

    // The password went out once per resource, though it was applied in the middle of the edits.
    const passwordWrites = perResource.map((_, r) => (modifies.get(fleetInstanceId(PREFIX, r)) ?? []).filter((c) => "Password" in c.params).length);
    report["passwordWritesPerResource"] = passwordWrites;
    expect(passwordWrites).toEqual(Array.from({ length: N }, () => 1));

    // The race was exercised: statuses written after the spec had moved on (409s under a
    // resourceVersion precondition).
    const acrossEdits = ctl.logRecords().filter((r) => String(r["msg"]).startsWith("status written while the spec changed")).length;
    report["statusWritesAcrossEdits"] = acrossEdits;
    expect(acrossEdits).toBeGreaterThan(0);
    await emu.admin.clearFaults();
  });
});
