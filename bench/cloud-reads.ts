/**
 * The ECS access layer's reads alone (issue 15): how long a spec change's read waits, and how many
 * DescribeInstances calls the reads cost, while a resync round's read-ahead is under way and the
 * Describe rate limit is tight. No API server and no controller process: `EcsCloud` of a revision,
 * in this process, against the emulator in this process (so the figures are the cloud layer's, not
 * the API server's or the scheduler's on a busy machine).
 *
 *   bash scripts/with-node.sh tsx bench/cloud-reads.ts [--rev REV] [--describe-qps D] [--resources N]
 *                                                     [--changes C] [--rate R] [--latency-ms L]
 *
 * Scenario: the round's read-ahead of the N−C instances starts (EcsCloud.prefetch); then C reads of
 * other instances (getInstance, as a spec change's reconcile makes) arrive at R per second. The
 * limiter: D per second, burst 10 (the fleet bench's settings). Each emulator call takes L ms.
 * `--rev` runs the src/ of a git revision (extracted under node_modules/.cache/ecs-bench-src/), so
 * `--rev f3f4975` and `--rev HEAD` compare the layer before and after a change. Prints one JSON line.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { repoRoot } from "../harness/exec.js";
import { startEmulatorInProcess, TEST_ACCESS_KEY } from "../harness/emulator.js";
import type { EcsCloud as EcsCloudType } from "../src/cloud/ecs.js";

const { values } = parseArgs({
  options: {
    rev: { type: "string", default: "HEAD" },
    "describe-qps": { type: "string", default: "5" },
    resources: { type: "string", default: "1000" },
    changes: { type: "string", default: "100" },
    rate: { type: "string", default: "50" },
    "latency-ms": { type: "string", default: "20" },
  },
});
const D = Number(values["describe-qps"]);
const N = Number(values.resources);
const C = Number(values.changes);
const R = Number(values.rate);
const L = Number(values["latency-ms"]);
const REGION = "cn-hangzhou";
const id = (i: number) => `i-bench${String(i).padStart(6, "0")}`;

/** src/ of `rev`, extracted once under node_modules (so its imports resolve to this checkout's packages). */
function sourceOf(revSpec: string): { dir: string; rev: string } {
  const rev = spawnSync("git", ["rev-parse", revSpec], { cwd: repoRoot, encoding: "utf8" }).stdout.trim();
  if (!/^[0-9a-f]{40}$/.test(rev)) throw new Error(`--rev ${revSpec}: not a git revision`);
  const dir = join(repoRoot, "node_modules/.cache/ecs-bench-src", rev.slice(0, 12));
  if (!existsSync(join(dir, "src/cloud/ecs.ts"))) {
    mkdirSync(dir, { recursive: true });
    const tar = spawnSync("bash", ["-c", `git archive ${rev} src | tar -x -C ${JSON.stringify(dir)}`], { cwd: repoRoot, encoding: "utf8" });
    if (tar.status !== 0) throw new Error(`git archive ${rev} failed: ${tar.stderr}`);
  }
  return { dir, rev };
}

function percentile(sorted: readonly number[], p: number): number {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN);
}

const src = sourceOf(values.rev);
const { EcsCloud } = (await import(pathToFileURL(join(src.dir, "src/cloud/ecs.ts")).href)) as { EcsCloud: typeof EcsCloudType };
const emu = await startEmulatorInProcess({
  callLogCapacity: 10 * N,
  seed: {
    vpcs: [{ vpcId: "vpc-1", regionId: REGION }],
    securityGroups: [{ securityGroupId: "sg-1", vpcId: "vpc-1", regionId: REGION }],
    instances: Array.from({ length: N }, (_, i) => ({
      instanceId: id(i),
      regionId: REGION,
      instanceName: `n${i}`,
      vpcId: "vpc-1",
      securityGroupIds: ["sg-1"],
    })),
  },
});
if (L > 0) await emu.admin.addFault({ action: "DescribeInstances", kind: "latency", latencyMs: L });
const ecs = new EcsCloud({ endpoint: emu.url, rateLimit: { default: { qps: D, burst: 10 } } });
const target = { credentials: { type: "accessKey" as const, ...TEST_ACCESS_KEY }, regionId: REGION };

const t0 = performance.now();
// Settled at once: a refused round must not be an unhandled rejection while the reads run.
const round = ecs
  .prefetch(
    target,
    Array.from({ length: N - C }, (_, i) => id(C + i)),
  )
  .then(
    (n) => n,
    (e: unknown) => `failed: ${(e as Error).message}`,
  );
const latencies: number[] = [];
const failures: string[] = [];
const reads: Promise<void>[] = [];
for (let i = 0; i < C; i++) {
  const start = performance.now();
  reads.push(
    ecs.getInstance(target, id(i)).then(
      () => void latencies.push(performance.now() - start),
      (e: unknown) => void failures.push((e as Error).message),
    ),
  );
  await new Promise((r) => setTimeout(r, 1000 / R));
}
await Promise.all(reads);
const readsDoneS = (performance.now() - t0) / 1000;
const roundRead = await round;
const sizes = (await emu.admin.callLog({ action: "DescribeInstances" })).map((c) => (JSON.parse(c.params["InstanceIds"] ?? "[]") as string[]).length);
latencies.sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({
    rev: src.rev,
    describe_qps: D,
    resources: N,
    changes: C,
    rate_per_s: R,
    latency_ms: L,
    read_ms: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: percentile(latencies, 1) },
    reads_ok: latencies.length,
    reads_failed: failures.length,
    first_failure: failures[0],
    reads_done_s: Math.round(readsDoneS * 100) / 100,
    round_read: roundRead,
    describe_instances_calls: sizes.length,
    calls_without_a_full_batch: sizes.filter((n) => n < 100).length,
    ids_per_call: sizes.join(","),
  })}\n`,
);
ecs.close();
await emu.stop();
