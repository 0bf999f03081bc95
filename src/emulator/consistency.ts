/**
 * Eventual consistency of reads (issue 19 item 1). Real ECS does not promise read-after-write: the
 * ModifyInstanceAttribute page says a security group change takes effect "after a short delay", and a
 * hostname takes effect at the next restart (what DescribeInstances shows meanwhile is undocumented,
 * docs/emulator.md). Two independent effects, both off by default:
 *
 *  - read-after-write lag: after a ModifyInstanceAttribute, each changed field keeps showing its old
 *    value to the Describe actions for a lag drawn per write: a fixed number of ms, a uniform range,
 *    or "until the next restart" (optionally capped). Reads stay monotonic per field: once a value is
 *    shown, an older one never comes back.
 *  - stale reads: a matching Describe call answers every instance from the version it had `ageMs`
 *    ago (reads may go backwards, as from a lagging replica), with a rate and an optional count.
 *
 * Writes (rules, state machine) always act on the true state; only the Describe answers are lagged.
 * Admin writes are visible at once. Randomness comes from a seedable generator so tests can fix it.
 */
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import type { Instance } from "./state.js";

/** Instance attributes a ModifyInstanceAttribute changes and a Describe action shows. */
export const LAGGED_FIELDS = [
  "instanceName",
  "description",
  "hostName",
  "securityGroupIds",
  "deletionProtection",
  "creditSpecification",
  "enableJumboFrame",
  "cpuOptions",
  "privateDnsNameOptions",
  "networkInterfaceQueueNumber",
  "userData",
] as const;
export type LaggedField = (typeof LAGGED_FIELDS)[number];

const ms = z.number().int().nonnegative();

/** A lag: fixed ms, a uniform range, or until the instance's next restart (capped by `maxMs` if set). */
export const lagSchema = z.union([
  ms,
  z
    .object({ minMs: ms, maxMs: ms })
    .strict()
    .refine((r) => r.maxMs >= r.minMs, "maxMs must be >= minMs"),
  z.object({ untilRestart: z.literal(true), maxMs: ms.optional() }).strict(),
]);
export type Lag = z.output<typeof lagSchema>;

export const staleReadSchema = z
  .object({
    /** Describe action this applies to ("*" = every Describe action that shows instance attributes). */
    action: z.string().min(1).default("DescribeInstances"),
    /** Answer from the version each instance had this many ms ago. */
    ageMs: z.number().int().positive(),
    /** Probability (0–1] that a matching call is stale. */
    rate: z.number().gt(0).max(1).default(1),
    /** Only the next `count` matching calls (unlimited if absent). */
    count: z.number().int().positive().optional(),
    /** Only these instances (all if absent). */
    instanceIds: z.array(z.string()).optional(),
  })
  .strict();
export type StaleRead = z.output<typeof staleReadSchema>;

export const consistencySchema = z
  .object({
    /** Lag of every field without its own entry. */
    defaultLag: lagSchema.default(0),
    fields: z.partialRecord(z.enum(LAGGED_FIELDS), lagSchema).default({}),
    staleReads: z.array(staleReadSchema).default([]),
    /** Seed of the generator that draws lags and stale-read rates; absent = the emulator's `random`. */
    randomSeed: z.number().int().optional(),
  })
  .strict();
/** PATCH body: any subset of the settings. No defaults here, or absent keys would be reset to them. */
const consistencyPatchSchema = z
  .object({
    defaultLag: lagSchema,
    fields: z.partialRecord(z.enum(LAGGED_FIELDS), lagSchema),
    staleReads: z.array(staleReadSchema),
    randomSeed: z.number().int(),
  })
  .partial()
  .strict();

export type ConsistencyInput = z.input<typeof consistencySchema>;
export type ConsistencyConfig = z.output<typeof consistencySchema>;

/** mulberry32: small, fast, good enough to draw test lags reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface FieldAccess {
  get(i: Instance): unknown;
  set(i: Instance, v: unknown): void;
}

function plain(key: keyof Instance): FieldAccess {
  return { get: (i) => i[key], set: (i, v) => Object.assign(i, { [key]: v }) };
}

const ACCESS: Record<LaggedField, FieldAccess> = {
  instanceName: plain("instanceName"),
  description: plain("description"),
  hostName: plain("hostName"),
  securityGroupIds: plain("securityGroupIds"),
  deletionProtection: plain("deletionProtection"),
  creditSpecification: plain("creditSpecification"),
  enableJumboFrame: plain("enableJumboFrame"),
  cpuOptions: plain("cpuOptions"),
  privateDnsNameOptions: plain("privateDnsNameOptions"),
  networkInterfaceQueueNumber: {
    get: (i) => i.primaryEni.queueNumber,
    set: (i, v) => (i.primaryEni = { ...i.primaryEni, queueNumber: v as number }),
  },
  userData: plain("userData"),
};

interface PendingWrite {
  value: unknown;
  /** Epoch ms at which the write becomes visible (Infinity = at the next restart). */
  visibleAt: number;
  untilRestart: boolean;
}

interface FieldState {
  visible: unknown;
  /** In write order. */
  pending: PendingWrite[];
}

interface Version {
  at: number;
  snapshot: Instance;
}

/** Versions kept per instance for stale reads (older ones are dropped): bounds memory in fleet benchmarks. */
const MAX_VERSIONS = 16;

export interface ConsistencyOptions {
  now: () => number;
  random?: () => number;
}

export class Consistency {
  private config: ConsistencyConfig;
  private readonly startup: ConsistencyConfig;
  private random: () => number;
  private readonly fallbackRandom: () => number;
  private readonly now: () => number;
  private readonly lagged = new Map<string, Map<LaggedField, FieldState>>();
  private readonly versions = new Map<string, Version[]>();
  /** Remaining counts of stale-read rules, by index in `config.staleReads`. */
  private staleCounts: Array<number | undefined> = [];
  /** Calls answered stale, by index in `config.staleReads` (reset when the settings change). */
  private hits: number[] = [];

  constructor(options: ConsistencyOptions, initial: ConsistencyInput = {}) {
    this.now = options.now;
    this.fallbackRandom = options.random ?? Math.random;
    this.startup = consistencySchema.parse(initial);
    this.config = this.startup;
    this.random = this.fallbackRandom;
    this.configure(this.startup);
  }

  get settings(): ConsistencyConfig {
    return structuredClone(this.config);
  }

  /** Replaces the settings (pending lags already drawn keep their times). */
  configure(input: unknown): ConsistencyConfig {
    this.config = consistencySchema.parse(input);
    this.random = this.config.randomSeed !== undefined ? seededRandom(this.config.randomSeed) : this.fallbackRandom;
    this.staleCounts = this.config.staleReads.map((r) => r.count);
    this.hits = this.config.staleReads.map(() => 0);
    return this.settings;
  }

  /** Merges top-level keys, and `fields` per field. */
  patch(input: unknown): ConsistencyConfig {
    const p = consistencyPatchSchema.parse(input);
    return this.configure({ ...this.config, ...p, fields: { ...this.config.fields, ...p.fields } });
  }

  /** Drops every pending lag and version and restores the startup settings. */
  reset(): void {
    this.lagged.clear();
    this.versions.clear();
    this.configure(this.startup);
  }

  /** The instance changed outside the API (admin write, creation): visible at once. */
  forget(id: string): void {
    this.lagged.delete(id);
  }

  deleted(id: string): void {
    this.lagged.delete(id);
    this.versions.delete(id);
  }

  /** Records the true state as a version (for stale reads). */
  recordVersion(inst: Instance): void {
    let list = this.versions.get(inst.instanceId);
    if (!list) {
      list = [];
      this.versions.set(inst.instanceId, list);
    }
    list.push({ at: this.now(), snapshot: structuredClone(inst) });
    if (list.length > MAX_VERSIONS) list.splice(0, list.length - MAX_VERSIONS);
  }

  private lagFor(field: LaggedField): Lag {
    return this.config.fields[field] ?? this.config.defaultLag;
  }

  private draw(lag: Lag, now: number): { visibleAt: number; untilRestart: boolean } {
    if (typeof lag === "number") return { visibleAt: now + lag, untilRestart: false };
    if ("untilRestart" in lag) {
      return { visibleAt: lag.maxMs !== undefined ? now + lag.maxMs : Number.POSITIVE_INFINITY, untilRestart: true };
    }
    return { visibleAt: now + lag.minMs + Math.floor(this.random() * (lag.maxMs - lag.minMs + 1)), untilRestart: false };
  }

  /** A ModifyInstanceAttribute went through: lag each changed field as configured. */
  recordWrite(before: Instance, after: Instance): void {
    const now = this.now();
    for (const field of LAGGED_FIELDS) {
      const a = ACCESS[field];
      const value = a.get(after);
      if (isDeepStrictEqual(a.get(before), value)) continue;
      const lag = this.lagFor(field);
      let byField = this.lagged.get(after.instanceId);
      const state = byField?.get(field);
      if (lag === 0 && !state) continue;
      if (!byField) {
        byField = new Map();
        this.lagged.set(after.instanceId, byField);
      }
      const entry = state ?? { visible: structuredClone(a.get(before)), pending: [] };
      entry.pending.push({ value: structuredClone(value), ...this.draw(lag, now) });
      byField.set(field, entry);
    }
    this.recordVersion(after);
  }

  /** The instance (re)started: writes waiting for a restart become visible. */
  restarted(inst: Instance): void {
    const now = this.now();
    for (const state of this.lagged.get(inst.instanceId)?.values() ?? []) {
      for (const p of state.pending) if (p.untilRestart) p.visibleAt = Math.min(p.visibleAt, now);
    }
    this.recordVersion(inst);
  }

  /** Applies every write visible by `now`; a later write that became visible supersedes earlier ones. */
  private settle(state: FieldState, now: number): void {
    let last = -1;
    state.pending.forEach((p, n) => {
      if (p.visibleAt <= now) last = n;
    });
    if (last < 0) return;
    state.visible = state.pending[last]!.value;
    state.pending = state.pending.slice(last + 1);
  }

  /** What reads show for the instance now (read-after-write lag only). */
  private lagView(inst: Instance): Instance {
    const byField = this.lagged.get(inst.instanceId);
    if (!byField) return inst;
    const now = this.now();
    const view = structuredClone(inst);
    for (const [field, state] of byField) {
      this.settle(state, now);
      if (state.pending.length === 0) byField.delete(field);
      else ACCESS[field].set(view, structuredClone(state.visible));
    }
    if (byField.size === 0) this.lagged.delete(inst.instanceId);
    return view;
  }

  private versionAt(inst: Instance, at: number): Instance {
    const list = this.versions.get(inst.instanceId);
    if (!list || list.length === 0) return inst;
    let chosen = list[0]!;
    for (const v of list) if (v.at <= at) chosen = v;
    return structuredClone(chosen.snapshot);
  }

  /**
   * A reader for one Describe call: decides once whether the call is stale (consuming rate and
   * count), then maps each instance to what the call shows.
   */
  reader(action: string): (inst: Instance) => Instance {
    const stale = this.pickStale(action);
    return (inst) => {
      if (stale && (!stale.instanceIds || stale.instanceIds.includes(inst.instanceId))) {
        return this.versionAt(inst, this.now() - stale.ageMs);
      }
      return this.lagView(inst);
    };
  }

  private pickStale(action: string): StaleRead | undefined {
    const rules = this.config.staleReads;
    for (let n = 0; n < rules.length; n++) {
      const r = rules[n]!;
      if (r.action !== "*" && r.action !== action) continue;
      const left = this.staleCounts[n];
      if (left !== undefined && left <= 0) continue;
      if (this.random() >= r.rate) continue;
      if (left !== undefined) this.staleCounts[n] = left - 1;
      this.hits[n] = (this.hits[n] ?? 0) + 1;
      return r;
    }
    return undefined;
  }

  /** Calls answered stale so far, per stale-read rule (admin/debug view). */
  staleHits(): number[] {
    return [...this.hits];
  }

  /** Fields whose latest write is not yet visible, per instance (admin/debug view). */
  pending(): Record<string, LaggedField[]> {
    const now = this.now();
    const out: Record<string, LaggedField[]> = {};
    for (const [id, byField] of this.lagged) {
      const fields = [...byField].filter(([, state]) => (this.settle(state, now), state.pending.length > 0));
      if (fields.length > 0) out[id] = fields.map(([f]) => f);
    }
    return out;
  }
}
