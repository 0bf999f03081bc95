/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof DIR`): self time per function and
 * per file, and inclusive (total) time of functions, so a hot path can be named with evidence.
 *
 *   npx tsx bench/profile-summary.ts DIR/CPU.*.cpuprofile [--top 25] [--match src/] [--from S --to S] [--timeline]
 *
 * `--from`/`--to` (seconds since the profile started) keep only the samples of one stretch, e.g. one
 * resync round; `--timeline` prints the non-idle CPU time of each second first, to find that stretch.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

process.stdout.on("error", () => process.exit(0)); // e.g. piped into head

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: "string", default: "25" },
    match: { type: "string" },
    from: { type: "string", default: "0" },
    to: { type: "string", default: "Infinity" },
    timeline: { type: "boolean", default: false },
  },
});
const top = Number(values.top);
const file = positionals[0];
if (!file) throw new Error("usage: profile-summary.ts FILE.cpuprofile [--top N] [--match substring]");
const p = JSON.parse(readFileSync(file, "utf8")) as Profile;

const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const fromUs = Number(values.from) * 1e6;
const toUs = Number(values.to) * 1e6;
const selfUs = new Map<number, number>();
/** Non-idle µs per second since the start. */
const busyPerSecond = new Map<number, number>();
let atUs = 0;
for (let i = 0; i < p.samples.length; i++) {
  const us = p.timeDeltas[i] ?? 0;
  atUs += us;
  const id = p.samples[i]!;
  if (byId.get(id)?.callFrame.functionName !== "(idle)") {
    const sec = Math.floor(atUs / 1e6);
    busyPerSecond.set(sec, (busyPerSecond.get(sec) ?? 0) + us);
  }
  if (atUs >= fromUs && atUs < toUs) selfUs.set(id, (selfUs.get(id) ?? 0) + us);
}
const totalUs = Math.min(p.endTime - p.startTime, toUs) - fromUs;

const short = (url: string) =>
  url
    .replace(/^file:\/\//, "")
    .replace(/.*\/node_modules\//, "nm:")
    .replace(/.*\/(src|dist)\//, "$1/");
const label = (n: Node) => `${n.callFrame.functionName || "(anonymous)"} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const selfByFn = new Map<string, number>();
const selfByFile = new Map<string, number>();
const inclByFn = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  selfByFn.set(label(n), (selfByFn.get(label(n)) ?? 0) + us);
  const f = short(n.callFrame.url) || `(${n.callFrame.functionName})`;
  selfByFile.set(f, (selfByFile.get(f) ?? 0) + us);
  // inclusive: every distinct frame label on the stack gets the sample once
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    if (seen.has(l)) continue;
    seen.add(l);
    inclByFn.set(l, (inclByFn.get(l) ?? 0) + us);
  }
}

const pct = (us: number) => `${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${(us / 1e6).toFixed(2).padStart(7)} s`;
const show = (title: string, m: Map<string, number>, filter?: (k: string) => boolean) => {
  process.stdout.write(`\n${title}\n`);
  [...m]
    .filter(([k]) => !filter || filter(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([k, v]) => process.stdout.write(`  ${pct(v)}  ${k}\n`));
};
process.stdout.write(
  `profile ${(totalUs / 1e6).toFixed(1)} s wall${fromUs > 0 || toUs < Infinity ? ` (from ${values.from} s)` : ""}, ${p.samples.length} samples\n`,
);
if (values.timeline) {
  process.stdout.write("\nnon-idle CPU per second (s: ms)\n");
  const secs = [...busyPerSecond.keys()].sort((a, b) => a - b);
  process.stdout.write(secs.map((s) => `${s}: ${((busyPerSecond.get(s) ?? 0) / 1e3).toFixed(0)}`).join("  ") + "\n");
}
show("self time by file", selfByFile);
show("self time by function", selfByFn);
show("inclusive time by function" + (values.match ? ` (matching ${values.match})` : ""), inclByFn, values.match ? (k) => k.includes(values.match!) : undefined);
