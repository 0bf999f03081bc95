/**
 * Fleet-scale benchmark (issue 8): converge N instances at the cloud's write quota with as few ECS
 * calls as possible, then stay quiet, then apply a 10 % change.
 *
 *   npm run bench -- [--preset quick|full] [--resources N] [--modify-qps Q] [--latency-ms L] [--json]
 *                    [--describe-qps D] [--resync-period S] [--concurrency C] [--idle-rounds R]
 *                    [--change-percent P] [--cpu-prof DIR]
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
 * Figures (bench/fleet/report.ts): table on stdout (or one JSON object with --json). Not part of `npm test`.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildController } from "./build-controller.js";
import { controllerArgs, parseOptions } from "./fleet/options.js";
import { changePhase, closingReadings, createPhase, type Ctx, idlePhase, startPhase } from "./fleet/phases.js";
import { assemble, machine, table } from "./fleet/report.js";
import { launchController, NS, startRig } from "./fleet/rig.js";

// `--set`: the EcsInstanceAttributesSet benchmark (bench/fleet-set.ts), same options.
if (process.argv.includes("--set")) {
  const { runSetBench } = await import("./fleet-set.js");
  process.exit(await runSetBench(process.argv.slice(2).filter((a) => a !== "--set")));
}
const cfg = parseOptions(process.argv.slice(2));
if (!cfg) {
  process.stdout.write(readFileSync(new URL(import.meta.url), "utf8").split("*/")[0]! + "*/\n");
  process.exit(0);
}
const say = (s: string) => {
  if (!cfg.json) process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
  else process.stderr.write(`[bench] ${s}\n`);
};

const host = machine();
say(`N=${cfg.N} Q=${cfg.Q}/s L=${cfg.L}ms D=${cfg.D}/s resync=${cfg.resyncS}s concurrency=${cfg.C} (${host.cores} cores, load ${host.loadavg_at_start})`);
if (cfg.controller === "dist") say(`compiling the controller at ${cfg.controllerRev} (git archive + tsconfig.build.json) under node_modules/.cache/ecs-bench/`);
const build = buildController(cfg.controller, cfg.controllerRev, cfg.controllerPatch);
const ctlArgs = controllerArgs(cfg, NS);
const profDir = cfg.cpuProfDir ? resolve(cfg.cpuProfDir) : undefined;
if (profDir) mkdirSync(profDir, { recursive: true });

const rig = await startRig(cfg, say);
let result;
try {
  const ctx: Ctx = { cfg, rig, say };
  const create = await createPhase(ctx);
  const start = await startPhase(ctx, () => launchController(rig, build.command, ctlArgs, profDir));
  const { ctl, failIf } = start.marks;
  const idle = await idlePhase(ctx, ctl, failIf);
  const change = await changePhase(ctx, ctl, failIf);
  const end = await closingReadings(rig, ctl);
  result = assemble(cfg, host, rig, { create, start, idle, change, end }, build, ctlArgs);
  await ctl.stop(); // SIGTERM: a CPU profile is written on a clean exit
} finally {
  await rig.close();
}
if (cfg.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else process.stdout.write(`${table(result)}\n`);
process.exit(0);
