/**
 * The set's status from a plan (pure): counts, up to 20 failing children, and the conditions Ready,
 * Synced, Reconciling and Stalled (kstatus). Times come in as arguments so that an unchanged fleet
 * produces an identical status (no write).
 */
import { setCondition } from "../api/conditions.js";
import { MAX_FAILING_LISTED, SetReason, type SetStatus } from "../api/set.js";
import type { SetPlan } from "./decide.js";

type Cond = { status: "True" | "False"; reason: string; message: string };

function readyCondition(p: SetPlan): Cond {
  const active = p.matched - p.skipped.length;
  if (p.failing.length > 0 && p.updating === 0 && p.waiting === 0)
    return { status: "False", reason: SetReason.ChildrenFailing, message: `${p.failing.length} of ${active} children failed` };
  if (p.paused && p.waiting > 0) return { status: "False", reason: SetReason.RolloutPaused, message: `rollout paused with ${p.waiting} children waiting` };
  if (p.updating > 0 || p.waiting > 0 || p.ready < active)
    return {
      status: "False",
      reason: SetReason.RolloutInProgress,
      message: `${p.ready}/${active} children Ready, ${p.updating} updating, ${p.waiting} waiting (maxInFlight ${p.maxInFlight})`,
    };
  if (active === 0) return { status: "True", reason: SetReason.NoMatches, message: "no instance to manage matches the selector" };
  return { status: "True", reason: SetReason.AllReady, message: `all ${active} children Ready` };
}

/** The status after a successful discovery and plan. */
export function planStatus(prev: SetStatus | undefined, p: SetPlan, generation: number, discoveredAt: string, now: Date): SetStatus {
  const failingByReason: Record<string, number> = {};
  for (const f of p.failing) failingByReason[f.reason] = (failingByReason[f.reason] ?? 0) + 1;
  const ready = readyCondition(p);
  const progressing = !p.paused && (p.updating > 0 || p.waiting > 0);
  const stalled = p.failing.length > 0 && p.updating === 0 && p.waiting === 0;
  let conditions = prev?.conditions;
  conditions = setCondition(conditions, { type: "Ready", ...ready, observedGeneration: generation }, now);
  conditions = setCondition(
    conditions,
    { type: "Synced", status: "True", reason: SetReason.DiscoverySucceeded, message: `${p.matched} instances match`, observedGeneration: generation },
    now,
  );
  conditions = setCondition(
    conditions,
    progressing
      ? { type: "Reconciling", status: "True", reason: SetReason.RolloutInProgress, message: ready.message, observedGeneration: generation }
      : { type: "Reconciling", status: "False", reason: ready.reason, message: ready.message, observedGeneration: generation },
    now,
  );
  conditions = setCondition(
    conditions,
    stalled
      ? { type: "Stalled", status: "True", reason: SetReason.ChildrenFailing, message: ready.message, observedGeneration: generation }
      : { type: "Stalled", status: "False", reason: ready.reason, message: ready.message, observedGeneration: generation },
    now,
  );
  return {
    observedGeneration: generation,
    matched: p.matched,
    ready: p.ready,
    updating: p.updating,
    failing: p.failing.length,
    waiting: p.waiting,
    skipped: p.skipped.length,
    failingByReason,
    failingChildren: p.failing.slice(0, MAX_FAILING_LISTED).map((f) => ({ ...f, ...(f.message ? { message: f.message.slice(0, 1024) } : {}) })),
    skippedInstances: p.skipped.slice(0, MAX_FAILING_LISTED),
    maxInFlight: p.maxInFlight,
    lastDiscoveryTime: discoveredAt,
    conditions,
  };
}

/** The status when the set cannot act: an invalid spec (Stalled) or a failed discovery (retried). */
export function errorStatus(prev: SetStatus | undefined, generation: number, reason: "InvalidSpec" | "DiscoveryFailed", message: string, now: Date): SetStatus {
  let conditions = prev?.conditions;
  const stalled = reason === "InvalidSpec";
  conditions = setCondition(conditions, { type: "Ready", status: "False", reason, message, observedGeneration: generation }, now);
  conditions = setCondition(conditions, { type: "Synced", status: "False", reason, message, observedGeneration: generation }, now);
  conditions = setCondition(conditions, { type: "Reconciling", status: stalled ? "False" : "True", reason, message, observedGeneration: generation }, now);
  conditions = setCondition(conditions, { type: "Stalled", status: stalled ? "True" : "False", reason, message, observedGeneration: generation }, now);
  return { ...prev, observedGeneration: generation, conditions };
}
