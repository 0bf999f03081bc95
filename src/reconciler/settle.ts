/**
 * settle(decision, result) → the outcome of a reconcile. Pure: what the one Modify (if any) did
 * turns the decision's status, Events and next step into the final ones.
 */
import { type AppliedSource, ConditionType, type EcsInstanceAttributesStatus, Reason, removeCondition, type RestartHold, toRfc3339 } from "../api/index.js";
import type { EcsError } from "../cloud/errors.js";
import { modifyFields, observedAfterModify } from "../cloud/model.js";
import type { Decision, EventToRecord, ModifyIntent, StatusChange } from "./decide.js";
import { failureStatus } from "./error-policy.js";
import type { ConditionOutcome } from "./status.js";
import {
  heldMessage,
  holdsAfterApply,
  holdsAfterNeedRestart,
  holdsAfterStateRefusal,
  isNeedRestart,
  learnedStateMessage,
  refusedForLearnedState,
  sendsRestartField,
} from "./holds.js";

/** What execute did with the decision's Modify. */
export type ExecuteResult = { kind: "none" } | { kind: "applied"; requestId: string | undefined; at: Date } | { kind: "failed"; error: EcsError; at: Date };

export type Outcome = Pick<Decision, "status" | "events" | "next" | "error">;

export function settle(decision: Decision, result: ExecuteResult): Outcome {
  const m = decision.modify;
  if (!m || result.kind === "none") return decision;
  if (result.kind === "failed" && isNeedRestart(result.error) && sendsRestartField(m)) return heldForRestart(decision, m, result.error, result.at);
  if (result.kind === "failed" && refusedForLearnedState(result.error, m)) return heldForState(decision, m, result.error, result.at);
  if (result.kind === "failed") {
    const f = failureStatus(result.error, result.at);
    return {
      status: f && { ready: f.ready, synced: f.synced, error: f.error, observed: m.observed, pendingChanges: m.differences },
      events: f ? [{ type: "Warning", ...f.event }] : [],
      next: decision.next,
      error: result.error,
    };
  }
  const fields = modifyFields(m.request);
  const appliedTime = toRfc3339(result.at);
  const applied: { password?: AppliedSource; userData?: AppliedSource } = {};
  if (m.sources.password) applied.password = { ...m.sources.password, appliedTime };
  if (m.sources.userData) applied.userData = { ...m.sources.userData, appliedTime };
  const restart = m.restartFields.length > 0;
  const status: StatusChange = {
    ...decision.status!,
    observed: observedAfterModify(m.observed, m.request),
    restartHolds: holdsAfterApply(decision.status?.restartHolds ?? [], m.request, result.at, m.observed.startTime),
    applied,
    ...(restart
      ? {
          restartRequired: {
            status: "True",
            reason: Reason.RestartPending,
            message: `${m.restartFields.join(", ")} applied; restart the instance from ECS (console or RebootInstance) for it to take effect`,
          },
          restartClock: true,
        }
      : {}),
  };
  const event: EventToRecord = {
    type: "Normal",
    reason: "Applied",
    message: `ModifyInstanceAttribute set ${fields.join(", ")} (RequestId ${result.requestId ?? "unknown"})`,
  };
  return { status, events: [...decision.events, event], next: decision.next };
}

/**
 * ECS refused the change until the instance restarts: hold those fields (status.restartHolds) and
 * come back after a state poll to apply the others without them. Not rethrown: the hold, not the
 * queue's backoff, decides when the field is sent again (after the restart), so it costs one call.
 */
function heldForRestart(decision: Decision, m: ModifyIntent, error: EcsError, at: Date): Outcome {
  const restartHolds = holdsAfterNeedRestart(decision.status?.restartHolds ?? [], m.request, at, m.observed.startTime);
  const message = heldMessage(restartHolds.filter((h) => h.cause === "NeedRestart").map((h) => h.field));
  return held(
    m,
    error,
    at,
    restartHolds,
    { status: "False", reason: Reason.WaitingForRestart, message },
    { status: "True", reason: Reason.RestartPending, message },
  );
}

/**
 * ECS refused a field whose state rule the sources disagree on (user data) while the instance was not
 * Stopped: hold it until Stopped and come back after a state poll to send the others without it.
 * Not rethrown, for the same reason: the field is sent once, when the instance is Stopped.
 */
function heldForState(decision: Decision, m: ModifyIntent, error: EcsError, at: Date): Outcome {
  const holds = holdsAfterStateRefusal(decision.status?.restartHolds ?? [], error, m, at);
  const fields = holds.filter((h) => h.cause === "NeedsStopped").map((h) => h.field);
  const message = learnedStateMessage(fields, m.observed.status, error.code);
  return held(m, error, at, holds, { status: "False", reason: Reason.WaitingForInstanceState, message });
}

/** The outcome of a refusal that became a hold: the failure recorded, the holds written, a state poll. */
function held(m: ModifyIntent, error: EcsError, at: Date, restartHolds: RestartHold[], ready: ConditionOutcome, restartRequired?: ConditionOutcome): Outcome {
  const f = failureStatus(error, at)!;
  const status: StatusChange = {
    ready,
    synced: f.synced,
    error: f.error,
    observed: m.observed,
    pendingChanges: m.differences,
    restartHolds,
    ...(restartRequired ? { restartRequired } : {}),
  };
  return { status, events: [{ type: "Warning", ...f.event }], next: "statePoll" };
}

/** The previous status with RestartRequired dropped when its clock restarts (it becomes this apply's time). */
export function statusBase(prev: EcsInstanceAttributesStatus | undefined, change: StatusChange): EcsInstanceAttributesStatus | undefined {
  if (!change.restartClock || !prev) return prev;
  return { ...prev, conditions: removeCondition(prev.conditions, ConditionType.RestartRequired) };
}
