/**
 * Reliability scenarios 1 and 2 (issue 9): the cloud misbehaves, the controller converges.
 *
 * 1. Cloud faults: 200 resources while ~30 % of ECS calls fail with a mix of InternalError,
 *    ServiceUnavailable and non-JSON 502 pages (plus two Throttling.User answers and latency
 *    spikes) → every resource converges, and no instance gets a second successful Modify
 *    (Modify calls per instance ≤ 1 + the failures that instance saw).
 * 2. Cloud outage: the ECS endpoint goes away (connection refused) for 60 s in the middle of a
 *    round of spec changes → /healthz and /readyz stay 200 throughout, the affected resources
 *    report the failure in status, failed reconciles go back to the queue with per-key backoff
 *    (bounded, no hot loop), and everything converges after the endpoint returns.
 *
 * The controller talks to the emulator through a TcpProxy so the outage can be cut and restored
 * on the same port without losing the emulator's state or call log.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type EmulatorHandle, startEmulatorInProcess, TEST_ACCESS_KEY } from "../../../harness/emulator.js";
import {
  byInstance,
  cond,
  fetchText,
  findLeaks,
  Fleet,
  fleetInstanceId,
  fleetInstances,
  fleetName,
  fleetSpecs,
  isConverged,
  mapLimit,
  metricSum,
} from "../../../harness/fleet.js";
import { TcpProxy } from "../../../harness/proxy.js";
import { sleep, waitFor } from "../../../harness/wait.js";

const N = 200;
const PREFIX = "flt";
const ns = `rel-faults-${Date.now().toString(36)}`;

let fleet: Fleet;
let emu: EmulatorHandle;
let proxy: TcpProxy;
let ctl: RunningController;

const report: Record<string, unknown> = {};
const OUTAGE_MS = 60_000;

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
  emu = await startEmulatorInProcess({ seed: { instances: fleetInstances(PREFIX, N) }, callLogCapacity: 100_000 });
  proxy = await TcpProxy.start({ host: "127.0.0.1", port: emu.port });
  ctl = await startController({
    kubeconfig: inject("kubeconfigPath"),
    ecsEndpoint: proxy.url,
    namespace: ns,
    args: ["--resync-period=60s", "--concurrency=8", "--ecs-qps=100", "--ecs-burst=100"],
  });
  await ctl.waitForLog(/workers running/);
});

afterAll(async () => {
  // Scenario 8 (part): nothing captured here contains the access key secret.
  if (ctl) {
    const captured = {
      controllerLog: ctl.logs(),
      metrics: (await fetchText(ctl.metricsUrl))?.body ?? "",
      statuses: JSON.stringify((await fleet.list().catch(() => [])).map((o) => o.status)),
      events: JSON.stringify(await fleet.events().catch(() => [])),
      callLog: JSON.stringify(await emu.admin.callLog().catch(() => [])),
    };
    report["leaks"] = findLeaks(captured, [TEST_ACCESS_KEY.accessKeySecret]).length;
  }
  await ctl?.stop();
  await proxy?.stop();
  await emu?.stop();
  await fleet?.deleteNamespace();
  process.stderr.write(`[reliability] cloud-faults figures: ${JSON.stringify(report)}\n`);
  expect(report["leaks"] ?? 0).toBe(0);
});

describe("reliability: cloud faults and outage", () => {
  it("scenario 1: 200 resources converge through 30 % mixed failures, with no duplicate writes", async () => {
    // Independent faults evaluated in turn: 1 − (1 − 0.113)³ ≈ 30 % of calls fail.
    for (const code of ["InternalError", "ServiceUnavailable"]) await emu.admin.addFault({ action: "*", code, rate: 0.113 });
    await emu.admin.addFault({ action: "*", kind: "badGateway", rate: 0.113 });
    // Throttling without retry-after pauses the bucket to the next minute: two are enough to prove it.
    await emu.admin.addFault({ action: "ModifyInstanceAttribute", code: "Throttling.User", count: 2 });
    await emu.admin.addFault({ action: "*", kind: "latency", rate: 0.1, latencyMs: 300, latencyMaxMs: 1500 });

    const started = Date.now();
    await fleet.createMany(fleetSpecs(PREFIX, N, (i) => ({ instanceName: `want-${i}`, description: `managed by reliability test ${i}` })));
    // Per-key backoff doubles from 1 s (src/runtime/workqueue.ts): a key that meets the faults 8 times in a
    // row (rare, but correlated when a 502 burst trips the circuit breaker) waits ~128–154 s before its 9th
    // try; 200 s was below that on a loaded CI machine (one key left at attempt 8), 400 s covers it.
    const { items } = await fleet.waitConverged({ count: N, timeoutMs: 400_000, diag: () => ctl.logs().slice(-1500) });
    report["s1ConvergeMs"] = Date.now() - started;
    const faults = await emu.admin.listFaults();
    await emu.admin.clearFaults();

    // The faults really happened.
    const calls = await emu.admin.callLog();
    const codes = new Map<string, number>();
    for (const c of calls) codes.set(c.code, (codes.get(c.code) ?? 0) + 1);
    report["s1Calls"] = calls.length;
    report["s1Codes"] = Object.fromEntries(codes);
    report["s1FaultHits"] = faults.map((f) => `${f.kind}:${f.code ?? ""}=${f.hits}`);
    for (const code of ["InternalError", "ServiceUnavailable", "BadGateway", "Throttling.User"]) expect(codes.get(code) ?? 0, code).toBeGreaterThan(0);
    const failed = calls.filter((c) => c.code !== "OK").length;
    expect(failed / calls.length).toBeGreaterThan(0.15);

    // Every instance holds what its resource asks for, and statuses say so.
    const instances = new Map((await emu.admin.listInstances()).map((x) => [x.instanceId, x]));
    for (let i = 0; i < N; i++) {
      const inst = instances.get(fleetInstanceId(PREFIX, i));
      expect(inst?.instanceName).toBe(`want-${i}`);
      expect(inst?.description).toBe(`managed by reliability test ${i}`);
    }
    expect(items.every((o) => o.status?.error === undefined)).toBe(true);

    // No duplicate writes after success: per instance, Modify calls ≤ 1 + failures it saw.
    const modifies = byInstance(calls.filter((c) => c.action === "ModifyInstanceAttribute"));
    let worst = 0;
    for (let i = 0; i < N; i++) {
      const mine = modifies.get(fleetInstanceId(PREFIX, i)) ?? [];
      const ok = mine.filter((c) => c.code === "OK").length;
      const failures = mine.length - ok;
      worst = Math.max(worst, mine.length);
      expect(ok, `${fleetInstanceId(PREFIX, i)} successful Modify calls`).toBe(1);
      expect(mine.length).toBeLessThanOrEqual(1 + failures);
    }
    report["s1ModifyMaxPerInstance"] = worst;
    report["s1ModifyTotal"] = [...modifies.values()].reduce((a, l) => a + l.length, 0);

    // Idle afterwards: a quiet period brings no writes.
    const seq = calls.at(-1)?.seq ?? 0;
    await sleep(5_000);
    expect((await emu.admin.callLog({ action: "ModifyInstanceAttribute", since: seq })).length).toBe(0);
  }, 480_000);

  it("scenario 2: a 60 s ECS outage keeps the controller live and ready, and it converges afterwards", async () => {
    const M = 60;
    const seq0 = (await emu.admin.callLog({ limit: 1 })).at(-1)?.seq ?? 0;
    // Slow writes so the outage lands in the middle of the round.
    await emu.admin.addFault({ action: "ModifyInstanceAttribute", kind: "latency", latencyMs: 200, latencyMaxMs: 400 });
    await mapLimit(
      Array.from({ length: M }, (_, i) => i),
      8,
      (i) => fleet.updateSpec(fleetName(PREFIX, i), { instanceName: `outage-${i}` }),
    );
    await waitFor(
      "the round to be under way",
      async () => (await emu.admin.callLog({ action: "ModifyInstanceAttribute", code: "OK", since: seq0 })).length >= 5,
      60_000,
    );

    const retriesBefore = metricSum((await fetchText(ctl.metricsUrl))?.body ?? "", "workqueue_retries_total");
    await proxy.stop();
    const outageStart = Date.now();
    const probes: Array<{ healthz: number; readyz: number }> = [];
    let reportedFailure = false;
    while (Date.now() - outageStart < OUTAGE_MS) {
      const [h, r] = await Promise.all([fetchText(`${ctl.healthUrl}/healthz`), fetchText(`${ctl.healthUrl}/readyz`)]);
      probes.push({ healthz: h?.status ?? 0, readyz: r?.status ?? 0 });
      if (!reportedFailure) {
        const list = await fleet.list();
        reportedFailure = list.some((o) => cond(o, "Synced")?.status === "False" && o.status?.error !== undefined);
      }
      await sleep(1_000);
    }
    const retriesDuring = metricSum((await fetchText(ctl.metricsUrl))?.body ?? "", "workqueue_retries_total") - retriesBefore;
    await proxy.start();
    const recovered = Date.now();
    await emu.admin.clearFaults();

    expect(probes.length).toBeGreaterThan(10);
    expect(probes.filter((p) => p.healthz !== 200)).toEqual([]);
    expect(probes.filter((p) => p.readyz !== 200)).toEqual([]);
    expect(reportedFailure, "some resource reported the outage in status (Synced=False with status.error)").toBe(true);
    // Failed reconciles went back to the queue with per-key backoff (not dropped, not hot-looping).
    report["s2WorkqueueRetriesDuringOutage"] = retriesDuring;
    expect(retriesDuring).toBeGreaterThan(0);
    // Per-key backoff doubles from 1 s, so even without the ECS client's own retries (which hold
    // each failing reconcile for several seconds) a resource is retried at most log2(outage/1 s) + 1
    // times: no hot loop. Any of the N resources may be retried (a resync round can fall in the outage).
    expect(retriesDuring).toBeLessThanOrEqual(N * (1 + Math.ceil(Math.log2(OUTAGE_MS / 1_000))));
    const delays = ctl
      .logRecords()
      .filter(
        (r) =>
          r["msg"] === "reconcile failed; retrying with backoff" && Date.parse(String(r["time"])) >= outageStart && Date.parse(String(r["time"])) <= recovered,
      )
      .map((r) => Number(r["retryInMs"]));
    report["s2BackoffDelaysMs"] = { count: delays.length, max: Math.max(...delays) };
    expect(ctl.logs()).not.toMatch(/uncaught|unhandled/i);

    const { items } = await fleet.waitConverged({ count: N, timeoutMs: 120_000, diag: () => ctl.logs().slice(-1500) });
    report["s2OutageMs"] = recovered - outageStart;
    report["s2ConvergeAfterRecoveryMs"] = Date.now() - recovered;
    expect(items.every(isConverged)).toBe(true);
    const instances = new Map((await emu.admin.listInstances()).map((x) => [x.instanceId, x]));
    for (let i = 0; i < M; i++) expect(instances.get(fleetInstanceId(PREFIX, i))?.instanceName).toBe(`outage-${i}`);
    // Each instance of the round was written at least once; a second successful write is only
    // possible for a call cut mid-flight (ECS applied it, the answer was lost), so at most 2.
    const modifies = byInstance(await emu.admin.callLog({ action: "ModifyInstanceAttribute", since: seq0 }));
    let ambiguous = 0;
    for (let i = 0; i < M; i++) {
      const ok = (modifies.get(fleetInstanceId(PREFIX, i)) ?? []).filter((c) => c.code === "OK").length;
      expect(ok).toBeGreaterThanOrEqual(1);
      expect(ok).toBeLessThanOrEqual(2);
      if (ok === 2) ambiguous++;
    }
    report["s2RewritesAfterCutCalls"] = ambiguous;
  });
});
