/**
 * Side-by-side Markdown table of several `npm run bench -- --json` results (for bench/RESULTS.md).
 *
 *   npx tsx bench/compare.ts "HEAD=out/base.json" "keep-alive=out/ka.json" …
 *
 * Each argument is LABEL=FILE; text before the first "{" in a file (npm's banner) is skipped.
 */
import { readFileSync } from "node:fs";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const runs = process.argv.slice(2).map((arg) => {
  const eq = arg.lastIndexOf("="); // labels may contain "=", paths rarely do
  if (eq < 0) throw new Error(`expected LABEL=FILE, got ${arg}`);
  const text = readFileSync(arg.slice(eq + 1), "utf8");
  return { label: arg.slice(0, eq), r: JSON.parse(text.slice(text.indexOf("{"))) as Json };
});
if (runs.length === 0) throw new Error("usage: compare.ts LABEL=FILE …");

const rows: Array<[string, (r: Json) => unknown, string]> = [
  ["load average at start (1/5/15 min)", (r) => r.machine.loadavg_at_start, ""],
  ["resources N / Modify quota Q (/s) / latency L (ms)", (r) => `${r.config.resources} / ${r.config.modify_qps} / ${r.config.latency_ms}`, ""],
  ["resource creation (/s)", (r) => r.setup.creates_per_s, ""],
  ["controller start → all observed (s)", (r) => r.convergence.start_to_observed_s, ""],
  ["convergence_s (observed → all Ready)", (r) => r.convergence.convergence_s, ""],
  ["ideal_s = N/Q", (r) => r.convergence.ideal_s, ""],
  ["convergence ratio", (r) => r.convergence.ratio, "≤ 1.10"],
  ["Modify rate while converging (/s)", (r) => r.convergence.modify_rate_per_s, "≈ Q"],
  ["Modify calls while converging", (r) => r.convergence.modify_calls, "= N"],
  ["Describe* calls while converging", (r) => r.convergence.describe_calls, ""],
  ["Throttling errors from ECS", (r) => r.throttling_errors, "0"],
  [
    "DescribeInstances per idle round (ideal ceil(N/100))",
    (r) => `${r.idle.describe_instances_per_round} (${r.idle.ideal_describe_instances_per_round})`,
    "≤ 1.05 × ideal",
  ],
  ["other Describe* per idle round", (r) => r.idle.other_describe_per_round, "0"],
  ["reads per round ÷ per-instance pattern (3N)", (r) => r.idle.reads_vs_per_instance_pattern, ""],
  ["Modify calls in idle rounds", (r) => r.idle.modify_calls, "0"],
  ["status writes per idle round", (r) => r.idle.status_writes_per_round, ""],
  ["length of each idle round's write burst (s)", (r) => (r.idle.status_write_burst_s ?? []).join(", "), ""],
  ["Modify calls for the 10 % change (changed)", (r) => `${r.change.modify_calls} (${r.change.changed})`, "= changed"],
  ["change → Modify p50 / p99 (ms)", (r) => `${r.change.change_to_modify_ms.p50} / ${r.change.change_to_modify_ms.p99}`, "p99 ≤ 100"],
  [
    "change → Modify from the PATCH's answer p50 / p99 (ms)",
    (r) => (r.change.committed_change_to_modify_ms ? `${r.change.committed_change_to_modify_ms.p50} / ${r.change.committed_change_to_modify_ms.p99}` : "–"),
    "",
  ],
  [
    "change → Modify from the bench's watch event p50 / p99 (ms)",
    (r) => (r.change.watched_change_to_modify_ms ? `${r.change.watched_change_to_modify_ms.p50} / ${r.change.watched_change_to_modify_ms.p99}` : "–"),
    "",
  ],
  ["spec PATCH round trip p50 / p99 (ms)", (r) => `${r.change.patch_latency_ms.p50} / ${r.change.patch_latency_ms.p99}`, ""],
  [
    "DescribeInstances during the change (IDs per call)",
    (r) => (r.change.describe_instances_calls !== undefined ? `${r.change.describe_instances_calls} (${r.change.ids_per_describe_instances})` : "–"),
    "",
  ],
  ["controller peak RSS (MiB)", (r) => r.controller.peak_rss_mib, "≤ 256 at 10k"],
  [
    "controller heap used / total, external at end (MiB)",
    (r) => `${r.controller.metrics_at_end?.heap_used_mib} / ${r.controller.metrics_at_end?.heap_total_mib}, ${r.controller.metrics_at_end?.external_mib}`,
    "",
  ],
  [
    "controller CPU s: converge / idle / change / total",
    (r) => `${r.convergence.controller_cpu_s} / ${r.idle.controller_cpu_s} / ${r.change.controller_cpu_s} / ${r.controller.cpu_s}`,
    "",
  ],
  ["controller CPU ms per resource converged", (r) => Math.round(r.controller.cpu_s_per_resource_converged * 10000) / 10, ""],
  [
    "emulator calls/s while converging; CPU busy",
    (r) => `${r.headroom.emulator.calls_per_s_during_convergence}; ${r.headroom.emulator.cpu_busy_during_convergence}`,
    "",
  ],
  [
    "emulator service time p50 / p99 (ms, without L)",
    (r) => `${r.headroom.emulator.service_time_ms_excluding_injected_latency.p50} / ${r.headroom.emulator.service_time_ms_excluding_injected_latency.p99}`,
    "",
  ],
  ["emulator calls per CPU-second", (r) => r.headroom.emulator.calls_per_cpu_s, ""],
  ["apiserver+etcd CPU busy while converging (cores)", (r) => r.headroom.apiserver.cpu_busy_during_convergence, ""],
  ["apiserver+etcd CPU s for the controller run", (r) => r.headroom.apiserver.cpu_s_controller_run, ""],
  ["apiserver status PATCH p50 / p99 while converging (ms)", (r) => lat(r, "request_latency_during_convergence", "PATCH ecsinstanceattributes/status"), ""],
  ["apiserver create p50 / p99 (ms)", (r) => lat(r, "request_latency_during_create", "POST ecsinstanceattributes"), ""],
];

function lat(r: Json, phase: string, key: string): string {
  const v = r.headroom.apiserver[phase]?.[key];
  return v ? `${v.p50_ms} / ${v.p99_ms}` : "–";
}

const out = [`| figure | ${runs.map((x) => x.label).join(" | ")} | target |`, `|---|${runs.map(() => "---").join("|")}|---|`];
for (const [name, get, target] of rows) out.push(`| ${name} | ${runs.map((x) => String(get(x.r))).join(" | ")} | ${target} |`);
process.stdout.write(`${out.join("\n")}\n`);
