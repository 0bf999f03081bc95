/** The fleet benchmark's command line (usage: bench/fleet.ts's header) and the figures derived from it. */
import { parseArgs } from "node:util";

export interface BenchConfig {
  preset: "quick" | "full";
  /** Resources (and instances). */
  N: number;
  /** ModifyInstanceAttribute quota per second. */
  Q: number;
  /** Latency added to every ECS call, ms. */
  L: number;
  /** Describe* quota per second. */
  D: number;
  resyncS: number;
  /** Controller workers. */
  C: number;
  idleRounds: number;
  changePct: number;
  createConcurrency: number;
  cpuProfDir: string | undefined;
  controller: "dist" | "tsx";
  controllerRev: string;
  controllerPatch: string | undefined;
  /** Run the controller inside a memory cgroup with this limit (MiB); undefined = no limit. */
  memoryLimitMiB: number | undefined;
  /** Bisect the smallest passing limit between minMemoryMiB and memoryLimitMiB (32 MiB steps). */
  findMemoryLimit: boolean;
  minMemoryMiB: number;
  /** The convergence ratio a run must meet (bench/fleet/verdict.ts); raise it only on a loaded machine, and say so. */
  maxRatio: number;
  /** Secrets nothing references, created in the namespace before the controller starts (count, KiB each). */
  unrelatedSecrets: { count: number; kib: number };
  /** Extra environment for the controller process (e.g. MALLOC_ARENA_MAX, NODE_OPTIONS). */
  controllerEnv: Record<string, string>;
  json: boolean;
}

const presets = {
  quick: { resources: 1000, modifyQps: 100, resyncS: 20 },
  full: { resources: 10_000, modifyQps: 200, resyncS: 30 },
} as const;

/** Parses argv; `undefined` when --help was asked for. Throws on bad values. */
export function parseOptions(args: string[]): BenchConfig | undefined {
  const { values: argv } = parseArgs({
    args,
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
      "memory-limit": { type: "string" },
      "find-memory-limit": { type: "boolean", default: false },
      "min-memory": { type: "string", default: "64" },
      "max-ratio": { type: "string", default: "1.05" },
      "unrelated-secrets": { type: "string", default: "0:0" },
      "controller-env": { type: "string", multiple: true, default: [] },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (argv.help) return undefined;
  if (argv.preset !== "quick" && argv.preset !== "full") throw new Error(`--preset must be quick or full`);
  if (argv.controller !== "dist" && argv.controller !== "tsx") throw new Error("--controller must be dist or tsx");
  const preset = presets[argv.preset];
  const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
  const Q = num(argv["modify-qps"], preset.modifyQps);
  const L = num(argv["latency-ms"], 20);
  const cfg: BenchConfig = {
    preset: argv.preset,
    N: num(argv.resources, preset.resources),
    Q,
    L,
    D: num(argv["describe-qps"], 50),
    resyncS: num(argv["resync-period"], preset.resyncS),
    // Enough workers that Q writes/s fit when each reconcile costs an ECS round trip or two plus a
    // status PATCH that takes a few hundred ms on a busy API server (Little's law: workers = rate × time).
    C: num(argv.concurrency, Math.max(16, Math.ceil((Q * (2 * L + 300)) / 1000))),
    idleRounds: num(argv["idle-rounds"], 2),
    changePct: num(argv["change-percent"], 10),
    createConcurrency: num(argv["create-concurrency"], 24),
    cpuProfDir: argv["cpu-prof"],
    controller: argv.controller,
    controllerRev: argv["controller-rev"],
    controllerPatch: argv["controller-patch"],
    memoryLimitMiB: argv["memory-limit"] === undefined ? (argv["find-memory-limit"] ? 512 : undefined) : Number(argv["memory-limit"]),
    findMemoryLimit: argv["find-memory-limit"],
    minMemoryMiB: Number(argv["min-memory"]),
    maxRatio: Number(argv["max-ratio"]),
    unrelatedSecrets: { count: Number(argv["unrelated-secrets"].split(":")[0]), kib: Number(argv["unrelated-secrets"].split(":")[1] ?? 64) },
    controllerEnv: Object.fromEntries(
      argv["controller-env"].map((kv) => {
        const eq = kv.indexOf("=");
        if (eq < 1) throw new Error(`--controller-env takes NAME=VALUE, got ${kv}`);
        return [kv.slice(0, eq), kv.slice(eq + 1)];
      }),
    ),
    json: argv.json,
  };
  if (cfg.memoryLimitMiB !== undefined && !(cfg.memoryLimitMiB >= 16)) throw new Error(`--memory-limit must be a number of MiB ≥ 16`);
  if (cfg.findMemoryLimit && !(cfg.minMemoryMiB >= 16 && cfg.minMemoryMiB < cfg.memoryLimitMiB!)) {
    throw new Error(`--min-memory must be ≥ 16 and below --memory-limit`);
  }
  const { N, D, resyncS, C, idleRounds, changePct } = cfg;
  const { count: secrets, kib: secretKiB } = cfg.unrelatedSecrets;
  for (const [k, v] of Object.entries({ N, Q, L, D, resyncS, C, idleRounds, changePct, secrets, secretKiB })) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`bad value for ${k}: ${v}`);
  }
  return cfg;
}

/** The controller's flags for this configuration (besides kubeconfig, endpoint, ports, log level). */
export function controllerArgs(cfg: BenchConfig, namespace: string): string[] {
  return [
    `--namespace=${namespace}`,
    `--resync-period=${cfg.resyncS}s`,
    `--concurrency=${cfg.C}`,
    `--ecs-qps=${cfg.D}`,
    "--ecs-burst=10",
    `--ecs-action-qps=ModifyInstanceAttribute=${cfg.Q},DescribeInstances=${cfg.D}`,
    // Explicit Kubernetes client limits: a status patch and an Event per write, with headroom.
    `--kube-qps=${Math.max(50, 4 * cfg.Q)}`,
    `--kube-burst=${Math.max(100, 4 * cfg.Q)}`,
    "--log-level=info",
  ];
}
