/**
 * Fleet benchmark for EcsInstanceAttributesSet (issue 17): one set matching N tagged instances.
 *
 *   npm run bench -- --set [--resources N] [--modify-qps Q] [--latency-ms L] [--describe-qps D]
 *                          [--resync-period S] [--concurrency C] [--idle-rounds R] [--controller dist|tsx]
 *
 * Same rig and options as bench/fleet.ts (bench/fleet/rig.ts, bench/fleet/options.ts): real API
 * server + etcd, the emulator process with per-minute quotas (Modify Q/s, Describe* D/s) and L ms
 * latency, the controller as its own process. The instances are re-seeded with tag team=bench; then:
 *  1. start the controller, create the set (template: instanceName + description, both differ from
 *     the seed, so every child makes one Modify); time until the set reports all N children Ready,
 *     against the write-quota floor N÷Q;
 *  2. R idle resync periods: DescribeInstances per period (the set's discovery + the children's
 *     batched reads) against 2×ceil(N/100), and Modify calls (expected 0);
 *  3. the controller's RSS (VmRSS now, VmHWM peak).
 * Prints one table row (or JSON with --json). Not part of `npm test`.
 */
import { GROUP, VERSION } from "../src/api/constants.js";
import { SET_KIND, SET_PLURAL, type SetStatus } from "../src/api/set.js";
import { buildController } from "./build-controller.js";
import { byAction } from "./fleet/calls.js";
import { controllerArgs, parseOptions } from "./fleet/options.js";
import { idOf, launchController, NS, REGION, startRig } from "./fleet/rig.js";
import { memoryMiB } from "./measure.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the benchmark; resolves with the exit code. */
export async function runSetBench(args: string[]): Promise<number> {
  const cfg = parseOptions(args);
  if (!cfg) return 0;
  const say = (s: string) => process.stderr.write(`[bench --set ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
  say(`N=${cfg.N} Q=${cfg.Q}/s L=${cfg.L}ms D=${cfg.D}/s resync=${cfg.resyncS}s concurrency=${cfg.C}`);
  const build = buildController(cfg.controller, cfg.controllerRev, cfg.controllerPatch);
  const rig = await startRig(cfg, say);
  try {
    // The admin API takes bodies up to 1 MiB: re-seed (replace by ID) in chunks.
    for (let from = 0; from < cfg.N; from += 2000) {
      await rig.emu.admin.seed({
        instances: Array.from({ length: Math.min(2000, cfg.N - from) }, (_, k) => ({
          instanceId: idOf(from + k),
          regionId: REGION,
          vpcId: "vpc-bench",
          securityGroupIds: ["sg-bench"],
          tags: [{ key: "team", value: "bench" }],
        })),
      });
    }
    const ctl = await launchController(rig, build.command, controllerArgs(cfg, NS), undefined, undefined, {});
    await ctl.waitForLog(/informers synced|workers running/, 120_000);
    const setPath = `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${SET_PLURAL}`;
    await rig.calls.drain();
    const t0 = Date.now();
    const created = await rig.kube.request("POST", setPath, {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: SET_KIND,
      metadata: { name: "bench" },
      spec: { regionId: REGION, selector: { tags: { team: "bench" } }, template: { instanceName: "fleet-{{ .InstanceId }}", description: "managed by a set" } },
    });
    if (created.status !== 201) throw new Error(`create set: HTTP ${created.status} ${JSON.stringify(created.body)}`);
    let status: SetStatus | undefined;
    let peakRss = 0;
    for (;;) {
      if (Date.now() - t0 > Math.max(1_800_000, (cfg.N / cfg.Q) * 4000)) throw new Error(`not Ready in time: ${JSON.stringify(status)}`);
      await sleep(1000);
      peakRss = Math.max(peakRss, memoryMiB(ctl.pid).rss);
      status = ((await rig.kube.request("GET", `${setPath}/bench`)).body as { status?: SetStatus }).status;
      if (status?.ready === cfg.N && status.conditions?.find((c) => c.type === "Ready")?.status === "True") break;
      if ((Date.now() - t0) % 10_000 < 1000) say(`matched ${status?.matched ?? 0}, ready ${status?.ready ?? 0}, updating ${status?.updating ?? 0}`);
    }
    const readyS = (Date.now() - t0) / 1000;
    await rig.calls.drain();
    const converge = byAction(rig.calls.between(t0, Date.now()));
    say(`all ${cfg.N} children Ready after ${readyS.toFixed(1)} s; idle for ${cfg.idleRounds} resync periods`);
    const idleFrom = Date.now();
    await sleep(cfg.idleRounds * cfg.resyncS * 1000);
    await rig.calls.drain();
    const idle = byAction(rig.calls.between(idleFrom, Date.now()));
    const mem = memoryMiB(ctl.pid);
    const row = {
      N: cfg.N,
      Q: cfg.Q,
      readyS: Number(readyS.toFixed(1)),
      floorS: cfg.N / cfg.Q,
      ratio: Number((readyS / (cfg.N / cfg.Q)).toFixed(2)),
      convergeCalls: converge,
      describeInstancesPerRound: Number(((idle["DescribeInstances"] ?? 0) / cfg.idleRounds).toFixed(1)),
      describeBudgetPerRound: 2 * Math.ceil(cfg.N / 100),
      idleModify: idle["ModifyInstanceAttribute"] ?? 0,
      rssMiB: Math.round(mem.rss),
      peakRssMiB: Math.round(Math.max(mem.peakRss, peakRss)),
      controller: build.rev,
    };
    if (cfg.json) process.stdout.write(`${JSON.stringify(row, null, 2)}\n`);
    else {
      process.stdout.write(
        [
          "| N | Q/s | all Ready (s) | N÷Q (s) | ratio | DescribeInstances / round | 2×ceil(N/100) | idle Modify | RSS MiB (peak) |",
          "|---|---|---|---|---|---|---|---|---|",
          `| ${row.N} | ${row.Q} | ${row.readyS} | ${row.floorS} | ${row.ratio} | ${row.describeInstancesPerRound} | ${row.describeBudgetPerRound} | ${row.idleModify} | ${row.rssMiB} (${row.peakRssMiB}) |`,
          `converge calls: ${JSON.stringify(row.convergeCalls)}`,
        ].join("\n") + "\n",
      );
    }
    await ctl.stop();
    return 0;
  } finally {
    await rig.close();
  }
}
