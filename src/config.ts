/**
 * Controller configuration: command-line flags, each also read from `ECS_ATTRS_<FLAG>` (flags win),
 * validated with zod. The flag set is a contract (README, "Configuration"); the Helm chart and
 * README list the same flags.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { normalizeBoolFlags } from "./bool-flags.js";

/** Parses "300ms", "10s", "10m", "1h", "1h30m" (Go duration style) or a bare number of seconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = trimmed;
  const part = /^(\d+(?:\.\d+)?)(ms|s|m|h)/;
  if (!part.test(rest)) throw new Error(`"${text}" is not a duration (use e.g. 500ms, 30s, 10m, 1h)`);
  while (rest.length > 0) {
    const m = part.exec(rest);
    if (!m) throw new Error(`"${text}" is not a duration (use e.g. 500ms, 30s, 10m, 1h)`);
    total += Number(m[1]) * unit[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

const duration = z.string().transform((s, ctx) => {
  try {
    return parseDuration(s);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
    return z.NEVER;
  }
});

const bool = z.union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no"])]).transform((v) => v === true || v === "true" || v === "1" || v === "yes");

const intFromString = (min: number) => z.coerce.number().int().min(min);
const numFromString = (min: number) => z.coerce.number().gt(min);

/** "host:port", ":port" or "0" (disabled). */
const bindAddress = z.string().regex(/^(0|(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5})$/, 'must be "host:port", ":port" or "0" to disable');

/** "ModifyInstanceAttribute=5,DescribeInstances=20" → { ModifyInstanceAttribute: 5, ... }. */
const actionQps = z.string().transform((s, ctx) => {
  const out: Record<string, number> = {};
  for (const item of s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z]+)=(\d+(?:\.\d+)?)$/.exec(item);
    if (!m || Number(m[2]) <= 0) {
      ctx.addIssue({ code: "custom", message: `"${item}" must look like Action=QPS with QPS > 0` });
      return z.NEVER;
    }
    out[m[1]!] = Number(m[2]);
  }
  return out;
});

/** "cn-a=http://127.0.0.1:18080,cn-b=https://ecs.example" → { "cn-a": "http://…", … }. */
const regionEndpoints = z.string().transform((s, ctx) => {
  const out: Record<string, string> = {};
  for (const item of s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([a-z]{2}(?:-[a-z0-9]+)+)=(https?:\/\/[^\s,]+)$/.exec(item);
    // scheme://host[:port] only, as the SDK client takes it (src/cloud/client.ts parseEndpoint), so a bad
    // value is a one-line flag error here rather than a throw when the client pool is built.
    if (!m || !isBareOrigin(m[2]!)) {
      ctx.addIssue({ code: "custom", message: `"${item}" must look like region=URL, e.g. cn-hangzhou=http://127.0.0.1:18080` });
      return z.NEVER;
    }
    out[m[1]!] = m[2]!;
  }
  return out;
});

/** `--sts-endpoint`: scheme://host[:port] or a bare host[:port] (https), as src/cloud/client.ts parseEndpoint takes it. */
const stsEndpointFlag = z.string().refine((s) => (/^https?:\/\//.test(s) ? isBareOrigin(s) : /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(s)), {
  message: "must be https://host[:port] or host[:port], e.g. https://sts-vpc.cn-hangzhou.aliyuncs.com",
});

function isBareOrigin(s: string): boolean {
  if (!URL.canParse(s)) return false;
  const u = new URL(s);
  return (u.pathname === "/" || u.pathname === "") && !u.search && !u.hash && !u.username && !u.password;
}

export const configSchema = z
  .object({
    kubeconfig: z.string().optional(),
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a namespace name")
      .optional(),
    ecsEndpoint: z.string().url("must be a URL like http://127.0.0.1:18080 or https://ecs.cn-hangzhou.aliyuncs.com").optional(),
    ecsEndpointForRegion: regionEndpoints.default({}),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z0-9]+)+$/, "must be a region id like cn-hangzhou")
      .optional(),
    concurrency: intFromString(1).default(4),
    ecsQps: numFromString(0).default(10),
    ecsBurst: intFromString(1).default(10),
    ecsActionQps: actionQps.default({}),
    resyncPeriod: duration.default(10 * 60_000),
    statePollInterval: duration.default(15_000),
    leaderElect: bool.default(false),
    leaderElectionNamespace: z.string().optional(),
    leaderElectionId: z.string().min(1).default("ecs-attributes-controller"),
    // client-go's defaults and rules (see the refinement below).
    leaderElectLeaseDuration: duration.default(15_000),
    leaderElectRenewDeadline: duration.default(10_000),
    leaderElectRetryPeriod: duration.default(2_000),
    metricsBindAddress: bindAddress.default(":8080"),
    metricsSecure: bool.default(true),
    metricsCertPath: z.string().optional(),
    healthProbeBindAddress: bindAddress.default(":8081"),
    logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info"),
    logFormat: z.enum(["json", "pretty"]).default("json"),
    shutdownTimeout: duration.default(30_000),
    kubeQps: numFromString(0).default(50),
    kubeBurst: intFromString(1).default(100),
    requireProviderConfig: bool.default(false),
    stsEndpoint: stsEndpointFlag.optional(),
    allowInsecureEndpoints: bool.default(false),
  })
  .superRefine((c, ctx) => {
    // client-go refuses these too: a renewal must fit in the lease, and a retry (with its 20 % jitter)
    // must fit in the renew deadline, or a healthy leader would lose its Lease.
    if (c.leaderElectLeaseDuration <= c.leaderElectRenewDeadline) {
      ctx.addIssue({ code: "custom", path: ["leaderElectLeaseDuration"], message: "must be greater than --leader-elect-renew-deadline" });
    } else if (c.leaderElectRenewDeadline <= 1.2 * c.leaderElectRetryPeriod) {
      ctx.addIssue({ code: "custom", path: ["leaderElectRenewDeadline"], message: "must be greater than 1.2 × --leader-elect-retry-period" });
    }
    // STS answers carry temporary keys: plain http only when explicitly allowed (a local emulator).
    if (c.stsEndpoint?.startsWith("http://") && !c.allowInsecureEndpoints) {
      ctx.addIssue({
        code: "custom",
        path: ["stsEndpoint"],
        message: "is http:// (STS answers carry temporary keys); use https:// or set --allow-insecure-endpoints",
      });
    }
    // The kubelet probes over plain HTTP, so HTTPS metrics need a port of their own.
    if (c.metricsSecure && c.metricsBindAddress !== "0" && c.metricsBindAddress === c.healthProbeBindAddress && !c.metricsBindAddress.endsWith(":0")) {
      ctx.addIssue({ code: "custom", path: ["metricsBindAddress"], message: "must differ from --health-probe-bind-address while --metrics-secure is on" });
    }
  });

export type Config = z.output<typeof configSchema>;

interface FlagSpec {
  key: keyof z.input<typeof configSchema>;
  type: "string" | "boolean";
  help: string;
}

/** Flag name → schema key and help text. Order is the --help order. */
export const flags: Record<string, FlagSpec> = {
  kubeconfig: { key: "kubeconfig", type: "string", help: "Path to a kubeconfig (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)" },
  namespace: { key: "namespace", type: "string", help: "Watch only this namespace (default: all namespaces)" },
  "ecs-endpoint": {
    key: "ecsEndpoint",
    type: "string",
    help: "ECS API endpoint URL, e.g. http://127.0.0.1:18080 for the emulator (default: derived from each resource's region)",
  },
  "ecs-endpoint-for-region": {
    key: "ecsEndpointForRegion",
    type: "string",
    help: "Per-region endpoint overrides, e.g. cn-hangzhou=http://127.0.0.1:18080,cn-shanghai=http://127.0.0.1:18081 (win over --ecs-endpoint)",
  },
  "sts-endpoint": {
    key: "stsEndpoint",
    type: "string",
    help: "STS endpoint for provider-config credentials (AssumeRole, RRSA, identity check), https://host[:port] (default: derived from --region and the config's network)",
  },
  "allow-insecure-endpoints": {
    key: "allowInsecureEndpoints",
    type: "boolean",
    help: "Accept an http:// --sts-endpoint (a local emulator only: requests carry credentials) (default false)",
  },
  region: {
    key: "region",
    type: "string",
    help: "Region of the cluster: RRSA / RAM-role credentials use its STS endpoint (sets ALIBABA_CLOUD_STS_REGION when unset); ECS endpoints follow each resource's regionId",
  },
  concurrency: { key: "concurrency", type: "string", help: "Resources reconciled in parallel (default 4)" },
  "ecs-qps": { key: "ecsQps", type: "string", help: "ECS calls per second per (account, region, action) (default 10)" },
  "ecs-burst": { key: "ecsBurst", type: "string", help: "Token-bucket burst per (account, region, action) (default 10)" },
  "ecs-action-qps": { key: "ecsActionQps", type: "string", help: "Per-action overrides, e.g. ModifyInstanceAttribute=5,DescribeInstances=20" },
  "resync-period": { key: "resyncPeriod", type: "string", help: "Re-read every resource from ECS this often, jittered ±10% (default 10m)" },
  "state-poll-interval": {
    key: "statePollInterval",
    type: "string",
    help: "Re-check interval while a change waits for an instance state, e.g. Stopped (default 15s)",
  },
  "require-provider-config": {
    key: "requireProviderConfig",
    type: "boolean",
    help: "A resource without providerConfigRef needs the EcsProviderConfig named default (else ProviderConfigNotFound); the Helm chart sets it (default false: no default config means the controller's own credentials, no constraints)",
  },
  "leader-elect": { key: "leaderElect", type: "boolean", help: "Use a Lease so only one replica reconciles (default false)" },
  "leader-election-namespace": { key: "leaderElectionNamespace", type: "string", help: "Namespace of the Lease (default: the pod's namespace)" },
  "leader-election-id": { key: "leaderElectionId", type: "string", help: "Name of the Lease (default ecs-attributes-controller)" },
  "leader-elect-lease-duration": {
    key: "leaderElectLeaseDuration",
    type: "string",
    help: "How long standbys wait after the last renewal before taking the Lease (default 15s)",
  },
  "leader-elect-renew-deadline": {
    key: "leaderElectRenewDeadline",
    type: "string",
    help: "How long the leader retries renewing before it gives up leading (default 10s)",
  },
  "leader-elect-retry-period": { key: "leaderElectRetryPeriod", type: "string", help: "Interval between attempts to take or renew the Lease (default 2s)" },
  "metrics-bind-address": { key: "metricsBindAddress", type: "string", help: 'Prometheus /metrics address, "0" disables (default :8080)' },
  "metrics-secure": {
    key: "metricsSecure",
    type: "boolean",
    help: "Serve /metrics over HTTPS to callers the API server authenticates (TokenReview) and authorizes for GET /metrics (SubjectAccessReview); --no-metrics-secure: plain HTTP, no auth (default true)",
  },
  "metrics-cert-path": {
    key: "metricsCertPath",
    type: "string",
    help: "Directory holding tls.crt and tls.key for /metrics (e.g. a cert-manager Secret), re-read on change (default: self-signed at startup)",
  },
  "health-probe-bind-address": { key: "healthProbeBindAddress", type: "string", help: 'Address of /healthz and /readyz, "0" disables (default :8081)' },
  "log-level": { key: "logLevel", type: "string", help: "trace|debug|info|warn|error|fatal (default info)" },
  "log-format": { key: "logFormat", type: "string", help: "json|pretty (default json)" },
  "shutdown-timeout": { key: "shutdownTimeout", type: "string", help: "How long in-flight reconciles may finish after SIGTERM (default 30s)" },
  "kube-qps": { key: "kubeQps", type: "string", help: "Client-side QPS limit for status writes to the Kubernetes API (default 50)" },
  "kube-burst": { key: "kubeBurst", type: "string", help: "Client-side burst for status writes to the Kubernetes API (default 100)" },
};

export function envName(flag: string): string {
  return `ECS_ATTRS_${flag.toUpperCase().replaceAll("-", "_")}`;
}

export function helpText(): string {
  const lines = [
    "Usage: ecs-attributes-controller [flags]",
    "",
    "Keeps Alibaba Cloud ECS instance attributes equal to EcsInstanceAttributes resources.",
    "Every flag can also be set with the environment variable shown; flags win.",
    "Cloud credentials come from the standard ALIBABA_CLOUD_* variables (or RRSA / RAM role).",
    "",
  ];
  for (const [name, spec] of Object.entries(flags)) {
    lines.push(`  --${name}${spec.type === "string" ? " VALUE" : ""}`.padEnd(36) + `${spec.help} [${envName(name)}]`);
  }
  lines.push("  --version".padEnd(36) + "Print the version and exit");
  lines.push("  --help".padEnd(36) + "Show this help");
  return lines.join("\n");
}

export class ConfigError extends Error {}

/**
 * Environment the credential chain reads, derived from the config: with --region, STS calls (RRSA's
 * AssumeRoleWithOIDC, RAM role ARN) go to the regional endpoint instead of the global one, which a
 * cluster inside a VPC may not reach. An explicit ALIBABA_CLOUD_STS_REGION wins.
 */
export function credentialEnv(config: Pick<Config, "region">, env: NodeJS.ProcessEnv): Record<string, string> {
  return config.region && !env["ALIBABA_CLOUD_STS_REGION"] ? { ALIBABA_CLOUD_STS_REGION: config.region } : {};
}

/** Reads flags (argv) over env and validates them; throws ConfigError with a one-line reason. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config | "help" | "version" {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" }, version: { type: "boolean" } };
  for (const [name, spec] of Object.entries(flags)) options[name] = { type: spec.type };
  const boolFlags = new Set(
    Object.entries(options)
      .filter(([, o]) => o.type === "boolean")
      .map(([n]) => n),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: normalizeBoolFlags(argv, boolFlags), options, strict: true, allowPositionals: false, allowNegative: true });
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  if (parsed.values["help"]) return "help";
  if (parsed.values["version"]) return "version";

  const raw: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(flags)) {
    const fromFlag = parsed.values[name];
    const fromEnv = env[envName(name)];
    const value = fromFlag ?? (fromEnv === undefined || fromEnv === "" ? undefined : fromEnv);
    if (value !== undefined) raw[spec.key] = value;
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const byKey = new Map(Object.entries(flags).map(([name, spec]) => [spec.key as string, name]));
    const issue = result.error.issues[0]!;
    const flag = byKey.get(String(issue.path[0])) ?? String(issue.path[0]);
    throw new ConfigError(`--${flag}: ${issue.message}`);
  }
  return result.data;
}
