/**
 * Fleet-scale benchmark (issue 8): converge N instances at the cloud's write quota with as few ECS
 * calls as possible, then stay quiet, then apply a 10 % change.
 *
 *   npm run bench -- [--preset quick|full] [--resources N] [--modify-qps Q] [--latency-ms L] [--json]
 *                    [--describe-qps D] [--resync-period S] [--concurrency C] [--idle-rounds R]
 *                    [--change-percent P] [--cpu-prof DIR]
 *                    [--memory-limit MiB] [--find-memory-limit [--min-memory MiB]] [--max-ratio R] [--unrelated-secrets COUNT:KiB]
 *                    [--controller-env NAME=VALUE]…
 *                    [--controller dist|tsx] [--controller-rev REV] [--controller-patch FILE[,FILE]]
 *   npm run bench -- --set [same options]   one EcsInstanceAttributesSet instead (bench/fleet-set.ts)
 *
 * Parts, all real (bench/fleet/rig.ts): kube-apiserver + etcd (harness/controlplane.ts), the ECS
 * emulator as its own process (harness/emulator-process.ts) with a per-minute Throttling limit of
 * Q·60 on ModifyInstanceAttribute and D·60 on every Describe*, plus L ms latency on every call, and
 * the controller as its own process (harness/controller.ts; which build: bench/build-controller.ts)
 * configured with the same limits (Modify Q/s, Describe D/s).
 *
 * Phases (bench/fleet/phases.ts):
 *  1. create N EcsInstanceAttributes (controller not yet running) whose instanceName/description differ
 *     from the seeded instances;
 *  2. start the controller; time to "starting workers" (all resources observed) and to all Ready=True
 *     (observedGeneration = generation), seen through a watch;
 *  3. R idle resync rounds (nothing to change): calls per round by action;
 *  4. change instanceName on P % of the resources, paced at Q/2 per second (below the write quota, so
 *     the change-to-call latency is not rate-limit queueing), wait for Ready, match every spec change
 *     to its ModifyInstanceAttribute in the emulator's call log.
 *
 * Memory as in a Pod (bench/fleet/cgroup.ts): `--memory-limit MiB` runs the controller inside a memory
 * cgroup (v1 or v2) with that hard limit and reports the group's peak usage and OOM kills;
 * `--find-memory-limit` bisects, in 32 MiB steps between --min-memory (default 64) and --memory-limit
 * (default 512), the smallest limit at which a whole run still meets the figures (bench/fleet/verdict.ts),
 * each attempt a fresh rig. `--max-ratio` (default 1.05) relaxes the convergence-ratio criterion on a
 * loaded machine, where the API server, not memory, sets the pace (state it with the figure). The controller's module-load RSS (bench/fleet/floor.ts) is its own figure.
 *
 * `--unrelated-secrets COUNT:KiB` creates that many Secrets nothing references in the namespace before
 * the controller starts (what a Secret cache holds for nothing; e.g. Helm release Secrets).
 *
 * Figures (bench/fleet/report.ts): table on stdout (or one JSON object with --json). Not part of `npm test`.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildController } from "./build-controller.js";
import { createMemoryCgroup } from "./fleet/cgroup.js";
import { moduleFloor } from "./fleet/floor.js";
import { type BenchConfig, controllerArgs, parseOptions } from "./fleet/options.js";
import { changePhase, closingReadings, createPhase, type Ctx, idlePhase, startPhase } from "./fleet/phases.js";
import { assemble, machine, table } from "./fleet/report.js";
import { launchController, NS, startRig } from "./fleet/rig.js";
import { type Attempt, bisectMemoryLimit, missedFigures } from "./fleet/verdict.js";

// `--set`: the EcsInstanceAttributesSet benchmark (bench/fleet-set.ts), same options.
if (process.argv.includes("--set")) {
  const { runSetBench } = await import("./fleet-set.js");
  process.exit(await runSetBench(process.argv.slice(2).filter((a) => a !== "--set")));
}
const parsed = parseOptions(process.argv.slice(2));
if (!parsed) {
  process.stdout.write(readFileSync(new URL(import.meta.url), "utf8").split("*/")[0]! + "*/\n");
  process.exit(0);
}
const cfg: BenchConfig = parsed;
const say = (s: string) => {
  if (!cfg.json) process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
  else process.stderr.write(`[bench] ${s}\n`);
};

const host = machine();
say(`N=${cfg.N} Q=${cfg.Q}/s L=${cfg.L}ms D=${cfg.D}/s resync=${cfg.resyncS}s concurrency=${cfg.C} (${host.cores} cores, load ${host.loadavg_at_start})`);
if (cfg.controller === "dist") say(`compiling the controller at ${cfg.controllerRev} (git archive + tsconfig.build.json) under node_modules/.cache/ecs-bench/`);
const build = buildController(cfg.controller, cfg.controllerRev, cfg.controllerPatch);
const floor = cfg.controller === "dist" ? moduleFloor(build.command[0]!) : undefined;
if (floor) say(`module floor: ${floor.rss_mib} MiB RSS (${floor.above_bare_node_mib} MiB above bare node)`);
const ctlArgs = controllerArgs(cfg, NS);
const profDir = cfg.cpuProfDir ? resolve(cfg.cpuProfDir) : undefined;
if (profDir) mkdirSync(profDir, { recursive: true });

/** One whole run (fresh control plane, emulator and controller), under `limitMiB` when given. */
async function runOnce(limitMiB: number | undefined): Promise<Attempt> {
  const cgroup = limitMiB === undefined ? undefined : createMemoryCgroup(limitMiB, `ecs-bench-${process.pid}-${limitMiB}`);
  if (cgroup) say(`memory limit ${limitMiB} MiB: cgroup v${cgroup.version} ${cgroup.path}`);
  const rig = await startRig(cfg, say);
  const load = machine().loadavg_at_start;
  try {
    const ctx: Ctx = { cfg, rig, say };
    const create = await createPhase(ctx);
    const start = await startPhase(ctx, () => launchController(rig, build.command, ctlArgs, profDir, cgroup?.launcher(), cfg.controllerEnv));
    const { ctl, failIf } = start.marks;
    const idle = await idlePhase(ctx, ctl, failIf);
    const change = await changePhase(ctx, ctl, failIf);
    const end = await closingReadings(rig, ctl);
    await ctl.stop(); // SIGTERM: a CPU profile is written on a clean exit
    const memoryCgroup = cgroup && { version: cgroup.version, limit_mib: cgroup.limitMiB, ...roundReadings(cgroup.readings()) };
    const result = assemble(cfg, host, rig, { create, start, idle, change, end }, build, ctlArgs, { floor, memoryCgroup });
    return { limitMiB, result, missed: missedFigures(result, cfg.maxRatio), load };
  } catch (e) {
    if (!cgroup) throw e;
    // Under a limit a failed run is an answer (OOM kill, too slow), not a bench error.
    const r = roundReadings(cgroup.readings());
    const reason = `${(e as Error).message.split("\n")[0]} (ready ${rig.tracker.readyCount}/${cfg.N}; cgroup peak ${r.peak_mib} MiB, OOM kills ${r.oom_kills})`;
    return { limitMiB, missed: [reason], load };
  } finally {
    await rig.close();
    cgroup?.remove();
  }
}

const roundReadings = (r: ReturnType<ReturnType<typeof createMemoryCgroup>["readings"]>) => ({
  peak_mib: Math.round(r.peakMiB * 10) / 10,
  oom_kills: r.oomKills,
  limit_hits: r.limitHits,
});

if (cfg.findMemoryLimit) {
  const found = await bisectMemoryLimit(cfg.minMemoryMiB, cfg.memoryLimitMiB!, runOnce, say);
  const out = { smallest_passing_limit_mib: found.smallest ?? null, attempts: found.attempts.map(({ result: _r, ...a }) => a), run: found.best?.result };
  if (cfg.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  else {
    for (const a of found.attempts)
      process.stdout.write(`limit ${a.limitMiB} MiB (load ${a.load}): ${a.missed.length === 0 ? "meets the figures" : a.missed.join("; ")}\n`);
    process.stdout.write(`smallest passing limit: ${found.smallest ?? `none up to ${cfg.memoryLimitMiB}`} MiB\n\n`);
    if (found.best?.result) process.stdout.write(`${table(found.best.result)}\n`);
  }
} else {
  const one = await runOnce(cfg.memoryLimitMiB);
  if (!one.result) {
    process.stdout.write(
      `${cfg.json ? JSON.stringify({ memory_limit_mib: one.limitMiB, failed: one.missed }) : `failed under ${one.limitMiB} MiB: ${one.missed.join("; ")}`}\n`,
    );
    process.exit(1);
  }
  if (cfg.json) process.stdout.write(`${JSON.stringify({ ...one.result, missed_figures: one.missed }, null, 2)}\n`);
  else process.stdout.write(`${table(one.result)}\n${one.missed.length ? `missed: ${one.missed.join("; ")}` : "meets the figures"}\n`);
}
process.exit(0);
