/**
 * The fleet benchmark's result: one JSON object (`--json`; the shape bench/compare.ts and the files in
 * bench/results/ read) assembled from the phases' figures, and the Markdown table printed otherwise.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { PLURAL } from "../../src/api/index.js";
import { repoRoot } from "../../harness/exec.js";
import { latencyDelta, summary } from "../measure.js";
import type { ControllerBuild } from "../build-controller.js";
import { throttled } from "./calls.js";
import type { BenchConfig } from "./options.js";
import { type changePhase, type closingReadings, type createPhase, mapRound, type idlePhase, round, type startPhase } from "./phases.js";
import type { Rig } from "./rig.js";

type Figures<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

export interface Measured {
  create: Figures<typeof createPhase>;
  start: Figures<typeof startPhase>;
  idle: Figures<typeof idlePhase>;
  change: Figures<typeof changePhase>;
  end: Figures<typeof closingReadings>;
}

/** The machine, taken before the run. */
export function machine() {
  return { cores: cpus().length, cpu_model: cpus()[0]?.model ?? "", node: process.version, loadavg_at_start: loadavg() };
}

const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

/** Memory figures measured outside the phases: the module floor and the cgroup's readings. */
export interface MemoryFigures {
  floor: { rss_mib: number; above_bare_node_mib: number } | undefined;
  memoryCgroup: { version: 1 | 2; limit_mib: number; peak_mib: number; oom_kills: number; limit_hits: number } | undefined;
}

export function assemble(
  cfg: BenchConfig,
  host: ReturnType<typeof machine>,
  rig: Rig,
  m: Measured,
  build: ControllerBuild,
  ctlArgs: string[],
  mem: MemoryFigures,
) {
  const { start, idle, end } = m;
  const s = start.marks;
  const allControllerCalls = rig.calls.all;
  const convWall = (s.tConverged - s.tStart) / 1000;
  const emuCpuTotal = end.emuCpuEnd - s.emuCpu0;
  const emuDurations = allControllerCalls.filter((r) => r.code === "OK").map((r) => r.durationMs - cfg.L);
  return {
    machine: { ...host, date: new Date().toISOString() },
    config: {
      resources: cfg.N,
      modify_qps: cfg.Q,
      describe_qps: cfg.D,
      latency_ms: cfg.L,
      resync_period_s: cfg.resyncS,
      concurrency: cfg.C,
      idle_rounds: cfg.idleRounds,
      change_percent: cfg.changePct,
      unrelated_secrets: `${cfg.unrelatedSecrets.count} × ${cfg.unrelatedSecrets.kib} KiB`,
      preset: cfg.preset,
    },
    setup: m.create.figures,
    convergence: start.figures,
    idle: idle.figures,
    change: m.change,
    throttling_errors: throttled(allControllerCalls),
    bench_watch_restarts: rig.watchRestarts(),
    emulator_counters: end.counters,
    controller: {
      peak_rss_mib: round(end.mem.peakRss, 1),
      rss_end_mib: round(end.mem.rss, 1),
      rss_end_anon_mib: round(end.rssSplit.anon, 1),
      rss_end_file_mib: round(end.rssSplit.file, 1),
      cpu_s: round(end.cpuTotal),
      cpu_s_per_resource_converged: round(s.cpuConverged / cfg.N, 4),
      module_floor_rss_mib: mem.floor?.rss_mib ?? null,
      module_floor_above_bare_node_mib: mem.floor?.above_bare_node_mib ?? null,
      metrics_at_end: end.ctlMetrics,
    },
    memory_cgroup: mem.memoryCgroup ?? null,
    headroom: {
      emulator: {
        calls: allControllerCalls.length,
        calls_per_s_during_convergence: round(s.convCalls / convWall, 1),
        cpu_busy_during_convergence: round((s.emuCpuConverged - s.emuCpu0) / convWall),
        cpu_busy_idle: round(idle.marks.emuCpuIdle / ((idle.marks.tIdle1 - idle.marks.tIdle0) / 1000)),
        cpu_s: round(emuCpuTotal),
        calls_per_cpu_s: round(allControllerCalls.length / emuCpuTotal, 0),
        service_time_ms_excluding_injected_latency: mapRound(summary(emuDurations), 2),
      },
      apiserver: {
        cpu_s_creates: round(m.create.marks.apiCpuS),
        cpu_s_controller_run: round(end.apiCpuEnd - s.apiCpu1),
        cpu_busy_during_convergence: round((s.apiCpuConverged - s.apiCpu1) / convWall),
        request_latency_during_create: pickLatency(latencyDelta(m.create.marks.latencyBefore, s.latencyStart)),
        request_latency_during_convergence: pickLatency(latencyDelta(s.latencyStart, s.latencyConverged)),
        request_latency_idle_and_change: pickLatency(latencyDelta(s.latencyConverged, end.latencyEnd)),
      },
      loadavg_at_end: loadavg(),
    },
    controller_rev: build.rev,
    controller_command: `node ${build.command.map((a) => a.replace(repoRoot + "/", "")).join(" ")}`,
    controller_args: ctlArgs,
    controller_env: cfg.controllerEnv,
  };
}

export type BenchResult = ReturnType<typeof assemble>;

type LatencyRow = { requests: number; p50_ms: number; p99_ms: number };

/** Requests on the benchmark's resources and on Events only. */
function pickLatency(all: Record<string, LatencyRow>): Record<string, LatencyRow> {
  return Object.fromEntries(Object.entries(all).filter(([k, v]) => (k.includes(PLURAL) || k.includes("events")) && v.requests > 0));
}

/** The figures the table shows: [figure, measured, target]. */
function figureRows(x: BenchResult): Array<[string, string, string]> {
  const atEnd = x.controller.metrics_at_end as Partial<Record<string, number>>;
  return [
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
    [
      "reads per round vs per-instance pattern (3N)",
      `${x.idle.reads_per_round} / ${x.idle.per_instance_pattern_reads_per_round} = ${x.idle.reads_vs_per_instance_pattern}`,
      "",
    ],
    ["Modify calls in idle rounds", `${x.idle.modify_calls}`, "0"],
    ["status writes per idle round", `${x.idle.status_writes_per_round}`, ""],
    ["  duration of each round's write burst (s)", `${x.idle.status_write_burst_s.join(", ")}`, ""],
    [`Modify calls for the ${x.config.change_percent} % change`, `${x.change.modify_calls} (unmatched ${x.change.unmatched})`, `= ${x.change.changed}`],
    ["change → Modify p50 / p99 (ms)", `${x.change.change_to_modify_ms.p50} / ${x.change.change_to_modify_ms.p99}`, "p99 ≤ 100"],
    ["  from the PATCH's answer p50 / p99 (ms)", `${x.change.committed_change_to_modify_ms.p50} / ${x.change.committed_change_to_modify_ms.p99}`, ""],
    ["  from the bench's watch event p50 / p99 (ms)", `${x.change.watched_change_to_modify_ms.p50} / ${x.change.watched_change_to_modify_ms.p99}`, ""],
    ["controller event-loop lag p99 / max (ms): idle rounds; change", `${lag(x.idle.eventloop_lag_ms)}; ${lag(x.change.eventloop_lag_ms)}`, ""],
    ["  spec PATCH round trip p50 / p99 (ms)", `${x.change.patch_latency_ms.p50} / ${x.change.patch_latency_ms.p99}`, ""],
    ["controller peak RSS (MiB)", `${x.controller.peak_rss_mib}`, ""],
    [
      "memory cgroup: limit / peak (MiB), OOM kills, limit hits",
      x.memory_cgroup
        ? `${x.memory_cgroup.limit_mib} / ${x.memory_cgroup.peak_mib}, ${x.memory_cgroup.oom_kills}, ${x.memory_cgroup.limit_hits}`
        : "no limit (--memory-limit)",
      "OOM 0; limit ≤ 128 at 1k, ≤ 256 at 10k",
    ],
    ["  RSS at end: anonymous / file-backed (MiB)", `${x.controller.rss_end_anon_mib} / ${x.controller.rss_end_file_mib}`, ""],
    ["module floor RSS (MiB; above bare node)", `${x.controller.module_floor_rss_mib} (${x.controller.module_floor_above_bare_node_mib})`, ""],
    ["  at end: heap used / heap total / external (MiB)", `${atEnd["heap_used_mib"]} / ${atEnd["heap_total_mib"]} / ${atEnd["external_mib"]}`, ""],
    [
      "controller CPU s (total / converge / idle / change)",
      `${x.controller.cpu_s} / ${x.convergence.controller_cpu_s} / ${x.idle.controller_cpu_s} / ${x.change.controller_cpu_s}`,
      "",
    ],
    [
      "emulator calls/s (converging), CPU busy",
      `${x.headroom.emulator.calls_per_s_during_convergence}, ${x.headroom.emulator.cpu_busy_during_convergence}`,
      "busy ≪ 1",
    ],
    [
      "emulator service time p50/p99 (ms, excl. L)",
      `${x.headroom.emulator.service_time_ms_excluding_injected_latency.p50} / ${x.headroom.emulator.service_time_ms_excluding_injected_latency.p99}`,
      "",
    ],
    ["apiserver+etcd CPU busy (converging)", `${x.headroom.apiserver.cpu_busy_during_convergence}`, ""],
    ["resource creation (/s, p99 ms)", `${x.setup.creates_per_s}, ${x.setup.create_latency_ms.p99}`, ""],
  ];
}

/** The Markdown table printed without --json. */
export function table(x: BenchResult): string {
  const rows = figureRows(x);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const lines = [
    `N=${x.config.resources} Q=${x.config.modify_qps}/s L=${x.config.latency_ms} ms D=${x.config.describe_qps}/s resync=${x.config.resync_period_s} s concurrency=${x.config.concurrency}; ${x.machine.cores} cores, Node ${x.machine.node}, ${x.machine.date}`,
    "",
  ];
  lines.push(`| ${"figure".padEnd(w0)} | ${"measured".padEnd(w1)} | target |`, `|${"-".repeat(w0 + 2)}|${"-".repeat(w1 + 2)}|--------|`);
  for (const [a, b, c] of rows) lines.push(`| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c} |`);
  lines.push("", "API server request latency (p50/p99 ms, upper bucket bounds):");
  for (const [phase, m] of Object.entries(x.headroom.apiserver as Record<string, unknown>)) {
    if (!phase.startsWith("request_latency")) continue;
    const parts = Object.entries(m as Record<string, { requests: number; p50_ms: number; p99_ms: number }>).map(
      ([k, v]) => `${k}: n=${v.requests} ${v.p50_ms}/${v.p99_ms}`,
    );
    lines.push(`  ${phase.replace("request_latency_", "")}: ${parts.join("; ")}`);
  }
  return lines.join("\n");
}

/** "p99 / max" of an event-loop lag window, or "n/a" when the scrape failed. */
function lag(l: { p99: number; max: number } | undefined): string {
  return l ? `${l.p99} / ${l.max}` : "n/a";
}
