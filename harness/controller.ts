/**
 * Runs the controller as a child process exactly as users do (`src/main.ts` through tsx, or a
 * compiled `dist/main.js`; flags and ALIBABA_CLOUD_* env), capturing its logs for assertions (e.g.
 * that no secret was logged). Its metrics and probe servers bind port 0; the URLs come from its
 * "http endpoints listening" log line. /metrics is plain HTTP here (--metrics-secure=false) unless
 * `secureMetrics` is set: most tests scrape it for figures, not to test its protection, which
 * test/e2e/packaging/controller-rbac.test.ts and monitoring.test.ts do. `ctl.scrapeMetrics({ token })`
 * works either way.
 *
 *   const ctl = await startController({ kubeconfig, ecsEndpoint: emu.url, namespace: ns, args: ["--resync-period=3s"] });
 *   await ctl.waitForLog(/informers synced|leading/);
 *   ctl.logs()            // everything it printed (JSON lines)
 *   await ctl.stop();     // SIGTERM, wait for exit
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { TEST_ACCESS_KEY } from "./emulator.js";
import { repoRoot } from "./exec.js";
import { type ScrapeOptions, scrapeMetrics } from "./metrics.js";
import { WaitAborted, waitFor } from "./wait.js";

/** The JSON records among a process's output lines (pino logs); other lines are skipped. */
export function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

export interface ControllerOptions {
  kubeconfig: string;
  ecsEndpoint: string;
  /**
   * The one namespace it watches. Required: test files share a control plane, and a cluster-wide
   * controller would reconcile the other files' resources against its own emulator and overwrite
   * their statuses (a test needing a cluster-wide controller starts its own control plane and
   * passes "*": no --namespace flag).
   */
  namespace: string;
  args?: string[];
  env?: Record<string, string>;
  /** Default "debug". */
  logLevel?: string;
  /** What node runs: default `--import tsx src/main.ts`; e.g. `[".../dist/main.js"]` for a build. */
  command?: string[];
  /** Write a V8 CPU profile (`--cpu-prof`) into this directory when the process exits. */
  cpuProfDir?: string;
  /**
   * Spawn this argv followed by node's path and arguments instead of node itself (it must exec
   * node, keeping the PID): e.g. the bench's memory-cgroup launcher (bench/fleet/cgroup.ts).
   */
  launcher?: string[];
  /** Keep the controller's default: /metrics over HTTPS with TokenReview/SubjectAccessReview. */
  secureMetrics?: boolean;
}

export interface RunningController {
  readonly pid: number;
  readonly metricsUrl: string;
  readonly healthUrl: string;
  /** GET /metrics (HTTPS with a token when secureMetrics). */
  scrapeMetrics(opts?: ScrapeOptions): Promise<{ status: number; body: string }>;
  logs(): string;
  /** Parsed JSON log lines (non-JSON lines are skipped). */
  logRecords(): Array<Record<string, unknown>>;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startController(opts: ControllerOptions): Promise<RunningController> {
  const args = [
    ...(opts.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`] : []),
    ...(opts.command ?? ["--import", "tsx", join(repoRoot, "src/main.ts")]),
    `--kubeconfig=${opts.kubeconfig}`,
    `--ecs-endpoint=${opts.ecsEndpoint}`,
    // Port 0: the controller picks free ports and logs them. Ports chosen here beforehand could be
    // taken by a parallel test file before the controller binds them (EADDRINUSE).
    "--metrics-bind-address=127.0.0.1:0",
    "--health-probe-bind-address=127.0.0.1:0",
    ...(opts.secureMetrics ? [] : ["--metrics-secure=false"]),
    `--log-level=${opts.logLevel ?? "debug"}`,
    ...(opts.namespace === "*" ? [] : [`--namespace=${opts.namespace}`]),
    ...(opts.args ?? []),
  ];
  const [file, ...prefix] = opts.launcher ?? [process.execPath];
  const child: ChildProcess = spawn(file!, opts.launcher ? [...prefix, process.execPath, ...args] : args, {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_ACCESS_KEY.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_ACCESS_KEY.accessKeySecret,
      ...opts.env,
    },
  });
  let output = "";
  const waiters = new Set<() => void>();
  const onData = (d: string) => {
    output += d;
    for (const w of waiters) w();
  };
  child.stdout?.setEncoding("utf8").on("data", onData);
  child.stderr?.setEncoding("utf8").on("data", onData);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  // Never leave a controller behind if this process ends without stop().
  const killOnExit = (): void => void child.kill("SIGKILL");
  process.once("exit", killOnExit);
  void exited.then(() => {
    process.off("exit", killOnExit);
    for (const w of waiters) w();
  });
  let endpoints: { metrics?: string; probes?: string } | undefined;
  /** A URL from the "http endpoints listening" log line; until then one that refuses connections. */
  const endpoint = (kind: "metrics" | "probes"): string => {
    endpoints ??= jsonLines(output).find((r) => r["msg"] === "http endpoints listening") as typeof endpoints;
    return endpoints?.[kind] ?? "http://127.0.0.1:1";
  };

  const ctl: RunningController = {
    pid: child.pid ?? -1,
    get metricsUrl() {
      return `${endpoint("metrics")}/metrics`;
    },
    get healthUrl() {
      return endpoint("probes");
    },
    scrapeMetrics: (o) => scrapeMetrics(ctl.metricsUrl, o),
    logs: () => output,
    logRecords: () => jsonLines(output),
    async waitForLog(pattern, timeoutMs = 60_000) {
      await waitFor(
        `controller log to match ${pattern}`,
        () => {
          if (pattern.test(output)) return true;
          if (child.exitCode !== null || child.signalCode !== null)
            throw new WaitAborted(`controller exited with ${child.exitCode ?? child.signalCode} before logging ${pattern}:\n${output.slice(-3000)}`);
          return false;
        },
        {
          timeoutMs,
          intervalMs: 1000,
          subscribe: (wake) => {
            waiters.add(wake);
            return () => waiters.delete(wake);
          },
          diag: () => `last output:\n${output.slice(-3000)}`,
        },
      );
    },
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  return ctl;
}
