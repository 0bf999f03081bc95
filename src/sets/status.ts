/**
 * The set's status from a plan (pure): counts, up to 20 failing children, and the conditions Ready,
 * Synced, Reconciling and Stalled (kstatus). Times come in as arguments so that an unchanged fleet
 * produces an identical status (no write).
 */
import { setCondition } from "../api/conditions.js";
import { MAX_FAILING_LISTED, SetReason, type SetStatus } from "../api/set.js";
import type { SetPlan } from "./decide.js";

type Cond = { status: "True" | "False"; reason: string; message: string };

/** Sets each (type, condition) for `generation`; unchanged conditions keep their transition time. */
function withConditions(prev: SetStatus["conditions"], generation: number, now: Date, next: Array<[string, Cond]>): NonNullable<SetStatus["conditions"]> {
  return next.reduce((list, [type, c]) => setCondition(list, { type, ...c, observedGeneration: generation }, now), prev ?? []);
}

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
  const conditions = withConditions(prev?.conditions, generation, now, [
    ["Ready", ready],
    ["Synced", { status: "True", reason: SetReason.DiscoverySucceeded, message: `${p.matched} instances match` }],
    ["Reconciling", progressing ? { status: "True", reason: SetReason.RolloutInProgress, message: ready.message } : { ...ready, status: "False" }],
    ["Stalled", stalled ? { status: "True", reason: SetReason.ChildrenFailing, message: ready.message } : { ...ready, status: "False" }],
  ]);
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
  const stalled = reason === "InvalidSpec";
  const c = (status: "True" | "False"): Cond => ({ status, reason, message });
  const conditions = withConditions(prev?.conditions, generation, now, [
    ["Ready", c("False")],
    ["Synced", c("False")],
    ["Reconciling", c(stalled ? "False" : "True")],
    ["Stalled", c(stalled ? "True" : "False")],
  ]);
  return { ...prev, observedGeneration: generation, conditions };
}
