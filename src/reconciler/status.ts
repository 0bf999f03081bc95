/**
 * Builds the next `status` from the previous one and a reconcile's outcome, and decides whether it
 * is worth writing. Pure.
 *
 * Hot-loop guards (a status that changes on every attempt re-queues itself through the watch): conditions keep their lastTransitionTime unless the
 * status flips; messages carry no RequestIds or attempt counters; `lastSyncTime` alone changing
 * does not trigger a write until it is older than `lastSyncRefreshMs`.
 *
 * kstatus (Reconciling / Stalled) is derived here, in one place, from the Ready and Synced outcome
 * (kstatusFrom): guards and error classes only choose reasons, and each reason declares its kstatus
 * effect in REASON_DOCS (src/api/conditions.ts).
 */
import {
  type AppliedSource,
  type AtProvider,
  type Condition,
  ConditionType,
  type EcsErrorStatus,
  type EcsInstanceAttributesStatus,
  type KstatusCondition,
  REASON_DOCS,
  removeCondition,
  type RestartHold,
  setCondition,
  toRfc3339,
} from "../api/index.js";
import { FIELD_ROWS, putAt, valueAt } from "../api/fields.js";
import type { ObservedInstance } from "../cloud/model.js";

export interface ConditionOutcome {
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

export interface StatusOutcome {
  generation: number;
  now: Date;
  ready: ConditionOutcome;
  synced: ConditionOutcome;
  /** Undefined keeps the previous RestartRequired condition as it is. */
  restartRequired?: ConditionOutcome | undefined;
  /** The instance as read in this reconcile (undefined when it was not read). */
  observed?: ObservedInstance | undefined;
  /** Differences now; undefined keeps the previous list (e.g. when ECS could not be read). */
  pendingChanges?: string[] | undefined;
  /** null clears status.error; undefined keeps it. */
  error?: EcsErrorStatus | null | undefined;
  /** The restart holds now (holds.ts); undefined keeps the previous ones. */
  restartHolds?: RestartHold[] | undefined;
  /** Sources applied in this reconcile (merged into appliedSecretVersions). */
  applied?: { password?: AppliedSource | undefined; userData?: AppliedSource | undefined } | undefined;
}

/** The kstatus condition types, worst first: a resource both stalled and reconciling is Stalled. */
const KSTATUS_TYPES: readonly KstatusCondition[] = [ConditionType.Stalled, ConditionType.Reconciling];

/** The kstatus effect of a reason; reasons outside the vocabulary (derived from ECS codes) have none. */
export function kstatusOfReason(reason: string): KstatusCondition | null {
  return Object.hasOwn(REASON_DOCS, reason) ? REASON_DOCS[reason as keyof typeof REASON_DOCS].kstatus : null;
}

/**
 * The kstatus condition that holds for this Ready/Synced outcome, or undefined when neither does.
 * It carries the reason and message of the condition that raised it, so `kubectl wait`, Flux and
 * Argo CD show why.
 */
export function kstatusFrom(ready: ConditionOutcome, synced: ConditionOutcome): { type: KstatusCondition; condition: ConditionOutcome } | undefined {
  for (const type of KSTATUS_TYPES) {
    const cause = [ready, synced].find((c) => c.status !== "True" && kstatusOfReason(c.reason) === type);
    if (cause) return { type, condition: { status: "True", reason: cause.reason, message: cause.message } };
  }
  return undefined;
}

/** status.atProvider: the instance's identity facts plus every readable row of the field table. */
export function atProviderFrom(o: ObservedInstance): AtProvider {
  const at: Record<string, unknown> = {
    status: o.status,
    osType: o.osType,
    instanceType: o.instanceType,
    zoneId: o.zoneId,
    instanceChargeType: o.instanceChargeType,
    lockReasons: [...o.operationLocks],
  };
  for (const row of FIELD_ROWS) {
    const v = valueAt(o, row.name);
    // Unread extras and unknown counts stay out; write-only values have no observed value.
    if (v === undefined || row.read.action === "none") continue;
    // Only presence for values that may hold secrets (user data): never the content.
    if (row.presenceIn !== undefined) at[row.presenceIn] = v !== "";
    else putAt(at, row.name, Array.isArray(v) ? [...(v as unknown[])] : v);
  }
  return at;
}

export function nextStatus(prev: EcsInstanceAttributesStatus | undefined, out: StatusOutcome): EcsInstanceAttributesStatus {
  const now = out.now;
  let conditions: Condition[] | undefined = prev?.conditions;
  const set = (type: string, c: ConditionOutcome) => {
    conditions = setCondition(conditions, { type, ...c, observedGeneration: out.generation }, now);
  };
  set(ConditionType.Ready, out.ready);
  set(ConditionType.Synced, out.synced);
  if (out.restartRequired) set(ConditionType.RestartRequired, out.restartRequired);
  // Abnormal-true: the one that holds is set, the other removed (an idle resync changes neither).
  const k = kstatusFrom(out.ready, out.synced);
  for (const type of KSTATUS_TYPES) {
    if (k?.type === type) set(type, k.condition);
    else conditions = removeCondition(conditions, type);
  }

  const next: EcsInstanceAttributesStatus = { ...prev, observedGeneration: out.generation, conditions };
  if (out.observed) {
    next.atProvider = atProviderFrom(out.observed);
    next.lastSyncTime = toRfc3339(now);
  }
  if (out.pendingChanges !== undefined) next.pendingChanges = out.pendingChanges;
  if (out.error === null) delete next.error;
  else if (out.error !== undefined) {
    // Keep the previous lastTime when the same error repeats, so status does not churn per attempt.
    const same = prev?.error && prev.error.code === out.error.code && prev.error.message === out.error.message;
    next.error = same ? { ...out.error, lastTime: prev.error!.lastTime } : out.error;
  }
  if (out.restartHolds !== undefined) {
    if (out.restartHolds.length > 0) next.restartHolds = out.restartHolds;
    else delete next.restartHolds;
  }
  if (out.applied?.password || out.applied?.userData) {
    next.appliedSecretVersions = {
      ...prev?.appliedSecretVersions,
      ...(out.applied.password ? { password: out.applied.password } : {}),
      ...(out.applied.userData ? { userData: out.applied.userData } : {}),
    };
  }
  return next;
}

/**
 * Equal as JSON: key order ignored, and a key holding undefined counts as absent (JSON.stringify
 * drops it, so the API server never stores it). Every resource is compared once per resync round, so
 * this walks the values instead of serialising both sides with sorted keys (230 ms of a profiled
 * idle round at 10,000 resources; 46 ms after, bench/RESULTS.md). `util.isDeepStrictEqual` would count
 * undefined-valued keys.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const defined = (o: Record<string, unknown>) => Object.keys(o).filter((k) => o[k] !== undefined);
  const keys = defined(x);
  if (keys.length !== defined(y).length) return false;
  return keys.every((k) => Object.hasOwn(y, k) && jsonEqual(x[k], y[k]));
}

/**
 * True when `next` should be written. A change in `lastSyncTime` alone is written only once the
 * previous value is older than `lastSyncRefreshMs`, bounding status writes to one per resync.
 */
export function statusNeedsWrite(
  prev: EcsInstanceAttributesStatus | undefined,
  next: EcsInstanceAttributesStatus,
  now: Date,
  lastSyncRefreshMs: number,
): boolean {
  const { lastSyncTime: prevSync, ...prevRest } = prev ?? {};
  const { lastSyncTime: nextSync, ...nextRest } = next;
  if (!jsonEqual(prevRest, nextRest)) return true;
  if (nextSync === undefined || nextSync === prevSync) return false;
  if (prevSync === undefined) return true;
  return now.getTime() - Date.parse(prevSync) >= lastSyncRefreshMs;
}
