/**
 * `ecs-attributes-controller import`: adopt an existing fleet. Finds instances in a region (by tags
 * and/or IDs, the same DescribeInstances filters as a set's discovery) and prints YAML for
 * `kubectl apply`: one EcsInstanceAttributes per instance, or one EcsInstanceAttributesSet, with
 * `managementPolicy: Observe` and the instances' current attributes as the spec, so that applying
 * it writes nothing to ECS and reports no drift. Passwords and user data are never printed (they
 * cannot be read back, and stay unmanaged until a Secret is referenced). Progress goes to stderr.
 *
 *   node dist/main.js import --region cn-hangzhou --tag team=pay [--instance-ids i-a,i-b] \
 *       [--namespace ops] [--as resources|set] [--name pay] [--ecs-endpoint URL]
 *
 * Credentials: the same default chain as the controller (ALIBABA_CLOUD_* variables, RRSA, RAM role).
 */
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { FIELD_ROWS, putAt, valueAt } from "../api/fields.js";
import { API_VERSION, KIND } from "../api/constants.js";
import { SET_KIND } from "../api/set.js";
import { validateSpec } from "../api/validate.js";
import { DEFAULT_CREDENTIALS } from "../cloud/client.js";
import { EcsCloud, type FoundInstance } from "../cloud/ecs.js";
import type { ObservedInstance } from "../cloud/model.js";
import { ConfigError, configSchema } from "../config.js";

const USAGE =
  "usage: import --region R [--tag k=v]… [--instance-ids i-a,i-b] [--namespace N] [--as resources|set] [--name NAME] [--ecs-endpoint URL] [--ecs-endpoint-for-region R=URL,…]";

interface ImportOptions {
  region: string;
  tags: Record<string, string>;
  instanceIds: string[] | undefined;
  namespace: string;
  as: "resources" | "set";
  name: string;
  ecsEndpoint: string | undefined;
  ecsEndpointForRegion: Record<string, string>;
}

/** Flags → options; throws ConfigError with a one-line reason. */
export function parseImportArgs(argv: string[]): ImportOptions {
  let v;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        region: { type: "string" },
        tag: { type: "string", multiple: true },
        "instance-ids": { type: "string" },
        namespace: { type: "string", default: "default" },
        as: { type: "string", default: "resources" },
        name: { type: "string", default: "imported" },
        "ecs-endpoint": { type: "string" },
        "ecs-endpoint-for-region": { type: "string" },
      },
    }).values;
  } catch (e) {
    throw new ConfigError(`${(e as Error).message}; ${USAGE}`);
  }
  if (!v.region) throw new ConfigError(`--region is required; ${USAGE}`);
  if (v.as !== "resources" && v.as !== "set") throw new ConfigError("--as must be resources or set");
  const tags: Record<string, string> = {};
  for (const t of v.tag ?? []) {
    const eq = t.indexOf("=");
    if (eq <= 0) throw new ConfigError(`--tag ${t}: must look like key=value`);
    tags[t.slice(0, eq)] = t.slice(eq + 1);
  }
  const endpoints = configSchema.safeParse({ region: v.region, ecsEndpoint: v["ecs-endpoint"], ecsEndpointForRegion: v["ecs-endpoint-for-region"] });
  if (!endpoints.success) throw new ConfigError(`--${String(endpoints.error.issues[0]?.path[0])}: ${endpoints.error.issues[0]?.message}`);
  const ids = v["instance-ids"]
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (Object.keys(tags).length === 0 && !ids?.length)
    throw new ConfigError("give --tag and/or --instance-ids (import never selects a whole region by accident)");
  return {
    region: v.region,
    tags,
    instanceIds: ids,
    namespace: v.namespace,
    as: v.as,
    name: v.name,
    ecsEndpoint: endpoints.data.ecsEndpoint,
    ecsEndpointForRegion: endpoints.data.ecsEndpointForRegion,
  };
}

/**
 * The instance's current attributes as spec fields: every row DescribeInstances shows (so no extra
 * per-instance reads), never secrets; empty values are left out, as is any value the API would
 * reject (e.g. a description ECS let through before today's rules), which then stays unmanaged.
 */
export function currentAttributes(observed: ObservedInstance, regionId: string): { spec: Record<string, unknown>; dropped: string[] } {
  const spec: Record<string, unknown> = { instanceId: observed.instanceId, regionId, managementPolicy: "Observe" };
  for (const row of FIELD_ROWS) {
    if (row.read.action !== "DescribeInstances" || row.secret) continue;
    const value = valueAt(observed, row.name);
    if (value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) continue;
    putAt(spec, row.spec ?? row.name, value);
  }
  const dropped: string[] = [];
  for (let check = validateSpec(spec); !check.ok; check = validateSpec(spec)) {
    const field = /^spec\.([A-Za-z]+)/.exec(check.message)?.[1];
    if (!field || !(field in spec) || field === "instanceId" || field === "regionId") throw new Error(`instance ${observed.instanceId}: ${check.message}`);
    delete spec[field];
    dropped.push(field);
  }
  return { spec, dropped };
}

/** One set whose template holds the values every instance shares (the rest stays unmanaged). */
function asSet(opts: ImportOptions, specs: Array<Record<string, unknown>>): Record<string, unknown> {
  const template: Record<string, unknown> = {};
  const first = specs[0] ?? {};
  for (const [k, v] of Object.entries(first)) {
    if (["instanceId", "regionId", "managementPolicy", "instanceName", "hostName"].includes(k)) continue;
    if (specs.every((s) => JSON.stringify(s[k]) === JSON.stringify(v))) template[k] = v;
  }
  const selector = { ...(Object.keys(opts.tags).length > 0 ? { tags: opts.tags } : {}), ...(opts.instanceIds ? { instanceIds: opts.instanceIds } : {}) };
  return {
    apiVersion: API_VERSION,
    kind: SET_KIND,
    metadata: { name: opts.name, namespace: opts.namespace },
    spec: { regionId: opts.region, managementPolicy: "Observe", selector, template },
  };
}

/** The YAML documents for what was found. */
export function renderImport(opts: ImportOptions, found: readonly FoundInstance[], warn: (line: string) => void): string {
  const specs = [...found]
    .sort((a, b) => (a.observed.instanceId < b.observed.instanceId ? -1 : 1))
    .map((f) => {
      const { spec, dropped } = currentAttributes(f.observed, opts.region);
      if (dropped.length > 0) warn(`import: ${f.observed.instanceId}: left unmanaged (value not valid for the API): ${dropped.join(", ")}`);
      return spec;
    });
  const docs =
    opts.as === "set"
      ? [asSet(opts, specs)]
      : specs.map((spec) => ({ apiVersion: API_VERSION, kind: KIND, metadata: { name: String(spec["instanceId"]), namespace: opts.namespace }, spec }));
  return docs.map((d) => `---\n${stringify(d, { lineWidth: 0 })}`).join("");
}

/** Runs the subcommand; returns the exit code (2: bad flags, 1: ECS failed). */
export async function runImport(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let opts: ImportOptions;
  try {
    opts = parseImportArgs(argv);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err.write(`ecs-attributes-controller import: ${e.message}\n`);
    return 2;
  }
  const cloud = new EcsCloud({ endpoint: opts.ecsEndpoint, regionEndpoints: opts.ecsEndpointForRegion });
  try {
    err.write(`import: asking ECS for instances in ${opts.region} (pages of 100)…\n`);
    const found = await cloud.findInstances({ credentials: DEFAULT_CREDENTIALS, regionId: opts.region }, { tags: opts.tags, instanceIds: opts.instanceIds });
    err.write(`import: found ${found.length} instances; writing ${opts.as === "set" ? "one set" : `${found.length} resources`} (managementPolicy: Observe)\n`);
    out.write(renderImport(opts, found, (l) => err.write(`${l}\n`)));
    return 0;
  } catch (e) {
    err.write(`ecs-attributes-controller import: ${(e as Error).message}\n`);
    return 1;
  } finally {
    cloud.close();
  }
}
