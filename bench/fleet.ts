/**
 * Fleet-scale benchmark (issue 8): converge N instances at the cloud's write quota with as few ECS
 * calls as possible, then stay quiet, then apply a 10 % change.
 *
 *   npm run bench -- [--preset quick|full] [--resources N] [--modify-qps Q] [--latency-ms L] [--json]
 *                    [--describe-qps D] [--resync-period S] [--concurrency C] [--idle-rounds R]
 *                    [--change-percent P] [--cpu-prof DIR]
 *                    [--controller dist|tsx] [--controller-rev REV] [--controller-patch FILE[,FILE]]
 *
 * Parts, all real: kube-apiserver + etcd (harness/controlplane.ts), the ECS emulator as its own
 * process (harness/emulator-process.ts) with a per-minute Throttling limit of Q·60 on
 * ModifyInstanceAttribute and D·60 on every Describe*, plus L ms latency on every call, and the
 * controller as its own process (`node --import tsx src/main.ts`, harness/controller.ts)
 * configured with the same limits (Modify Q/s, Describe D/s).
 *
 * Phases:
 *  1. create N EcsInstanceAttributes (controller not yet running) whose instanceName/description differ
 *     from the seeded instances;
 *  2. start the controller; time to "starting workers" (all resources observed) and to all Ready=True
 *     (observedGeneration = generation), seen through a watch;
 *  3. R idle resync rounds (nothing to change): calls per round by action;
 *  4. change instanceName on P % of the resources, paced at Q/2 per second (below the write quota, so
 *     the change-to-call latency is not rate-limit queueing), wait for Ready, match every spec change
 *     to its ModifyInstanceAttribute in the emulator's call log.
 *
 * Figures: table on stdout (or one JSON object with --json). Not part of `npm test`.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { GROUP, PLURAL, VERSION } from "../src/api/index.js";
import { freePort, startControlPlane, type ControlPlane } from "../harness/controlplane.js";
import { EmulatorAdmin, TEST_ACCESS_KEY, type CallRecord } from "../harness/emulator.js";
import { jsonLines } from "../harness/controller.js";
import { BenchKube, pool } from "../harness/kube.js";
import { cpuSeconds, latencyDelta, memoryMiB, parseApiserverLatency, summary } from "./measure.js";

const repoRoot = resolve(import.meta.dirname, "..");

// ------------------------------------------------------------------ options

const { values: argv } = parseArgs({
  options: {
    preset: { type: "string", default: "quick" },
    resources: { type: "string" },
    "modify-qps": { type: "string" },
    "latency-ms": { type: "string" },
    "describe-qps": { type: "string" },
    "resync-period": { type: "string" },
    concurrency: { type: "string" },
    "idle-rounds": { type: "string" },
    "change-percent": { type: "string" },
    "create-concurrency": { type: "string" },
    "cpu-prof": { type: "string" },
    controller: { type: "string", default: "dist" },
    "controller-rev": { type: "string", default: "HEAD" },
    "controller-patch": { type: "string" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
  strict: true,
});
if (argv.help) {
  process.stdout.write(readFileSync(new URL(import.meta.url), "utf8").split("*/")[0]! + "*/\n");
  process.exit(0);
}
const presets = {
  quick: { resources: 1000, modifyQps: 100, resyncS: 20 },
  full: { resources: 10_000, modifyQps: 200, resyncS: 30 },
} as const;
if (argv.preset !== "quick" && argv.preset !== "full") throw new Error(`--preset must be quick or full`);
const preset = presets[argv.preset];
const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
const N = num(argv.resources, preset.resources);
const Q = num(argv["modify-qps"], preset.modifyQps);
const L = num(argv["latency-ms"], 20);
const D = num(argv["describe-qps"], 50);
const resyncS = num(argv["resync-period"], preset.resyncS);
// Enough workers that Q writes/s fit when each reconcile costs an ECS round trip or two plus a status
// PATCH that takes a few hundred ms on a busy API server (Little's law: workers = rate × time).
const C = num(argv.concurrency, Math.max(16, Math.ceil((Q * (2 * L + 300)) / 1000)));
const idleRounds = num(argv["idle-rounds"], 2);
const changePct = num(argv["change-percent"], 10);
const createConcurrency = num(argv["create-concurrency"], 24);
for (const [k, v] of Object.entries({ N, Q, L, D, resyncS, C, idleRounds, changePct })) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`bad value for ${k}: ${v}`);
}
if (argv.controller !== "dist" && argv.controller !== "tsx") throw new Error("--controller must be dist or tsx");
const NS = "bench";
const REGION = "cn-hangzhou";
const json = argv.json;
const say = (s: string) => {
  if (!json) process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
  else process.stderr.write(`[bench] ${s}\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const idOf = (i: number) => `i-bench${String(i).padStart(6, "0")}`;
const nameOf = (i: number) => `eia-${String(i).padStart(6, "0")}`;

// ------------------------------------------------------------------ emulator process

interface EmulatorProc {
  url: string;
  child: ChildProcess;
  admin: EmulatorAdmin;
  stop(): Promise<void>;
}

async function startEmulatorProc(): Promise<EmulatorProc> {
  const dir = mkdtempSync(join(tmpdir(), "ecs-bench-emu-"));
  const config = join(dir, "config.json");
  writeFileSync(
    config,
    JSON.stringify({
      callLogCapacity: Math.max(200_000, N * 20),
      seed: {
        vpcs: [{ vpcId: "vpc-bench", regionId: REGION }],
        securityGroups: [{ securityGroupId: "sg-bench", vpcId: "vpc-bench", capacity: 1_000_000 }],
        instances: Array.from({ length: N }, (_, i) => ({ instanceId: idOf(i), vpcId: "vpc-bench", securityGroupIds: ["sg-bench"] })),
      },
    }),
  );
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "harness/emulator-process.ts"), config], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-5000)));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  process.once("exit", () => child.kill("SIGKILL"));
  const url = await new Promise<string>((res, rej) => {
    const rl = createInterface({ input: child.stdout });
    rl.once("line", (line) => res((JSON.parse(line) as { listening: string }).listening));
    void exited.then(() => rej(new Error(`emulator exited early: ${stderr}`)));
  });
  return {
    url,
    child,
    admin: new EmulatorAdmin(url),
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ controller process

/**
 * `--controller dist` (default) compiles the committed src/ of `--controller-rev` (default HEAD; other
 * sessions may have half-done edits in the working tree) with tsconfig.build.json under
 * node_modules/.cache/ecs-bench/<rev>/ and runs `node dist/main.js`, i.e. what users run;
 * `--controller tsx` runs the working tree's `node --import tsx src/main.ts` like
 * harness/controller.ts (adds tsx's own memory and start-up time to the figures).
 * `--controller-patch FILE` applies a unified diff (patch -p1) to that snapshot first: how proposed
 * fixes (bench/patches/) are measured before the lead applies them to src/.
 */
function controllerCommand(): string[] {
  if (argv.controller === "tsx") return ["--import", "tsx", join(repoRoot, "src/main.ts")];
  const rev = spawnSync("git", ["rev-parse", argv["controller-rev"]], { cwd: repoRoot, encoding: "utf8" }).stdout.trim();
  if (!/^[0-9a-f]{40}$/.test(rev)) throw new Error(`--controller-rev ${argv["controller-rev"]}: not a git revision`);
  controllerRev = rev;
  // Several patches: comma-separated, applied in order.
  const patches = (argv["controller-patch"] ?? "").split(",").filter(Boolean).map((f) => readFileSync(resolve(f), "utf8"));
  const patch = patches.length > 0 ? patches.join("") : undefined;
  const patchId = patch ? `-${createHash("sha256").update(patch).digest("hex").slice(0, 8)}` : "";
  if (patch) controllerRev = `${rev} + ${argv["controller-patch"]}`;
  // Under node_modules/ so the compiled files resolve the repository's dependencies.
  const dir = join(repoRoot, "node_modules/.cache/ecs-bench", rev.slice(0, 12) + patchId);
  const main = join(dir, "dist/main.js");
  if (!existsSync(main)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const tar = spawnSync("bash", ["-c", `git archive ${rev} src test tsconfig.json tsconfig.build.json | tar -x -C ${JSON.stringify(dir)}`], { cwd: repoRoot, encoding: "utf8" });
    if (tar.status !== 0) throw new Error(`git archive ${rev} failed: ${tar.stderr}`);
    writeFileSync(join(dir, "package.json"), `${JSON.stringify({ type: "module" })}\n`);
    if (patch) {
      for (const one of patches) {
        const applied = spawnSync("patch", ["-p1", "-d", dir], { input: one, encoding: "utf8" });
        if (applied.status !== 0) throw new Error(`--controller-patch does not apply to ${rev}:\n${applied.stdout}${applied.stderr}`);
      }
    }
    const tsc = spawnSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.build.json")], { cwd: dir, encoding: "utf8" });
    if (tsc.status !== 0) throw new Error(`compiling the controller at ${rev} failed:\n${tsc.stdout}${tsc.stderr}`);
  }
  return [main];
}

interface RunningController {
  pid: number;
  metricsUrl: string;
  logs(): string;
  logRecords(): Array<Record<string, unknown>>;
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<void>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

let controllerCmd: string[] = [];
let controllerRev = "working tree";

async function startControllerProcess(kubeconfig: string, ecsEndpoint: string, args: string[], profDir: string | undefined): Promise<RunningController> {
  const metricsPort = await freePort();
  const full = [
    ...(profDir ? [`--cpu-prof`, `--cpu-prof-dir=${profDir}`] : []),
    ...controllerCmd,
    `--kubeconfig=${kubeconfig}`,
    `--ecs-endpoint=${ecsEndpoint}`,
    `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    `--health-probe-bind-address=127.0.0.1:${await freePort()}`,
    ...args,
  ];
  const child = spawn(process.execPath, full, {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_ACCESS_KEY.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_ACCESS_KEY.accessKeySecret },
  });
  process.once("exit", () => child.kill("SIGKILL"));
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  return {
    pid: child.pid!,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    logs: () => out,
    logRecords: () => jsonLines(out),
    async waitForLog(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (child.exitCode !== null) throw new Error(`controller exited with ${child.exitCode}:\n${out.slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`controller did not log ${pattern} in ${timeoutMs} ms:\n${out.slice(-3000)}`);
        await sleep(20);
      }
    },
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A few of the controller's own Prometheus figures (memory split, event-loop lag). */
async function controllerMetrics(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(url)).text();
  const pick = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const mib = (v: number) => round(v / 1048576, 1);
  return {
    heap_used_mib: mib(pick("nodejs_heap_size_used_bytes")),
    heap_total_mib: mib(pick("nodejs_heap_size_total_bytes")),
    external_mib: mib(pick("nodejs_external_memory_bytes")),
    rss_mib: mib(pick("process_resident_memory_bytes")),
    eventloop_lag_p99_ms: round(pick("nodejs_eventloop_lag_p99_seconds") * 1000, 1),
  };
}

// ------------------------------------------------------------------ resource tracking (watch)

interface Tracked {
  generation: number;
  ready: boolean;
  /** When this object last became Ready (for its current generation), ms since epoch. */
  readyAt: number;
}

class Tracker {
  readonly objs = new Map<string, Tracked>();
  readyCount = 0;
  modifiedEvents = 0;
  /** Arrival times of MODIFIED events while `recordTimes` is on (status writes during idle rounds). */
  modifiedTimes: number[] = [];
  recordTimes = false;
  private waiters: Array<() => void> = [];

  onEvent(ev: { type: string; object: unknown }): void {
    if (ev.type === "BOOKMARK") return;
    const o = ev.object as {
      metadata: { name: string; generation?: number };
      status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string; observedGeneration?: number }> };
    };
    const name = o.metadata.name;
    const prev = this.objs.get(name);
    if (ev.type === "DELETED") {
      if (prev?.ready) this.readyCount--;
      this.objs.delete(name);
      return;
    }
    if (ev.type === "MODIFIED") {
      this.modifiedEvents++;
      if (this.recordTimes) this.modifiedTimes.push(Date.now());
    }
    const gen = o.metadata.generation ?? 0;
    const cond = o.status?.conditions?.find((c) => c.type === "Ready");
    const ready = cond?.status === "True" && o.status?.observedGeneration === gen && (cond.observedGeneration ?? gen) === gen;
    const wasReady = prev?.ready ?? false;
    const t: Tracked = { generation: gen, ready, readyAt: prev?.readyAt ?? 0 };
    if (ready && !wasReady) t.readyAt = Date.now();
    this.readyCount += (ready ? 1 : 0) - (wasReady ? 1 : 0);
    this.objs.set(name, t);
    for (const w of this.waiters) w();
  }

  /** Resolves when `check()` holds (re-evaluated on every event and every 500 ms). */
  async until(check: () => boolean, timeoutMs: number, what: string, failIf?: () => string | undefined): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await new Promise<void>((res, rej) => {
      const test = (): void => {
        const failure = failIf?.();
        if (failure) return done(new Error(failure));
        if (check()) return done();
        if (Date.now() > deadline) return done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      };
      const done = (e?: Error) => {
        this.waiters = this.waiters.filter((w) => w !== test);
        clearInterval(timer);
        if (e) rej(e);
        else res();
      };
      this.waiters.push(test);
      const timer = setInterval(test, 500);
      test();
    });
  }
}

// ------------------------------------------------------------------ call-log bookkeeping

class Calls {
  readonly all: CallRecord[] = [];
  private lastSeq = 0;
  constructor(private readonly admin: EmulatorAdmin) {}
  /** Pulls the records the emulator logged since the last drain. */
  async drain(): Promise<void> {
    for (;;) {
      const batch = await this.admin.callLog({ since: this.lastSeq, limit: 100_000 });
      if (batch.length === 0) return;
      // `limit` keeps the newest; with since set and < limit new records this is all of them.
      this.all.push(...batch);
      this.lastSeq = batch.at(-1)!.seq;
      if (batch.length < 100_000) return;
    }
  }
  /** Arrival time at the emulator (ms): the record's time is when it answered. */
  static arrival(r: CallRecord): number {
    return Date.parse(r.time) - r.durationMs;
  }
  between(from: number, to: number): CallRecord[] {
    return this.all.filter((r) => {
      const t = Calls.arrival(r);
      return t >= from && t < to;
    });
  }
}

function byAction(records: readonly CallRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) out[r.action] = (out[r.action] ?? 0) + 1;
  return out;
}
/** Mean number of InstanceIds per DescribeInstances call. */
function avgIds(records: readonly CallRecord[]): number {
  const n = records.filter((r) => r.action === "DescribeInstances").map((r) => (JSON.parse(r.params["InstanceIds"] ?? "[]") as string[]).length);
  return n.length ? n.reduce((a, b) => a + b, 0) / n.length : 0;
}
const throttled = (records: readonly CallRecord[]) => records.filter((r) => r.code.includes("Throttling")).length;
const describes = (records: readonly CallRecord[]) => records.filter((r) => r.action.startsWith("Describe"));
const round = (x: number, d = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

// ------------------------------------------------------------------ main

async function main(): Promise<Record<string, unknown>> {
  const machine = { cores: cpus().length, cpu_model: cpus()[0]?.model ?? "", node: process.version, loadavg_at_start: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ") };
  say(`N=${N} Q=${Q}/s L=${L}ms D=${D}/s resync=${resyncS}s concurrency=${C} (${machine.cores} cores, load ${machine.loadavg_at_start})`);
  if (argv.controller === "dist") say(`compiling the controller at ${argv["controller-rev"]} (git archive + tsconfig.build.json) under node_modules/.cache/ecs-bench/`);
  controllerCmd = controllerCommand();
  const cleanups: Array<() => Promise<unknown>> = [];
  let ctl: RunningController | undefined;
  try {
    const cp: ControlPlane = await startControlPlane({ crdsDir: "crds", log: (l) => say(`controlplane: ${l}`) });
    cleanups.push(() => cp.stop());
    const [etcdPid, apiPid] = readFileSync(join(cp.workDir, "pids"), "utf8").trim().split("\n").map(Number) as [number, number];
    const emu = await startEmulatorProc();
    cleanups.push(() => emu.stop());
    const emuPid = emu.child.pid!;
    say(`emulator at ${emu.url} with ${N} instances`);
    await emu.admin.addFault({ action: "ModifyInstanceAttribute", kind: "throttle", limitPerMinute: Math.round(Q * 60) });
    for (const action of ["DescribeInstances", "DescribeInstanceAttribute", "DescribeUserData", "DescribeNetworkInterfaces"]) {
      await emu.admin.addFault({ action, kind: "throttle", limitPerMinute: Math.round(D * 60) });
    }
    if (L > 0) await emu.admin.addFault({ action: "*", kind: "latency", latencyMs: L });
    const calls = new Calls(emu.admin);

    const kube = new BenchKube(cp.kubeConfig(), createConcurrency + 8);
    cleanups.push(async () => kube.close());
    const ns = await kube.request("POST", "/api/v1/namespaces", { metadata: { name: NS } });
    if (ns.status !== 201) throw new Error(`namespace: HTTP ${ns.status}`);
    const base = `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${PLURAL}`;

    const tracker = new Tracker();
    let watchError: Error | undefined;
    let list0 = await kube.request("GET", base);
    for (let i = 0; list0.status !== 200 && i < 50; i++) {
      await sleep(200); // the CRD can be Established a moment before its storage serves lists
      list0 = await kube.request("GET", base);
    }
    if (list0.status !== 200) throw new Error(`list ${base}: HTTP ${list0.status} ${JSON.stringify(list0.body).slice(0, 300)}`);
    const rv0 = (list0.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    // The API server may drop a watch (e.g. a slow reader under load): resume from the last seen
    // resourceVersion, or relist when that is too old (410 → ERROR event).
    let lastRv = rv0;
    let closeWatch = (): void => undefined;
    let watchStopped = false;
    let needRelist = false;
    let watchRestarts = 0;
    const openBenchWatch = (): void => {
      closeWatch = kube.watch(
        `${base}?watch=true&resourceVersion=${lastRv}&allowWatchBookmarks=true`,
        (ev) => {
          if (ev.type === "ERROR") {
            needRelist = true;
            return;
          }
          tracker.onEvent(ev);
          const rv = (ev.object as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
          if (rv) lastRv = rv;
        },
        () => {
          if (watchStopped) return;
          watchRestarts++;
          setTimeout(() => void resumeBenchWatch(), 100);
        },
      );
    };
    const resumeBenchWatch = async (): Promise<void> => {
      if (needRelist) {
        const l = await kube.request("GET", base);
        if (l.status !== 200) {
          watchError = new Error(`relist: HTTP ${l.status}`);
          return;
        }
        const body = l.body as { metadata: { resourceVersion: string }; items: unknown[] };
        for (const item of body.items) tracker.onEvent({ type: "ADDED", object: item });
        lastRv = body.metadata.resourceVersion;
        needRelist = false;
      }
      openBenchWatch();
    };
    openBenchWatch();
    cleanups.push(async () => {
      watchStopped = true;
      closeWatch();
    });
    const watchFailed = () => (watchError ? `bench watch failed: ${watchError.message}` : undefined);

    const apiMetrics0 = parseApiserverLatency((await cp.kubectl(["get", "--raw", "/metrics"])).stdout);
    const apiCpu0 = cpuSeconds(apiPid) + cpuSeconds(etcdPid);

    // ---- 1. create N resources
    say(`creating ${N} resources (${createConcurrency} at a time)`);
    const createLat: number[] = [];
    const tCreate0 = Date.now();
    await pool(
      Array.from({ length: N }, (_, i) => i),
      createConcurrency,
      async (i) => {
        const body = {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: "EcsInstanceAttributes",
          metadata: { name: nameOf(i), namespace: NS },
          spec: { instanceId: idOf(i), regionId: REGION, instanceName: `web-${i}-v1`, description: `bench fleet member ${i}` },
        };
        for (let attempt = 0; ; attempt++) {
          const r = await kube.request("POST", base, body);
          if (r.status === 201) {
            createLat.push(r.ms);
            return;
          }
          if (attempt >= 5 || (r.status !== 429 && r.status < 500)) throw new Error(`create ${nameOf(i)}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
          await sleep(200 * (attempt + 1));
        }
      },
    );
    const createS = (Date.now() - tCreate0) / 1000;
    await tracker.until(() => tracker.objs.size >= N, 60_000, "the bench watch to see every resource", watchFailed);
    say(`created ${N} in ${createS.toFixed(1)} s (${(N / createS).toFixed(0)}/s)`);
    const apiCpuCreate = cpuSeconds(apiPid) + cpuSeconds(etcdPid) - apiCpu0;

    // ---- 2. controller: observe, converge
    const profDir = argv["cpu-prof"] ? resolve(argv["cpu-prof"]) : undefined;
    if (profDir) mkdirSync(profDir, { recursive: true });
    const ctlArgs = [
      `--namespace=${NS}`,
      `--resync-period=${resyncS}s`,
      `--concurrency=${C}`,
      `--ecs-qps=${D}`,
      "--ecs-burst=10",
      `--ecs-action-qps=ModifyInstanceAttribute=${Q},DescribeInstances=${D}`,
      // Explicit Kubernetes client limits: a status patch and an Event per write, with headroom.
      `--kube-qps=${Math.max(50, 4 * Q)}`,
      `--kube-burst=${Math.max(100, 4 * Q)}`,
      "--log-level=info",
    ];
    await emu.admin.clearCallLog(); // only the controller's calls from here on
    const tStart = Date.now();
    ctl = await startControllerProcess(cp.kubeconfigPath, emu.url, ctlArgs, profDir);
    const ctlPid = ctl.pid;
    let ctlExit: number | null | undefined;
    void ctl.exited.then((c) => (ctlExit = c));
    const failIf = () => watchFailed() ?? (ctlExit !== undefined ? `controller exited with ${ctlExit}:\n${ctl!.logs().slice(-3000)}` : undefined);
    say(`controller pid ${ctlPid}: ${ctlArgs.join(" ")}`);
    const emuCpu0 = cpuSeconds(emuPid);
    const apiCpu1 = cpuSeconds(apiPid) + cpuSeconds(etcdPid);
    const apiMetrics1 = parseApiserverLatency((await cp.kubectl(["get", "--raw", "/metrics"])).stdout);

    await ctl.waitForLog(/"msg":"starting workers"/, 120_000);
    const workersRec = ctl.logRecords().find((r) => r["msg"] === "starting workers");
    const tObserved = typeof workersRec?.["time"] === "number" ? workersRec["time"] : Date.now();
    say(`controller observed all resources ${((tObserved - tStart) / 1000).toFixed(2)} s after start; converging`);
    const idealS = N / Q;
    await tracker.until(() => tracker.readyCount >= N, Math.max(180_000, idealS * 20_000), `all ${N} Ready=True`, failIf);
    const tConverged = Math.max(...[...tracker.objs.values()].map((t) => t.readyAt));
    const convergenceS = (tConverged - tObserved) / 1000;
    const cpuConverged = cpuSeconds(ctlPid);
    const emuCpuConverged = cpuSeconds(emuPid);
    const apiCpuConverged = cpuSeconds(apiPid) + cpuSeconds(etcdPid);
    const apiMetrics2 = parseApiserverLatency((await cp.kubectl(["get", "--raw", "/metrics"])).stdout);
    say(`all ${N} Ready after ${convergenceS.toFixed(2)} s (ideal ${idealS.toFixed(1)} s)`);
    await sleep(1000);
    await calls.drain();
    const convCalls = calls.between(tStart, tConverged + 1);
    const convModify = convCalls.filter((r) => r.action === "ModifyInstanceAttribute");
    const convModifyOk = convModify.filter((r) => r.code === "OK");
    const modifySpan = convModifyOk.length > 1 ? (Calls.arrival(convModifyOk.at(-1)!) - Calls.arrival(convModifyOk[0]!)) / 1000 : NaN;

    // ---- 3. idle resync rounds
    const settleMs = 2000;
    await sleep(settleMs);
    const tIdle0 = Date.now();
    const idleMs = idleRounds * resyncS * 1000;
    const cpuIdle0 = cpuSeconds(ctlPid);
    const emuCpuIdle0 = cpuSeconds(emuPid);
    const modEvIdle0 = tracker.modifiedEvents;
    tracker.recordTimes = true;
    say(`idle: ${idleRounds} resync rounds (${idleMs / 1000} s)`);
    await tracker.until(() => Date.now() >= tIdle0 + idleMs, idleMs + 10_000, "idle rounds", failIf);
    const tIdle1 = Date.now();
    const cpuIdle = cpuSeconds(ctlPid) - cpuIdle0;
    const emuCpuIdle = cpuSeconds(emuPid) - emuCpuIdle0;
    const statusWritesIdle = tracker.modifiedEvents - modEvIdle0;
    tracker.recordTimes = false;
    // A resync round shows as a burst of status writes; its length is how long a spec change made
    // during the round may wait behind the round's queued keys.
    const bursts: number[][] = [];
    for (const t of tracker.modifiedTimes) {
      const cur = bursts.at(-1);
      if (cur && t - cur.at(-1)! < (resyncS * 1000) / 4) cur.push(t);
      else bursts.push([t]);
    }
    const burstS = bursts.filter((b) => b.length >= N / 10).map((b) => round((b.at(-1)! - b[0]!) / 1000, 1));
    await sleep(500);
    await calls.drain();
    const idleCalls = calls.between(tIdle0, tIdle1);
    const idleDescribe = describes(idleCalls);
    const idleDescribeInstances = idleDescribe.filter((r) => r.action === "DescribeInstances").length;
    const idleModify = idleCalls.filter((r) => r.action === "ModifyInstanceAttribute").length;
    const idleIds = idleDescribe.filter((r) => r.action === "DescribeInstances").map((r) => (JSON.parse(r.params["InstanceIds"] ?? "[]") as string[]).length);

    // ---- 4. change P % of the specs, paced below the write quota
    const step = Math.max(1, Math.round(100 / changePct));
    const changed = Array.from({ length: N }, (_, i) => i).filter((i) => i % step === 0);
    const paceQps = Math.max(1, Q / 2);
    say(`changing ${changed.length} specs at ${paceQps}/s`);
    const sentAt = new Map<string, number>();
    /** When the API server's answer to the spec PATCH arrived (the change is committed by then). */
    const committedAt = new Map<string, number>();
    const patchLat: number[] = [];
    const tChange0 = Date.now();
    const cpuChange0 = cpuSeconds(ctlPid);
    await pool(changed, 8, async (i, k) => {
      const due = tChange0 + (k * 1000) / paceQps;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const newName = `web-${i}-v2`;
      const t = Date.now();
      const r = await kube.request("PATCH", `${base}/${nameOf(i)}`, { spec: { instanceName: newName } }, "application/merge-patch+json");
      if (r.status !== 200) throw new Error(`patch ${nameOf(i)}: HTTP ${r.status}`);
      patchLat.push(r.ms);
      sentAt.set(idOf(i), t);
      committedAt.set(idOf(i), Date.now());
    });
    // A timeout here still reports everything measured so far (change.timed_out = true).
    let changeTimedOut = false;
    await tracker
      .until(
        () => changed.every((i) => tracker.objs.get(nameOf(i))?.ready && (tracker.objs.get(nameOf(i))?.generation ?? 0) >= 2),
        Math.max(300_000, (changed.length / Q) * 20_000),
        "changed resources Ready",
        failIf,
      )
      .catch((e: unknown) => {
        if (failIf()) throw e;
        changeTimedOut = true;
        say(`${(e as Error).message}; reporting what was measured`);
      });
    const tChangeDone = Date.now();
    await sleep(3000); // late or duplicate writes would show up here
    const tChange1 = Date.now();
    const cpuChange = cpuSeconds(ctlPid) - cpuChange0;
    await calls.drain();
    const changeCalls = calls.between(tChange0, tChange1);
    const changeModify = changeCalls.filter((r) => r.action === "ModifyInstanceAttribute");
    const lat: number[] = [];
    const latCommitted: number[] = [];
    let unmatched = 0;
    for (const i of changed) {
      const id = idOf(i);
      const rec = changeModify.find((r) => r.params["InstanceId"] === id && r.params["InstanceName"] === `web-${i}-v2`);
      if (!rec) unmatched++;
      else {
        lat.push(Calls.arrival(rec) - sentAt.get(id)!);
        latCommitted.push(Calls.arrival(rec) - committedAt.get(id)!);
      }
    }

    // ---- totals
    const mem = memoryMiB(ctlPid);
    const ctlMetrics = await controllerMetrics(ctl.metricsUrl).catch((e: unknown) => ({ error: String(e) }));
    const cpuTotal = cpuSeconds(ctlPid);
    const apiMetrics3 = parseApiserverLatency((await cp.kubectl(["get", "--raw", "/metrics"])).stdout);
    const apiCpuTotal = cpuSeconds(apiPid) + cpuSeconds(etcdPid) - apiCpu1;
    const counters = await emu.admin.counters();
    const allControllerCalls = calls.all;
    const throttles = throttled(allControllerCalls);
    const emuCpuTotal = cpuSeconds(emuPid) - emuCpu0;

    const perInstanceReads = 3 * N;
    const describePerRound = idleDescribe.length / idleRounds;
    const diPerRound = idleDescribeInstances / idleRounds;
    const ideaDI = Math.ceil(N / 100);
    const convDescribe = describes(convCalls).length;
    const emuDurations = allControllerCalls.filter((r) => r.code === "OK").map((r) => r.durationMs - L);
    const convWall = (tConverged - tStart) / 1000;

    const result = {
      machine: { ...machine, date: new Date().toISOString() },
      config: { resources: N, modify_qps: Q, describe_qps: D, latency_ms: L, resync_period_s: resyncS, concurrency: C, idle_rounds: idleRounds, change_percent: changePct, preset: argv.preset },
      setup: {
        create_s: round(createS),
        creates_per_s: round(N / createS, 0),
        create_latency_ms: mapRound(summary(createLat)),
      },
      convergence: {
        start_to_observed_s: round((tObserved - tStart) / 1000),
        convergence_s: round(convergenceS),
        start_to_all_ready_s: round((tConverged - tStart) / 1000),
        ideal_s: round(idealS),
        ratio: round(convergenceS / idealS),
        modify_calls: convModify.length,
        modify_ok: convModifyOk.length,
        first_to_last_modify_s: round(modifySpan),
        modify_rate_per_s: round(convModifyOk.length / modifySpan, 1),
        describe_calls: convDescribe,
        calls_by_action: byAction(convCalls),
        reads_vs_per_instance_pattern: round(convDescribe / perInstanceReads, 4),
        controller_cpu_s: round(cpuConverged),
      },
      idle: {
        rounds: idleRounds,
        window_s: round((tIdle1 - tIdle0) / 1000),
        calls_by_action: byAction(idleCalls),
        describe_instances_per_round: round(diPerRound, 1),
        ideal_describe_instances_per_round: ideaDI,
        describe_instances_vs_ideal: round(diPerRound / ideaDI),
        ids_per_describe_instances: idleIds.length ? round(idleIds.reduce((a, b) => a + b, 0) / idleIds.length, 1) : 0,
        other_describe_per_round: round((idleDescribe.length - idleDescribeInstances) / idleRounds, 1),
        modify_calls: idleModify,
        reads_per_round: round(describePerRound, 1),
        per_instance_pattern_reads_per_round: perInstanceReads,
        reads_vs_per_instance_pattern: round(describePerRound / perInstanceReads, 4),
        status_writes_per_round: round(statusWritesIdle / idleRounds, 1),
        status_write_burst_s: burstS,
        controller_cpu_s: round(cpuIdle),
      },
      change: {
        changed: changed.length,
        timed_out: changeTimedOut,
        paced_per_s: paceQps,
        modify_calls: changeModify.length,
        describe_instances_calls: changeCalls.filter((r) => r.action === "DescribeInstances").length,
        ids_per_describe_instances: round(avgIds(changeCalls), 1),
        unmatched,
        change_to_modify_ms: mapRound(summary(lat), 1),
        // From the PATCH's answer instead of its sending: leaves out the API server's own write latency
        // (can be negative: the watch event may reach the controller before the answer reaches the bench).
        committed_change_to_modify_ms: mapRound(summary(latCommitted), 1),
        all_ready_s: round((tChangeDone - tChange0) / 1000),
        patch_latency_ms: mapRound(summary(patchLat), 1),
        controller_cpu_s: round(cpuChange),
      },
      throttling_errors: throttles,
      bench_watch_restarts: watchRestarts,
      emulator_counters: counters,
      controller: {
        peak_rss_mib: round(mem.peakRss, 1),
        rss_end_mib: round(mem.rss, 1),
        cpu_s: round(cpuTotal),
        cpu_s_per_resource_converged: round(cpuConverged / N, 4),
        metrics_at_end: ctlMetrics,
      },
      headroom: {
        emulator: {
          calls: allControllerCalls.length,
          calls_per_s_during_convergence: round(convCalls.length / convWall, 1),
          cpu_busy_during_convergence: round((emuCpuConverged - emuCpu0) / convWall),
          cpu_busy_idle: round(emuCpuIdle / ((tIdle1 - tIdle0) / 1000)),
          cpu_s: round(emuCpuTotal),
          calls_per_cpu_s: round(allControllerCalls.length / emuCpuTotal, 0),
          service_time_ms_excluding_injected_latency: mapRound(summary(emuDurations), 2),
        },
        apiserver: {
          cpu_s_creates: round(apiCpuCreate),
          cpu_s_controller_run: round(apiCpuTotal),
          cpu_busy_during_convergence: round((apiCpuConverged - apiCpu1) / convWall),
          request_latency_during_create: pickLatency(latencyDelta(apiMetrics0, apiMetrics1)),
          request_latency_during_convergence: pickLatency(latencyDelta(apiMetrics1, apiMetrics2)),
          request_latency_idle_and_change: pickLatency(latencyDelta(apiMetrics2, apiMetrics3)),
        },
        loadavg_at_end: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
      },
      controller_rev: controllerRev,
      controller_command: `node ${controllerCmd.map((a) => a.replace(repoRoot + "/", "")).join(" ")}`,
      controller_args: ctlArgs,
    };
    await ctl.stop();
    ctl = undefined;
    return result;
  } finally {
    if (ctl) await ctl.stop("SIGKILL").catch(() => undefined);
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

function mapRound<T extends Record<string, number>>(o: T, d = 1): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v, d)])) as T;
}

function pickLatency(all: Record<string, { requests: number; p50_ms: number; p99_ms: number }>): Record<string, { requests: number; p50_ms: number; p99_ms: number }> {
  return Object.fromEntries(Object.entries(all).filter(([k, v]) => (k.includes(PLURAL) || k.includes("events")) && v.requests > 0));
}

// ------------------------------------------------------------------ report

function table(r: Awaited<ReturnType<typeof main>>): string {
  const x = r as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  const rows: Array<[string, string, string]> = [
    ["convergence_s (observed → all Ready)", `${x.convergence.convergence_s}`, ""],
    ["ideal_s = N / Q", `${x.convergence.ideal_s}`, ""],
    ["convergence ratio", `${x.convergence.ratio}`, "≤ 1.10"],
    ["controller start → all observed (s)", `${x.convergence.start_to_observed_s}`, ""],
    ["controller start → all Ready (s)", `${x.convergence.start_to_all_ready_s}`, ""],
    ["Modify calls while converging (OK)", `${x.convergence.modify_calls} (${x.convergence.modify_ok})`, `= N (${x.config.resources})`],
    ["first→last Modify (s), rate (/s)", `${x.convergence.first_to_last_modify_s}, ${x.convergence.modify_rate_per_s}`, `rate ≈ Q (${x.config.modify_qps})`],
    ["Describe* calls while converging", `${x.convergence.describe_calls}`, ""],
    ["Throttling errors returned by ECS", `${x.throttling_errors}`, "0"],
    ["DescribeInstances per idle round", `${x.idle.describe_instances_per_round}`, `≤ 1.05 × ${x.idle.ideal_describe_instances_per_round}`],
    ["  IDs per DescribeInstances call (avg)", `${x.idle.ids_per_describe_instances}`, "100"],
    ["other Describe* per idle round", `${x.idle.other_describe_per_round}`, "0 (fields need none)"],
    ["reads per round vs per-instance pattern (3N)", `${x.idle.reads_per_round} / ${x.idle.per_instance_pattern_reads_per_round} = ${x.idle.reads_vs_per_instance_pattern}`, ""],
    ["Modify calls in idle rounds", `${x.idle.modify_calls}`, "0"],
    ["status writes per idle round", `${x.idle.status_writes_per_round}`, ""],
    ["  duration of each round's write burst (s)", `${(x.idle.status_write_burst_s as number[]).join(", ")}`, ""],
    [`Modify calls for the ${x.config.change_percent} % change`, `${x.change.modify_calls} (unmatched ${x.change.unmatched})`, `= ${x.change.changed}`],
    ["change → Modify p50 / p99 (ms)", `${x.change.change_to_modify_ms.p50} / ${x.change.change_to_modify_ms.p99}`, "p99 ≤ 100"],
    ["  from the PATCH's answer p50 / p99 (ms)", `${x.change.committed_change_to_modify_ms.p50} / ${x.change.committed_change_to_modify_ms.p99}`, ""],
    ["  spec PATCH round trip p50 / p99 (ms)", `${x.change.patch_latency_ms.p50} / ${x.change.patch_latency_ms.p99}`, ""],
    ["controller peak RSS (MiB)", `${x.controller.peak_rss_mib}`, "≤ 256 at 10k"],
    ["  at end: heap used / heap total / external (MiB)", `${x.controller.metrics_at_end.heap_used_mib} / ${x.controller.metrics_at_end.heap_total_mib} / ${x.controller.metrics_at_end.external_mib}`, ""],
    ["controller CPU s (total / converge / idle / change)", `${x.controller.cpu_s} / ${x.convergence.controller_cpu_s} / ${x.idle.controller_cpu_s} / ${x.change.controller_cpu_s}`, ""],
    ["emulator calls/s (converging), CPU busy", `${x.headroom.emulator.calls_per_s_during_convergence}, ${x.headroom.emulator.cpu_busy_during_convergence}`, "busy ≪ 1"],
    ["emulator service time p50/p99 (ms, excl. L)", `${x.headroom.emulator.service_time_ms_excluding_injected_latency.p50} / ${x.headroom.emulator.service_time_ms_excluding_injected_latency.p99}`, ""],
    ["apiserver+etcd CPU busy (converging)", `${x.headroom.apiserver.cpu_busy_during_convergence}`, ""],
    ["resource creation (/s, p99 ms)", `${x.setup.creates_per_s}, ${x.setup.create_latency_ms.p99}`, ""],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const lines = [`N=${x.config.resources} Q=${x.config.modify_qps}/s L=${x.config.latency_ms} ms D=${x.config.describe_qps}/s resync=${x.config.resync_period_s} s concurrency=${x.config.concurrency}; ${x.machine.cores} cores, Node ${x.machine.node}, ${x.machine.date}`, ""];
  lines.push(`| ${"figure".padEnd(w0)} | ${"measured".padEnd(w1)} | target |`, `|${"-".repeat(w0 + 2)}|${"-".repeat(w1 + 2)}|--------|`);
  for (const [a, b, c] of rows) lines.push(`| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c} |`);
  lines.push("", "API server request latency (p50/p99 ms, upper bucket bounds):");
  for (const [phase, m] of Object.entries(x.headroom.apiserver as Record<string, unknown>)) {
    if (!phase.startsWith("request_latency")) continue;
    const parts = Object.entries(m as Record<string, { requests: number; p50_ms: number; p99_ms: number }>).map(([k, v]) => `${k}: n=${v.requests} ${v.p50_ms}/${v.p99_ms}`);
    lines.push(`  ${phase.replace("request_latency_", "")}: ${parts.join("; ")}`);
  }
  return lines.join("\n");
}

const result = await main();
if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else process.stdout.write(`${table(result)}\n`);
process.exit(0);
