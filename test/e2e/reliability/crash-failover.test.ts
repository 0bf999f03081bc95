/**
 * Reliability scenarios 4 and 5 (issue 9): the controller process dies.
 *
 * 4. Crash: SIGKILL in the middle of a batch of Modify calls, then restart → everything converges,
 *    no resource claims Synced/Ready for a write that did not happen, and writes that completed
 *    before the crash are not repeated.
 * 5. Leader failover: two replicas with --leader-elect; SIGKILL the leader (the Lease is not
 *    released) → the standby takes over after the lease expires, converges the fleet, and the
 *    emulator's call log never shows the two processes calling ECS in overlapping periods.
 */
import { CoordinationV1Api } from "@kubernetes/client-node";
import { afterAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type CallRecord, type EmulatorHandle, startEmulatorInProcess, TEST_ACCESS_KEY } from "../../../harness/emulator.js";
import {
  byInstance,
  cond,
  fetchText,
  findLeaks,
  Fleet,
  fleetInstanceId,
  fleetInstances,
  fleetSpecs,
  isConverged,
  type Resource,
  writerPid,
} from "../../../harness/fleet.js";
import { waitFor } from "../../../harness/wait.js";

const report: Record<string, unknown> = {};
const cleanups: Array<() => Promise<unknown>> = [];
const controllers: RunningController[] = [];

afterAll(async () => {
  const logs = Object.fromEntries(controllers.map((c, i) => [`controller${i}`, c.logs()]));
  report["leaks"] = findLeaks(logs, [TEST_ACCESS_KEY.accessKeySecret]).length;
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  process.stderr.write(`[reliability] crash-failover figures: ${JSON.stringify(report)}\n`);
  expect(report["leaks"]).toBe(0);
});

async function setup(prefix: string, n: number): Promise<{ fleet: Fleet; emu: EmulatorHandle }> {
  const fleet = await Fleet.open(inject("kubeconfigPath"), `rel-${prefix}-${Date.now().toString(36)}`);
  cleanups.push(() => fleet.deleteNamespace());
  const emu = await startEmulatorInProcess({ seed: { instances: fleetInstances(prefix, n) }, callLogCapacity: 100_000 });
  cleanups.push(() => emu.stop());
  // Slow writes, so a kill lands while several are in flight.
  await emu.admin.addFault({ action: "ModifyInstanceAttribute", kind: "latency", latencyMs: 300, latencyMaxMs: 700 });
  return { fleet, emu };
}

async function launch(fleet: Fleet, emu: EmulatorHandle, args: string[]): Promise<RunningController> {
  const ctl = await startController({
    kubeconfig: inject("kubeconfigPath"),
    ecsEndpoint: emu.url,
    namespace: fleet.ns,
    args: ["--resync-period=10m", "--concurrency=8", "--ecs-qps=50", "--ecs-burst=50", ...args],
  });
  controllers.push(ctl);
  cleanups.push(() => ctl.stop("SIGKILL"));
  return ctl;
}

/** Resources whose status claims success for their generation while ECS does not hold the spec. */
function staleClaims(items: Resource[], names: Map<string, string | undefined>): string[] {
  return items
    .filter((o) => o.status?.observedGeneration === o.metadata.generation && (cond(o, "Ready")?.status === "True" || cond(o, "Synced")?.status === "True"))
    .filter((o) => cond(o, "Ready")?.status === "True" || (o.status?.pendingChanges ?? []).length === 0)
    .filter((o) => names.get(String(o.spec["instanceId"])) !== o.spec["instanceName"])
    .map((o) => o.metadata.name);
}

const okTime = (c: CallRecord) => Date.parse(c.time);

describe("reliability: controller crash and leader failover", () => {
  it("scenario 4: SIGKILL mid-batch, restart → converges, no stale Synced=True, no repeated writes", async () => {
    const N = 100;
    const { fleet, emu } = await setup("crash", N);
    const first = await launch(fleet, emu, []);
    await first.waitForLog(/workers running/);
    await fleet.createMany(fleetSpecs("crash", N, (i) => ({ instanceName: `after-crash-${i}` })));
    await waitFor("a batch of writes in flight", async () => (await emu.admin.callLog({ action: "ModifyInstanceAttribute", code: "OK" })).length >= 20, 90_000);
    await first.stop("SIGKILL");
    const killedAt = Date.now();
    await first.exited;

    // Let calls that were in flight at the kill land in the emulator, then compare claims with ECS.
    await new Promise((r) => setTimeout(r, 1_000));
    const namesAtKill = new Map((await emu.admin.listInstances()).map((x) => [x.instanceId, x.instanceName]));
    const itemsAtKill = await fleet.list();
    const claimed = itemsAtKill.filter(isConverged).length;
    report["s4ConvergedBeforeKill"] = claimed;
    report["s4WrittenBeforeKill"] = [...namesAtKill.values()].filter((v) => v?.startsWith("after-crash-")).length;
    expect(staleClaims(itemsAtKill, namesAtKill)).toEqual([]);
    expect(report["s4WrittenBeforeKill"]).toBeLessThan(N);

    const second = await launch(fleet, emu, []);
    const { items } = await fleet.waitConverged({ count: N, timeoutMs: 120_000, diag: () => second.logs().slice(-1500) });
    report["s4ConvergeAfterRestartMs"] = Date.now() - killedAt;
    const names = new Map((await emu.admin.listInstances()).map((x) => [x.instanceId, x.instanceName]));
    expect(staleClaims(items, names)).toEqual([]);
    for (let i = 0; i < N; i++) expect(names.get(fleetInstanceId("crash", i))).toBe(`after-crash-${i}`);

    // A write ECS completed before the kill is not repeated by the new process.
    const modifies = byInstance(await emu.admin.callLog({ action: "ModifyInstanceAttribute" }));
    let repeated = 0;
    for (const [id, calls] of modifies) {
      const ok = calls.filter((c) => c.code === "OK");
      const before = ok.filter((c) => okTime(c) < killedAt);
      if (before.length > 0)
        expect(
          ok.filter((c) => writerPid(c) === second.pid),
          `${id} rewritten after restart`,
        ).toEqual([]);
      if (ok.length > 1) repeated++;
    }
    report["s4InstancesWrittenTwice"] = repeated;
    expect(second.logs()).not.toMatch(/uncaught|unhandled/i);
  });

  it("scenario 5: the standby takes over a killed leader's Lease and the two never write at once", async () => {
    const N = 80;
    const { fleet, emu } = await setup("lead", N);
    const leaseArgs = ["--leader-elect", `--leader-election-namespace=${fleet.ns}`, "--leader-election-id=rel-failover"];
    const a = await launch(fleet, emu, leaseArgs);
    await a.waitForLog(/became leader/);
    const b = await launch(fleet, emu, leaseArgs);
    await b.waitForLog(/serving metrics and probes/);
    // The standby is ready (warm caches) but not leading.
    await waitFor("standby /readyz 200", async () => (await fetchText(`${b.healthUrl}/readyz`))?.status === 200, 60_000);
    expect(b.logs()).not.toMatch(/became leader/);

    await fleet.createMany(fleetSpecs("lead", N, (i) => ({ instanceName: `failover-${i}` })));
    await waitFor(
      "the leader's writes under way",
      async () => (await emu.admin.callLog({ action: "ModifyInstanceAttribute", code: "OK" })).length >= 15,
      90_000,
    );
    await a.stop("SIGKILL");
    const killedAt = Date.now();
    await b.waitForLog(/became leader/, 60_000);
    const tookOverAt = Date.now();
    report["s5TakeoverMs"] = tookOverAt - killedAt;

    await fleet.waitConverged({ count: N, timeoutMs: 120_000, diag: () => b.logs().slice(-1500) });
    report["s5ConvergeAfterKillMs"] = Date.now() - killedAt;
    const names = new Map((await emu.admin.listInstances()).map((x) => [x.instanceId, x.instanceName]));
    for (let i = 0; i < N; i++) expect(names.get(fleetInstanceId("lead", i))).toBe(`failover-${i}`);

    // Writers over time: every ECS call of the old leader precedes every call of the new one.
    const calls = await emu.admin.callLog();
    const byA = calls.filter((c) => writerPid(c) === a.pid);
    const byB = calls.filter((c) => writerPid(c) === b.pid);
    expect(calls.every((c) => writerPid(c) === a.pid || writerPid(c) === b.pid)).toBe(true);
    expect(byA.length).toBeGreaterThan(0);
    expect(byB.length).toBeGreaterThan(0);
    const lastA = Math.max(...byA.map((c) => c.seq));
    const firstB = Math.min(...byB.map((c) => c.seq));
    expect(lastA, "old leader's last call comes before the new leader's first").toBeLessThan(firstB);
    expect(Math.max(...byA.map(okTime))).toBeLessThan(Math.min(...byB.map(okTime)));
    report["s5CallsOldLeader"] = byA.length;
    report["s5CallsNewLeader"] = byB.length;
    report["s5GapMs"] = Math.min(...byB.map(okTime)) - Math.max(...byA.map(okTime));

    // The new leader does not repeat writes the old one completed.
    const modifies = byInstance(calls.filter((c) => c.action === "ModifyInstanceAttribute" && c.code === "OK"));
    for (const [id, ok] of modifies) {
      if (ok.some((c) => writerPid(c) === a.pid))
        expect(
          ok.filter((c) => writerPid(c) === b.pid),
          `${id} rewritten by the new leader`,
        ).toEqual([]);
    }

    const lease = await fleet.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: "rel-failover", namespace: fleet.ns });
    const identity = b.logRecords().find((r) => r["msg"] === "became leader")?.["identity"];
    expect(lease.spec?.holderIdentity).toBe(identity);
  });
});
