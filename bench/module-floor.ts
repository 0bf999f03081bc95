/**
 * The controller's module floor (issue 15): the resident memory of a Node process that has loaded
 * every module the controller entry loads, and nothing else — before any informer, client or cache
 * exists. Everything the controller later holds comes on top of this figure.
 *
 *   bash scripts/with-node.sh tsx bench/module-floor.ts [--controller-rev REV] [--controller-patch FILE[,FILE]]
 *                                                      [--runs N] [--json]
 *
 * Each run is a fresh `node --expose-gc` process that imports dist/run.js and dist/config.js (what
 * dist/main.js imports, without starting anything, after the module hook main.js registers first), collects garbage twice and prints
 * process.memoryUsage(). A process that imports nothing is measured the same way as the baseline.
 * The build is the one the fleet bench runs (bench/build-controller.ts: the committed src/ of a
 * revision, compiled with tsconfig.build.json), so `--controller-rev main` and `--controller-rev HEAD`
 * compare two revisions with the same node_modules. Figures are medians over the runs.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { buildController } from "./build-controller.js";
import { slimPrelude } from "./fleet/floor.js";

const { values } = parseArgs({
  options: {
    "controller-rev": { type: "string", default: "HEAD" },
    "controller-patch": { type: "string" },
    runs: { type: "string", default: "5" },
    json: { type: "boolean", default: false },
  },
});

interface Reading {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

const MiB = 1024 * 1024;

/** One fresh process: import `modules` (file URLs), GC, report memoryUsage. */
function measure(modules: readonly string[], prelude = ""): Reading {
  const script = [
    prelude,
    `for (const m of ${JSON.stringify(modules)}) await import(m);`,
    // Two passes: the first may only promote; a tick lets finalizers run in between.
    "globalThis.gc(); await new Promise((r) => setTimeout(r, 50)); globalThis.gc();",
    "const u = process.memoryUsage();",
    "process.stdout.write(JSON.stringify({ rss: u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external }));",
  ].join("\n");
  const r = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`measuring process failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Reading;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function summarise(readings: readonly Reading[]): Record<keyof Reading, number> {
  const pick = (k: keyof Reading) => Math.round((median(readings.map((r) => r[k])) / MiB) * 10) / 10;
  return { rss: pick("rss"), heapUsed: pick("heapUsed"), heapTotal: pick("heapTotal"), external: pick("external") };
}

const runs = Math.max(1, Number(values.runs));
const build = buildController("dist", values["controller-rev"], values["controller-patch"]);
const dist = dirname(build.command[0]!);
const entry = ["run.js", "config.js"].map((f) => pathToFileURL(join(dist, f)).href);

const baseline: Reading[] = [];
const loaded: Reading[] = [];
for (let i = 0; i < runs; i++) {
  baseline.push(measure([]));
  loaded.push(measure(entry, slimPrelude(dist)));
}
const result = { rev: build.rev, node: process.version, runs, baselineMiB: summarise(baseline), loadedMiB: summarise(loaded) };
const floor = Math.round((result.loadedMiB.rss - result.baselineMiB.rss) * 10) / 10;

if (values.json) {
  process.stdout.write(`${JSON.stringify({ ...result, moduleRssMiB: floor })}\n`);
} else {
  const row = (name: string, r: Record<keyof Reading, number>) =>
    `${name.padEnd(24)} ${String(r.rss).padStart(8)} ${String(r.heapUsed).padStart(10)} ${String(r.heapTotal).padStart(10)} ${String(r.external).padStart(9)}`;
  process.stdout.write(
    [
      `controller ${result.rev}, node ${result.node}, median of ${runs} fresh processes (MiB)`,
      `${"".padEnd(24)} ${"rss".padStart(8)} ${"heapUsed".padStart(10)} ${"heapTotal".padStart(10)} ${"external".padStart(9)}`,
      row("node, nothing imported", result.baselineMiB),
      row("controller modules", result.loadedMiB),
      `module floor (rss above bare node): ${floor} MiB`,
      "",
    ].join("\n"),
  );
}
