/**
 * Reliability with an eventually consistent cloud (issue 19 item 1): the emulator shows writes late.
 *
 *  A. Read-after-write lag: security groups show 0–5 s late and every other field 0–2 s late (seeded,
 *     so each run draws the same lags). Each change may cost at most one extra Modify for its field;
 *     a password and user data are never sent twice; Ready does not flap.
 *  B. Stale reads: for 30 s, 30 % of DescribeInstances calls answer from the version each instance
 *     had 20 s earlier (before the last round of changes). A stale answer looks like drift, so each
 *     one may cost a re-apply: Modify per field ≤ 1 + 1 (lag) + stale answers; password and user data
 *     never re-sent; Ready does not flap.
 *  C. A hostname that shows only after a restart (DescribeInstances keeps the old name until the
 *     instance restarts): the hostname is sent at most twice before the restart (fails today, see C).
 *
 * Ready transitions are counted by polling each resource's Ready condition: a change of status, or a
 * new lastTransitionTime with the same status (a flap between two polls), counts.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type CallRecord, type EmulatorHandle, startEmulatorInProcess } from "../../../harness/emulator.js";
import { ReadyWatch } from "../../../harness/ready-watch.js";
import { Fleet, fleetInstanceId, fleetName, isConverged, type Resource } from "../../../harness/fleet.js";
import { sleep, waitFor } from "../../../harness/wait.js";

const N = 6;
const PREFIX = "lag";
const ns = `rel-lag-${Date.now().toString(36)}`;
const USER_DATA = Buffer.from("#!/bin/sh\necho read-lag\n").toString("base64");

let fleet: Fleet;
let emu: EmulatorHandle;
let ctl: RunningController;
const report: Record<string, unknown> = {};

const id = (i: number): string => fleetInstanceId(PREFIX, i);
const name = (i: number): string => fleetName(PREFIX, i);
/** Even-numbered instances are Stopped, so they can take user data under either state rule. */
const stopped = (i: number): boolean => i % 2 === 0;

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
  emu = await startEmulatorInProcess({
    delays: { stopMs: 200, startMs: 200 },
    consistency: {
      defaultLag: { minMs: 0, maxMs: 2000 },
      fields: { securityGroupIds: { minMs: 0, maxMs: 5000 } },
      randomSeed: 19,
    },
    seed: {
      securityGroups: ["sg-laga", "sg-lagb", "sg-lagc"].map((securityGroupId) => ({ securityGroupId, vpcId: "vpc-lag" })),
      instances: Array.from({ length: N }, (_, i) => ({
        instanceId: id(i),
        vpcId: "vpc-lag",
        securityGroupIds: ["sg-laga"],
        status: stopped(i) ? ("Stopped" as const) : ("Running" as const),
      })),
    },
  });
  ctl = await startController({
    kubeconfig: inject("kubeconfigPath"),
    ecsEndpoint: emu.url,
    namespace: ns,
    args: ["--resync-period=4s", "--state-poll-interval=3s"],
  });
  await ctl.waitForLog(/workers running/);
});

afterAll(async () => {
  await ctl?.stop();
  await emu?.stop();
  await fleet?.deleteNamespace();
  process.stderr.write(`[reliability] read-lag figures: ${JSON.stringify(report)}\n`);
});

/** PATCH /_emulator/consistency (merge). */
async function patchConsistency(body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${emu.url}/_emulator/consistency`, {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

function modifiesFor(calls: CallRecord[], instanceId: string, param: string): number {
  return calls.filter((c) => c.action === "ModifyInstanceAttribute" && c.code === "OK" && c.params["InstanceId"] === instanceId && param in c.params).length;
}

async function waitAllConverged(what: string): Promise<Resource[]> {
  return waitFor(
    what,
    async () => {
      const items = await fleet.list();
      return items.length === N && items.every(isConverged) ? items : undefined;
    },
    { timeoutMs: 120_000, diag: () => ctl.logs().slice(-2000) },
  );
}

function perInstance(calls: CallRecord[], param: string): number[] {
  return Array.from({ length: N }, (_, i) => modifiesFor(calls, id(i), param));
}

describe("reliability: eventually consistent reads", () => {
  it("A: with read-after-write lag, each change costs at most one extra Modify and Ready does not flap", async () => {
    await fleet.secret("pw", { password: "Lag-Test-Pw1!" });
    const watch = new ReadyWatch(() => fleet.list());
    for (let i = 0; i < N; i++) {
      await fleet.create(name(i), {
        instanceId: id(i),
        instanceName: `lag-${i}`,
        description: `read lag scenario ${i}`,
        securityGroupIds: ["sg-laga", "sg-lagb"],
        passwordSecretRef: { name: "pw", key: "password" },
        ...(stopped(i) ? { userData: { inlineBase64: USER_DATA } } : {}),
      });
    }
    await waitAllConverged("all converged under lag");
    // Several resyncs with nothing to do: the lagged values have all become visible by now.
    await sleep(10_000);
    await watch.stop();
    const calls = await emu.admin.callLog();

    const figures = {
      instanceName: perInstance(calls, "InstanceName"),
      description: perInstance(calls, "Description"),
      securityGroupIds: perInstance(calls, "SecurityGroupIds.1"),
      password: perInstance(calls, "Password"),
      userData: perInstance(calls, "UserData"),
      modifyCalls: calls.filter((c) => c.action === "ModifyInstanceAttribute").length,
      readyWatched: watch.last.size,
      readyTransitions: Object.fromEntries(watch.transitions),
      readyFlaps: Object.fromEntries(watch.flaps),
    };
    report["A"] = figures;
    expect(figures.readyWatched, "the Ready watch saw every resource").toBe(N);
    for (const field of ["instanceName", "description", "securityGroupIds"] as const) {
      expect(Math.max(...figures[field]), `${field} Modify calls per instance`).toBeLessThanOrEqual(2);
    }
    expect(
      figures.password.every((n) => n === 1),
      "password sent exactly once per instance",
    ).toBe(true);
    expect(
      figures.userData.filter((_, i) => stopped(i)).every((n) => n === 1),
      "user data sent exactly once",
    ).toBe(true);
    expect(
      [...watch.flaps.values()].reduce((a, b) => a + b, 0),
      "Ready True→False transitions",
    ).toBe(0);
  });

  it("B: with stale reads, the same bounds hold for a second round of changes", async () => {
    const since = (await emu.admin.callLog()).at(-1)?.seq ?? 0;
    const watch = new ReadyWatch(() => fleet.list());
    for (let i = 0; i < N; i++) await fleet.patchSpec(name(i), { description: `read lag scenario ${i}, round 2` });
    await waitAllConverged("round 2 converged");
    await patchConsistency({ staleReads: [{ ageMs: 20_000, rate: 0.3 }] });
    await sleep(30_000);
    const state = (await (await fetch(`${emu.url}/_emulator/state`)).json()) as { consistency: { staleHits: number[] } };
    const staleHits = state.consistency.staleHits[0] ?? 0;
    await patchConsistency({ staleReads: [] });
    await waitAllConverged("converged after stale reads");
    await watch.stop();
    const calls = (await emu.admin.callLog()).filter((c) => c.seq > since);
    const figures = {
      description: perInstance(calls, "Description"),
      instanceName: perInstance(calls, "InstanceName"),
      password: perInstance(calls, "Password"),
      userData: perInstance(calls, "UserData"),
      describeCalls: calls.filter((c) => c.action === "DescribeInstances").length,
      staleDescribeCalls: staleHits,
      readyWatched: watch.last.size,
      readyTransitions: Object.fromEntries(watch.transitions),
      readyFlaps: Object.fromEntries(watch.flaps),
    };
    report["B"] = figures;
    expect(staleHits, "some DescribeInstances calls were answered stale").toBeGreaterThan(0);
    // A stale answer is indistinguishable from drift made elsewhere, so re-applying after one is the
    // controller's contract: the bound is the change, one extra for the lag, and one per stale answer.
    expect(Math.max(...figures.description), "Description Modify calls per instance").toBeLessThanOrEqual(2 + staleHits);
    expect(Math.max(...figures.instanceName), "InstanceName (unchanged) re-sent only after stale answers").toBeLessThanOrEqual(staleHits);
    expect(
      figures.password.every((n) => n === 0),
      "password not re-sent",
    ).toBe(true);
    expect(
      figures.userData.every((n) => n === 0),
      "user data not re-sent",
    ).toBe(true);
    expect(
      [...watch.flaps.values()].reduce((a, b) => a + b, 0),
      "Ready True→False transitions",
    ).toBe(0);
  });

  // DescribeInstances shows the old hostname until the restart (ECS's read-back before the restart is
  // undocumented, ecs-api.md §14.7). The controller keeps the value it sent in status.restartHolds
  // (src/reconciler/holds.ts) and does not send it again; before that hold it re-sent HostName
  // on every resync (8 calls in 30 s with --resync-period=4s, measured 2026-12-03).
  it("C: a hostname that shows only after a restart is sent once before the restart", async () => {
    await patchConsistency({ fields: { hostName: { untilRestart: true } } });
    const since = (await emu.admin.callLog()).at(-1)?.seq ?? 0;
    const running = 1;
    await fleet.patchSpec(name(running), { hostName: "lag-host-1" });
    await sleep(30_000);
    const calls = (await emu.admin.callLog()).filter((c) => c.seq > since);
    const sent = modifiesFor(calls, id(running), "HostName");
    const o = await fleet.get(name(running));
    report["C"] = {
      hostNameModifiesIn30s: sent,
      conditions: o.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`),
      pendingChanges: o.status?.pendingChanges,
    };
    expect(sent, "HostName Modify calls before the restart").toBe(1);
    expect(o.status?.conditions?.find((c) => c.type === "Ready")?.reason, "Ready while the new hostname waits for the restart").toBe("InSync");
  });
});
