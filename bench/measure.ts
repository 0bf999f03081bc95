/** Process and API-server measurements for the fleet benchmark (Linux /proc, Prometheus text). */
import { readFileSync } from "node:fs";

const CLK_TCK = 100; // Linux USER_HZ

/** utime + stime of a process in seconds (0 when it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** VmHWM (peak RSS) and VmRSS in MiB. */
export function memoryMiB(pid: number): { peakRss: number; rss: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return { peakRss: kb("VmHWM") / 1024, rss: kb("VmRSS") / 1024 };
  } catch {
    return { peakRss: 0, rss: 0 };
  }
}

/**
 * Where the resident memory is now (MiB, /proc/PID/smaps_rollup): anonymous pages (V8 heap, malloc
 * arenas, Buffers) and file-backed ones (the node binary and shared libraries; in a memory cgroup
 * these are charged only to the group that first read them).
 */
export function rssSplitMiB(pid: number): { anon: number; file: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
    const anon = kb("Anonymous");
    return { anon: anon / 1024, file: (kb("Rss") - anon) / 1024 };
  } catch {
    return { anon: NaN, file: NaN };
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summary(values: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? NaN };
}

/** One histogram (cumulative buckets) keyed by its `le` bound, plus count. */
interface Histogram {
  buckets: Map<number, number>;
  count: number;
}

/**
 * `apiserver_request_duration_seconds` per "VERB resource[/subresource]" from the API server's
 * /metrics text (summed over other labels).
 */
export function parseApiserverLatency(text: string): Map<string, Histogram> {
  const out = new Map<string, Histogram>();
  const re = /^apiserver_request_duration_seconds_(bucket|count)\{([^}]*)\} (\S+)$/;
  for (const line of text.split("\n")) {
    const m = re.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (labels["verb"] === "WATCH" || labels["verb"] === "CONNECT") continue;
    const key = `${labels["verb"]} ${labels["resource"]}${labels["subresource"] ? `/${labels["subresource"]}` : ""}`;
    let h = out.get(key);
    if (!h) out.set(key, (h = { buckets: new Map(), count: 0 }));
    const v = Number(m[3]);
    if (m[1] === "count") h.count += v;
    else {
      const le = labels["le"] === "+Inf" ? Infinity : Number(labels["le"]);
      h.buckets.set(le, (h.buckets.get(le) ?? 0) + v);
    }
  }
  return out;
}

/** after − before, then p50/p99 (upper bucket bounds, seconds) and the request count. */
export function latencyDelta(
  before: Map<string, Histogram>,
  after: Map<string, Histogram>,
): Record<string, { requests: number; p50_ms: number; p99_ms: number }> {
  const res: Record<string, { requests: number; p50_ms: number; p99_ms: number }> = {};
  for (const [key, a] of after) {
    const b = before.get(key);
    const count = a.count - (b?.count ?? 0);
    if (count <= 0) continue;
    const bounds = [...a.buckets.keys()].sort((x, y) => x - y);
    const q = (p: number) => {
      for (const le of bounds) {
        const c = (a.buckets.get(le) ?? 0) - (b?.buckets.get(le) ?? 0);
        if (c >= p * count) return le * 1000;
      }
      return Infinity;
    };
    res[key] = { requests: count, p50_ms: q(0.5), p99_ms: q(0.99) };
  }
  return res;
}
