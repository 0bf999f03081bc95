/**
 * Whether a fleet run meets the figures issue 15 keeps (convergence ratio, idle reads, no idle writes,
 * no OOM kill), and the bisection of the smallest memory limit at which a run still does.
 */
import type { BenchResult } from "./report.js";

/** One run under a limit: its result (absent when the run failed) and the figures it missed. */
export interface Attempt {
  limitMiB: number | undefined;
  result?: BenchResult;
  /** Empty when the run meets every figure. */
  missed: string[];
  /** Load average (1/5/15 min) when the run started. */
  load: string;
}

/** The figures a run missed, as "figure value (target)" strings; empty = meets them all. */
export function missedFigures(x: BenchResult, maxRatio = 1.05): string[] {
  const checks: Array<[string, number, (v: number) => boolean, string]> = [
    ["convergence ratio", x.convergence.ratio, (v) => v <= maxRatio, `≤ ${maxRatio}`],
    ["DescribeInstances per idle round ÷ ceil(N/100)", x.idle.describe_instances_vs_ideal, (v) => v <= 1.05, "≤ 1.05"],
    ["Modify calls in idle rounds", x.idle.modify_calls, (v) => v === 0, "0"],
    ["status writes per idle round", x.idle.status_writes_per_round, (v) => v === 0, "0"],
    ["OOM kills", x.memory_cgroup?.oom_kills ?? 0, (v) => v === 0, "0"],
  ];
  return checks.filter(([, v, ok]) => !ok(v)).map(([name, v, , target]) => `${name} ${v} (target ${target})`);
}

/**
 * The smallest limit in `lo, lo+32, …, hi` (hi always a candidate) whose run meets the figures,
 * assuming a run that passes at some limit passes at every larger one. Runs `hi` first: when even
 * that fails there is nothing to bisect.
 */
export async function bisectMemoryLimit(
  lo: number,
  hi: number,
  run: (limitMiB: number) => Promise<Attempt>,
  say: (s: string) => void,
): Promise<{ smallest: number | undefined; best: Attempt | undefined; attempts: Attempt[] }> {
  const candidates: number[] = [];
  for (let m = lo; m < hi; m += 32) candidates.push(m);
  candidates.push(hi);
  const attempts: Attempt[] = [];
  const attempt = async (i: number) => {
    const a = await run(candidates[i]!);
    attempts.push(a);
    say(`limit ${a.limitMiB} MiB: ${a.missed.length === 0 ? "meets the figures" : a.missed.join("; ")}`);
    return a;
  };
  let best = await attempt(candidates.length - 1);
  if (best.missed.length > 0) return { smallest: undefined, best: undefined, attempts };
  // Invariant: candidates[good] passes; every index below `bad + 1` … `good - 1` is untested.
  let bad = -1;
  let good = candidates.length - 1;
  while (good - bad > 1) {
    const mid = Math.floor((bad + good) / 2);
    const a = await attempt(mid);
    if (a.missed.length === 0) {
      good = mid;
      best = a;
    } else bad = mid;
  }
  return { smallest: candidates[good], best, attempts };
}
