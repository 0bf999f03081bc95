/**
 * The `Fleet` client (EcsInstanceAttributes, Secrets and Events in one namespace) for the scenario
 * and reliability tests and the soak: one resource or many at once, emulator seeds to match, waits
 * for a condition or for the whole namespace to converge, call-log accounting and leak grep.
 *
 *   const fleet = await Fleet.open(kubeconfigPath, "rel-faults");     // creates the namespace
 *   await emu.admin.seed({ instances: fleetInstances("flt", 200) });
 *   await fleet.createMany(fleetSpecs("flt", 200, (i) => ({ instanceName: `want-${i}` })));
 *   const { ms } = await fleet.waitConverged({ count: 200, timeoutMs: 120_000 });
 *   const o = await fleet.waitForCondition("flt-00000", "Ready", "True", { reason: "InSync" });
 *   const leaks = findLeaks(captured, secrets);                       // [] when clean
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { GROUP, KIND, PLURAL, VERSION } from "../src/api/constants.js";
import type { CallRecord, InstanceInput } from "./emulator.js";
import { sleep, waitFor, type WaitOptions } from "./wait.js";

export { GROUP, KIND, PLURAL, VERSION };
export const REGION = "cn-hangzhou";

export interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

export interface Resource {
  metadata: { name: string; namespace?: string; generation: number; resourceVersion: string; creationTimestamp?: string };
  spec: Record<string, unknown>;
  status?: {
    conditions?: Cond[];
    error?: { code: string; message: string; retryable: boolean };
    pendingChanges?: string[];
    observedGeneration?: number;
    atProvider?: Record<string, unknown>;
    restartHolds?: Array<{ field: string; cause: string; since: string; value?: string; startTime?: string }>;
    appliedSecretVersions?: Partial<Record<"password" | "userData", { kind: string; generation?: number; resourceVersion?: string; appliedTime: string }>>;
  };
}

export const cond = (o: Resource, type: string): Cond | undefined => o.status?.conditions?.find((c) => c.type === type);

/** Ready=True/InSync and Synced=True for the current generation. */
export function isConverged(o: Resource): boolean {
  return (
    o.status?.observedGeneration === o.metadata.generation &&
    cond(o, "Ready")?.status === "True" &&
    cond(o, "Ready")?.reason === "InSync" &&
    cond(o, "Synced")?.status === "True"
  );
}

/** Instance IDs `i-<prefix><index, 5 digits>` (prefix: lower-case letters/digits). */
export const fleetInstanceId = (prefix: string, i: number): string => `i-${prefix}${String(i).padStart(5, "0")}`;
export const fleetName = (prefix: string, i: number): string => `${prefix}-${String(i).padStart(5, "0")}`;

/** Emulator seed entries for `n` Running instances in one VPC, named `seed-…`. */
export function fleetInstances(prefix: string, n: number, extra: (i: number) => Partial<InstanceInput> = () => ({})): InstanceInput[] {
  return Array.from({ length: n }, (_, i) => ({
    instanceId: fleetInstanceId(prefix, i),
    regionId: REGION,
    instanceName: `seed-${prefix}-${i}`,
    ...extra(i),
  }));
}

export interface NamedSpec {
  name: string;
  spec: Record<string, unknown>;
}

/** `n` resources, one per fleet instance, with the spec fields from `desired(i)`. */
export function fleetSpecs(prefix: string, n: number, desired: (i: number) => Record<string, unknown>): NamedSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    name: fleetName(prefix, i),
    spec: { instanceId: fleetInstanceId(prefix, i), regionId: REGION, ...desired(i) },
  }));
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** One line about an object's status, for wait diagnostics. */
function describe(o: Resource): string {
  return `${o.metadata.name}: gen=${o.metadata.generation} obs=${o.status?.observedGeneration} ${JSON.stringify(o.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`))} err=${JSON.stringify(o.status?.error)}`;
}

export interface ConvergeResult {
  ms: number;
  items: Resource[];
}

/** Kubernetes access scoped to one namespace. */
export class Fleet {
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;

  private constructor(
    readonly kc: KubeConfig,
    readonly ns: string,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Loads the kubeconfig and creates namespace `ns` (ignores "already exists"). */
  static async open(kubeconfigPath: string, ns: string, opts: { create?: boolean } = {}): Promise<Fleet> {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const f = new Fleet(kc, ns);
    if (opts.create !== false) {
      await f.core.createNamespace({ body: { metadata: { name: ns } } }).catch((e: unknown) => {
        if ((e as { code?: number }).code !== 409) throw e;
      });
    }
    return f;
  }

  async deleteNamespace(): Promise<void> {
    await this.core.deleteNamespace({ name: this.ns }).catch(() => undefined);
  }

  create(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Promise<Resource> {
    return this.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.ns,
      plural: PLURAL,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, metadata: { ...metadata, name }, spec: { regionId: REGION, ...spec } },
    }) as Promise<Resource>;
  }

  async createMany(items: readonly NamedSpec[], limit = 8): Promise<void> {
    await mapLimit(items, limit, (it) => this.withRetry(() => this.create(it.name, it.spec)));
  }

  get(name: string): Promise<Resource> {
    return this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural: PLURAL, name }) as Promise<Resource>;
  }

  async list(): Promise<Resource[]> {
    const r = (await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural: PLURAL })) as { items: Resource[] };
    return r.items;
  }

  /** Sets spec fields with one JSON patch (no read, no resourceVersion: last writer wins). */
  async patchSpec(name: string, fields: Record<string, unknown>): Promise<Resource> {
    const body = Object.entries(fields).map(([k, value]) => ({ op: "add", path: `/spec/${k}`, value }));
    return (await this.custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.ns, plural: PLURAL, name, body })) as Resource;
  }

  /** Replaces the spec with read-modify-write, retrying 409s. */
  async updateSpec(name: string, spec: Record<string, unknown>): Promise<Resource> {
    for (let attempt = 0; ; attempt++) {
      const obj = await this.get(name);
      try {
        return (await this.custom.replaceNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: this.ns,
          plural: PLURAL,
          name,
          body: { ...obj, spec: { ...obj.spec, ...spec } },
        })) as Resource;
      } catch (e) {
        if ((e as { code?: number }).code !== 409 || attempt > 20) throw e;
      }
    }
  }

  async secret(name: string, data: Record<string, string>): Promise<void> {
    const body = { metadata: { name }, stringData: data };
    try {
      await this.core.createNamespacedSecret({ namespace: this.ns, body });
    } catch {
      await this.core.replaceNamespacedSecret({ namespace: this.ns, name, body });
    }
  }

  async events(): Promise<Array<{ reason?: string; message?: string; type?: string; note?: string; involvedObject: { name?: string } }>> {
    return (await this.core.listNamespacedEvent({ namespace: this.ns })).items;
  }

  /**
   * Waits until `count` resources exist and every one satisfies `ok` (default: converged for its
   * generation). Returns the time it took and the final list.
   */
  async waitConverged(opts: { count: number; timeoutMs: number; ok?: (o: Resource) => boolean; diag?: () => string }): Promise<ConvergeResult> {
    const start = Date.now();
    const ok = opts.ok ?? isConverged;
    let lastItems: Resource[] = [];
    const items = await waitFor(
      `${opts.count} resources in ${this.ns} to converge`,
      async () => {
        lastItems = await this.list();
        return lastItems.length === opts.count && lastItems.every(ok) ? lastItems : undefined;
      },
      {
        timeoutMs: opts.timeoutMs,
        intervalMs: 1000,
        diag: () => {
          const bad = lastItems.filter((o) => !ok(o));
          const sample = bad.slice(0, 5).map(describe);
          return `${lastItems.length} listed, ${bad.length} not converged, e.g.\n${sample.join("\n")}${opts.diag ? `\n${opts.diag()}` : ""}`;
        },
      },
    );
    return { ms: Date.now() - start, items };
  }

  /**
   * Waits until `name` has condition `type` with `status` (and `reason`, when given) for its current
   * generation; returns the object. API errors while waiting are retried (see harness/wait.ts).
   */
  async waitForCondition(name: string, type: string, status: string, opts: { reason?: string } & WaitOptions = {}): Promise<Resource> {
    let last: Resource | undefined;
    const { reason, ...wait } = opts;
    const diag = wait.diag;
    return waitFor(
      `${name} ${type}=${status}${reason ? `/${reason}` : ""}`,
      async () => {
        const o = (last = await this.get(name));
        const c = cond(o, type);
        return c?.status === status && (reason === undefined || c.reason === reason) && o.status?.observedGeneration === o.metadata.generation ? o : undefined;
      },
      { intervalMs: 250, ...wait, diag: async () => `last seen: ${last ? describe(last) : "nothing"}${diag ? `\n${await diag()}` : ""}` },
    );
  }

  private async withRetry<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const code = (e as { code?: number }).code;
        // 409 AlreadyExists on a retried create that actually went through is fine.
        if (code === 409) return undefined as T;
        if (attempt >= 5 || (code !== undefined && code < 500 && code !== 429)) throw e;
        await sleep(500 * (attempt + 1));
      }
    }
  }
}

/** Groups call records by their InstanceId parameter. */
export function byInstance(calls: readonly CallRecord[]): Map<string, CallRecord[]> {
  const out = new Map<string, CallRecord[]>();
  for (const c of calls) {
    const id = c.params["InstanceId"];
    if (!id) continue;
    let l = out.get(id);
    if (!l) out.set(id, (l = []));
    l.push(c);
  }
  return out;
}

/** Extracts the `pid/<n>` token the controller puts in its user agent. */
export function writerPid(c: CallRecord): number | undefined {
  const m = /\bpid\/(\d+)/.exec(c.userAgent);
  return m ? Number(m[1]) : undefined;
}

/**
 * Where any of `secrets` (and their base64 forms) appear in `captured`. Returns human-readable hits
 * (source label and a masked preview), never the secret itself.
 */
export function findLeaks(captured: Record<string, string>, secrets: readonly string[]): string[] {
  const needles = new Set<string>();
  for (const s of secrets) {
    if (s.length < 6) throw new Error("findLeaks: secrets shorter than 6 characters give false positives; use longer markers");
    needles.add(s);
    needles.add(Buffer.from(s).toString("base64"));
    needles.add(JSON.stringify(s).slice(1, -1));
  }
  const hits: string[] = [];
  for (const [source, text] of Object.entries(captured)) {
    for (const n of needles) {
      let at = text.indexOf(n);
      while (at >= 0) {
        hits.push(`${source} @${at}: ${n.slice(0, 3)}… (${n.length} chars)`);
        at = text.indexOf(n, at + 1);
      }
    }
  }
  return hits;
}

/** GET a URL as text; `undefined` on connection errors. */
export async function fetchText(url: string, timeoutMs = 3_000): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

/** Reads a Prometheus counter/gauge sample sum for `name` (all label sets) from /metrics text. */
export function metricSum(metricsText: string, name: string, labelFilter?: RegExp): number {
  let sum = 0;
  for (const line of metricsText.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([^\s]+)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (labelFilter && !labelFilter.test(m[2] ?? "")) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}
