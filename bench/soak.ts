/**
 * Soak: `npm run soak -- --minutes 30 [--resources 1000]`. Not part of `npm test`; prints figures.
 *
 * One real control plane (etcd compaction every 5 s, so resumed watches can get 410), the ECS
 * emulator in this process, and the controller as a child process (info logs). After creating the
 * fleet it loops, until the time is up, over three faults from the reliability suite:
 *   1. cloud faults: 30 % mixed failures (InternalError, ServiceUnavailable, non-JSON 502) plus
 *      latency spikes while every resource's spec changes;
 *   3. kube-apiserver restart (5 s down) with 10 % of the specs changed right after it;
 *   6. concurrent edits: 10 resources × 20 updates in about 2 s.
 * After each fault it waits for the whole fleet to converge and prints the time, the ECS calls and
 * failures, the controller's RSS and reconcile error rate; a sampler prints RSS every 15 s; the end
 * summary gives RSS start / max / end and a least-squares RSS trend over the run.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startControlPlane } from "../harness/controlplane.js";
import { startController } from "../harness/controller.js";
import { startEmulatorInProcess } from "../harness/emulator.js";
import { fetchText, Fleet, fleetInstances, fleetName, fleetSpecs, mapLimit, metricSum } from "../harness/fleet.js";
import { sleep } from "../harness/wait.js";

const { values } = parseArgs({
  options: { minutes: { type: "string", default: "5" }, resources: { type: "string", default: "1000" } },
  allowPositionals: true,
});
const MINUTES = Number(values.minutes);
const N = Number(values.resources);
if (!(MINUTES > 0) || !(N > 0)) {
  process.stderr.write("usage: npm run soak -- --minutes M [--resources N]\n");
  process.exit(2);
}
const PREFIX = "soak";
const out = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s`;
  out(`soak: ${N} resources, ${MINUTES} min`);
  const cp = await startControlPlane({ crdsDir: "crds", apiServerArgs: ["--etcd-compaction-interval=5s"], log: () => undefined });
  const emu = await startEmulatorInProcess({ seed: { instances: fleetInstances(PREFIX, N) }, callLogCapacity: 20_000 });
  const fleet = await Fleet.open(cp.kubeconfigPath, "soak");
  const ctl = await startController({
    kubeconfig: cp.kubeconfigPath,
    ecsEndpoint: emu.url,
    namespace: "soak",
    args: ["--log-level=info", "--resync-period=5m", "--concurrency=16", "--ecs-qps=200", "--ecs-burst=200", "--kube-qps=200", "--kube-burst=400"],
  });
  let stopping = false;
  const cleanup = async () => {
    stopping = true;
    await ctl.stop();
    await emu.stop();
    await cp.stop();
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));

  const samples: Array<{ t: number; rss: number }> = [];
  const heaps: number[] = [];
  const sample = () => {
    const rss = rssOf(ctl.pid);
    if (rss > 0) samples.push({ t: (Date.now() - t0) / 1000, rss });
    return rss;
  };
  // V8 heap in use (prom-client's default Node metrics): separates retained objects from RSS that
  // V8 simply has not returned to the OS.
  const heapUsed = async () => {
    const h = metricSum((await fetchText(ctl.metricsUrl))?.body ?? "", "nodejs_heap_size_used_bytes");
    if (h > 0) heaps.push(h);
    return h;
  };
  const sampler = setInterval(() => {
    if (stopping) return;
    const rss = sample();
    void heapUsed().then((h) => out(`${elapsed()}  rss ${mb(rss)}  heap used ${mb(h)}`));
  }, 15_000);

  const reconcileStats = async () => {
    const text = (await fetchText(ctl.metricsUrl))?.body ?? "";
    return { total: metricSum(text, "controller_runtime_reconcile_total"), errors: metricSum(text, "controller_runtime_reconcile_errors_total") };
  };
  const callTotals = async () => {
    const c = await emu.admin.counters();
    let total = 0;
    let failed = 0;
    for (const row of Object.values(c)) {
      total += row["total"] ?? 0;
      failed += (row["total"] ?? 0) - (row["OK"] ?? 0);
    }
    return { total, failed };
  };
  const converge = () => fleet.waitConverged({ count: N, timeoutMs: 15 * 60_000, diag: () => ctl.logs().slice(-2000) });

  await ctl.waitForLog(/workers running/, 120_000);
  sample();
  out(`${elapsed()}  controller up, rss ${mb(sample())}`);
  let started = Date.now();
  await fleet.createMany(
    fleetSpecs(PREFIX, N, (i) => ({ instanceName: `c0-${i}` })),
    16,
  );
  await converge();
  out(`${elapsed()}  created and converged ${N} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const rounds: Array<{ fault: string; convergeMs: number; calls: number; failed: number; rss: number; heap: number; errorRate: number }> = [];
  const record = async (fault: string, convergeMs: number, before: { total: number; failed: number }, rBefore: { total: number; errors: number }) => {
    const after = await callTotals();
    const r = await reconcileStats();
    const row = {
      fault,
      convergeMs,
      calls: after.total - before.total,
      failed: after.failed - before.failed,
      rss: sample(),
      heap: await heapUsed(),
      errorRate: r.total - rBefore.total > 0 ? (r.errors - rBefore.errors) / (r.total - rBefore.total) : 0,
    };
    rounds.push(row);
    out(
      `${elapsed()}  ${fault.padEnd(16)} converged in ${(convergeMs / 1000).toFixed(1).padStart(6)} s  calls ${String(row.calls).padStart(6)}  failed ${String(row.failed).padStart(5)}  reconcile errors ${(row.errorRate * 100).toFixed(1).padStart(5)} %  rss ${mb(row.rss)}  heap used ${mb(row.heap)}`,
    );
  };

  let cycle = 0;
  while (Date.now() - t0 < MINUTES * 60_000) {
    cycle++;
    // 1. cloud faults while every spec changes
    {
      const before = await callTotals();
      const rBefore = await reconcileStats();
      for (const code of ["InternalError", "ServiceUnavailable"]) await emu.admin.addFault({ action: "*", code, rate: 0.113 });
      await emu.admin.addFault({ action: "*", kind: "badGateway", rate: 0.113 });
      await emu.admin.addFault({ action: "*", kind: "latency", rate: 0.1, latencyMs: 300, latencyMaxMs: 1500 });
      started = Date.now();
      await mapLimit(
        Array.from({ length: N }, (_, i) => i),
        16,
        (i) => fleet.patchSpec(fleetName(PREFIX, i), { instanceName: `c${cycle}-${i}` }),
      );
      await converge();
      const ms = Date.now() - started;
      await emu.admin.clearFaults();
      await record("cloud faults", ms, before, rBefore);
    }
    if (Date.now() - t0 >= MINUTES * 60_000) break;
    // 3. API server restart, specs changed right after
    {
      const before = await callTotals();
      const rBefore = await reconcileStats();
      await cp.stopApiServer();
      await sleep(5_000);
      await cp.startApiServer();
      started = Date.now();
      const M = Math.max(1, Math.floor(N / 10));
      await mapLimit(
        Array.from({ length: M }, (_, i) => i),
        16,
        (i) => fleet.patchSpec(fleetName(PREFIX, i), { description: `restart round ${cycle}` }),
      );
      await converge();
      await record("apiserver restart", Date.now() - started, before, rBefore);
    }
    if (Date.now() - t0 >= MINUTES * 60_000) break;
    // 6. concurrent edits
    {
      const before = await callTotals();
      const rBefore = await reconcileStats();
      started = Date.now();
      const pending: Array<Promise<unknown>> = [];
      for (let k = 1; k <= 20; k++) {
        for (let r = 0; r < Math.min(10, N); r++) pending.push(fleet.patchSpec(fleetName(PREFIX, r), { instanceName: `edit-${cycle}-${k}-${r}` }));
        await sleep(100);
      }
      await Promise.all(pending);
      await converge();
      await record("concurrent edits", Date.now() - started, before, rBefore);
    }
    // The call log is capped; counters keep the totals.
    await emu.admin.clearCallLog();
  }
  clearInterval(sampler);

  const rss = samples.map((s) => s.rss);
  const n = samples.length;
  const meanT = samples.reduce((a, s) => a + s.t, 0) / n;
  const meanR = rss.reduce((a, r) => a + r, 0) / n;
  const slope =
    samples.reduce((a, s) => a + (s.t - meanT) * (s.rss - meanR), 0) /
    Math.max(
      1e-9,
      samples.reduce((a, s) => a + (s.t - meanT) ** 2, 0),
    );
  const r = await reconcileStats();
  out("");
  out(`summary: ${cycle} cycles in ${((Date.now() - t0) / 60_000).toFixed(1)} min, ${N} resources`);
  out(
    `  controller RSS: start ${mb(rss[0] ?? 0)}, max ${mb(Math.max(...rss))}, end ${mb(rss.at(-1) ?? 0)}, trend ${((slope * 60) / 1024 / 1024).toFixed(2)} MiB/min over ${n} samples`,
  );
  if (heaps.length > 0) out(`  controller heap used: start ${mb(heaps[0]!)}, max ${mb(Math.max(...heaps))}, end ${mb(heaps.at(-1)!)}`);
  const after = rounds.filter((x) => x.fault === "concurrent edits").map((x) => mb(x.heap));
  if (after.length > 0) out(`  heap used at the end of each cycle: ${after.join(", ")}`);
  out(`  reconciles ${r.total}, errors ${r.errors} (${((r.errors / Math.max(1, r.total)) * 100).toFixed(1)} %)`);
  for (const f of ["cloud faults", "apiserver restart", "concurrent edits"]) {
    const rows = rounds.filter((x) => x.fault === f);
    if (rows.length === 0) continue;
    const ms = rows.map((x) => x.convergeMs);
    out(`  ${f.padEnd(18)} rounds ${rows.length}, converge s: min ${(Math.min(...ms) / 1000).toFixed(1)} / max ${(Math.max(...ms) / 1000).toFixed(1)}`);
  }
  await cleanup();
}

main().catch((e: unknown) => {
  process.stderr.write(`soak failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
