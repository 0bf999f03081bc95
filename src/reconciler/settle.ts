/**
 * settle(decision, result) → the outcome of a reconcile. Pure: what the one Modify (if any) did
 * turns the decision's status, Events and next step into the final ones.
 */
import { type AppliedSource, ConditionType, type EcsInstanceAttributesStatus, Reason, removeCondition, toRfc3339 } from "../api/index.js";
import type { EcsError } from "../cloud/errors.js";
import { modifyFields, observedAfterModify } from "../cloud/model.js";
import type { Decision, EventToRecord, StatusChange } from "./decide.js";
import { failureStatus } from "./error-policy.js";

/** What execute did with the decision's Modify. */
export type ExecuteResult =
  | { kind: "none" }
  | { kind: "applied"; requestId: string | undefined; at: Date }
  | { kind: "failed"; error: EcsError; at: Date };

export type Outcome = Pick<Decision, "status" | "events" | "next" | "error">;

export function settle(decision: Decision, result: ExecuteResult): Outcome {
  const m = decision.modify;
  if (!m || result.kind === "none") return decision;
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
  const event: EventToRecord = { type: "Normal", reason: "Applied", message: `ModifyInstanceAttribute set ${fields.join(", ")} (RequestId ${result.requestId ?? "unknown"})` };
  return { status, events: [...decision.events, event], next: decision.next };
}

/** The previous status with RestartRequired dropped when its clock restarts (it becomes this apply's time). */
export function statusBase(prev: EcsInstanceAttributesStatus | undefined, change: StatusChange): EcsInstanceAttributesStatus | undefined {
  if (!change.restartClock || !prev) return prev;
  return { ...prev, conditions: removeCondition(prev.conditions, ConditionType.RestartRequired) };
}
