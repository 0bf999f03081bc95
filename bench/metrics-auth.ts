/**
 * Cost of protected /metrics: `npx tsx bench/metrics-auth.ts [--scrapes 50]`. Not part of `npm test`;
 * prints figures.
 *
 * One real control plane, the ECS emulator, and two controller processes side by side: one with
 * the default secure metrics (HTTPS, self-signed, TokenReview + SubjectAccessReview), one with
 * `--metrics-secure=false`. A ServiceAccount bound to a metrics-reader ClusterRole scrapes both
 * (a real TokenRequest token). Prints the first secure scrape (both reviews reach the API server),
 * the cached ones after it, the plain ones, and each process's RSS once idle.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startControlPlane } from "../harness/controlplane.js";
import { type RunningController, startController } from "../harness/controller.js";
import { startEmulatorInProcess } from "../harness/emulator.js";
import { scrapeMetrics, serviceAccountToken } from "../harness/metrics.js";

const { values } = parseArgs({ options: { scrapes: { type: "string", default: "50" } } });
const SCRAPES = Number(values.scrapes);
const NS = "bench-metrics";
const out = (line: string) => process.stdout.write(`${line}\n`);

function rssMiB(pid: number): string {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? `${(Number(m[1]) / 1024).toFixed(1)} MiB` : "?";
}

/** Wall time of each of `n` sequential scrapes, checking every answer is a 200. */
async function timeScrapes(ctl: RunningController, n: number, token?: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await ctl.scrapeMetrics({ token });
    times.push(performance.now() - t);
    if (r.status !== 200) throw new Error(`scrape ${i} of ${ctl.metricsUrl}: HTTP ${r.status} ${r.body.trim()}`);
  }
  return times;
}

const stats = (ms: number[]): string => {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(1);
  return `n=${s.length} median ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${s.at(-1)!.toFixed(1)} ms`;
};

async function main(): Promise<void> {
  const cp = await startControlPlane({ crdsDir: "crds", log: () => undefined });
  const emu = await startEmulatorInProcess({});
  const ctls: RunningController[] = [];
  try {
    await cp.kubectl(["create", "namespace", NS]);
    await cp.kubectl(["create", "serviceaccount", "scraper", "-n", NS]);
    await cp.kubectl(["create", "clusterrole", "bench-metrics-reader", "--verb=get", "--non-resource-url=/metrics"]);
    await cp.kubectl(["create", "clusterrolebinding", "bench-metrics-reader", "--clusterrole=bench-metrics-reader", `--serviceaccount=${NS}:scraper`]);
    const token = await serviceAccountToken((args) => cp.kubectl(args), NS, "scraper");
    const common = { kubeconfig: cp.kubeconfigPath, ecsEndpoint: emu.url, namespace: NS, logLevel: "info" };
    const secure = await startController({ ...common, secureMetrics: true });
    const plain = await startController(common);
    ctls.push(secure, plain);
    await Promise.all(ctls.map((c) => c.waitForLog(/workers running/, 120_000)));

    const [first] = await timeScrapes(secure, 1, token);
    const cached = await timeScrapes(secure, SCRAPES, token);
    const plainTimes = await timeScrapes(plain, SCRAPES);
    const refused = await scrapeMetrics(secure.metricsUrl);
    out(`secure /metrics (${secure.metricsUrl}): first scrape (TokenReview + SubjectAccessReview) ${first!.toFixed(1)} ms`);
    out(`secure /metrics, cached reviews: ${stats(cached)}`);
    out(`plain /metrics (${plain.metricsUrl}): ${stats(plainTimes)}`);
    out(`secure /metrics without a token: HTTP ${refused.status}`);
    out(`RSS after the scrapes: secure ${rssMiB(secure.pid)}, plain ${rssMiB(plain.pid)}`);
  } finally {
    await Promise.all(ctls.map((c) => c.stop()));
    await emu.stop();
    await cp.stop();
  }
}

await main();
