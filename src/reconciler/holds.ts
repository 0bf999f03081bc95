/**
 * Holds: fields that wait for something to happen to the instance in ECS before they are sent again
 * (issue: a hostname waiting for a restart was re-sent every state poll, burning the account's shared
 * quota; issue 19: user data that ECS may or may not accept while Running).
 *
 * Three causes, all recorded in status.restartHolds (src/api/status.ts; the key keeps its first name
 * so that holds written by earlier versions survive an upgrade) so they survive restarts of the
 * controller:
 * - `Applied`: a field whose new value ECS may show only after a restart (`shownAfterRestart` rows
 *   of src/api/fields.ts, the hostname) was sent. Until the restart, an old value in the read is
 *   expected, not drift: the same value is not sent again.
 * - `NeedRestart`: ECS refused the change with InvalidInstanceStatus.NeedRestart. The field is not
 *   sent again until the restart; every other field still applies.
 * - `NeedsStopped`: ECS refused a request carrying a `learnedState` field (user data) with a state
 *   code while the instance was not Stopped: the older docs' rule holds for this account. The field
 *   waits for the instance to be Stopped; every other field is sent without it at the next state
 *   poll (the write is retried without it rather than split in advance, so under the reading where
 *   ECS accepts it a change costs one call, not two).
 * A hold ends when DescribeInstances shows a StartTime after it began (restartedSince) or other than
 * the one recorded with it (ECS reports StartTime to the minute, so a restart in the minute the hold
 * began shows only as a changed value), or when the spec stops managing the field; a `NeedsStopped`
 * hold also ends when the field is applied. Ending a learned hold at a restart costs at most one
 * refused call per restart, and corrects a rule learned from a refusal that had another cause (a
 * stale read of the state). Pure functions; decide.ts, plan.ts and settle.ts use them.
 */
import { type EcsInstanceAttributesSpec, type RestartHold, toRfc3339 } from "../api/index.js";
import { FIELD_ROWS, type FieldRow, specPath, valueAt } from "../api/fields.js";
import type { EcsError } from "../cloud/errors.js";
import type { ModifyRequest, ObservedInstance } from "../cloud/model.js";

export const NEED_RESTART_CODE = "InvalidInstanceStatus.NeedRestart";

export const isNeedRestart = (err: EcsError): boolean => err.code === NEED_RESTART_CODE;

/** True when ECS started the instance after `appliedAt` (StartTime may have minute precision). */
export function restartedSince(startTime: string | undefined, appliedAt: string): boolean {
  if (!startTime) return false;
  const start = Date.parse(startTime);
  const applied = Date.parse(appliedAt);
  if (Number.isNaN(start) || Number.isNaN(applied)) return false;
  // "2026-11-27T10:04Z" cannot tell 10:04:05 from 10:04:55: only a later minute proves a restart.
  const minutePrecision = !/T\d{2}:\d{2}:\d{2}/.test(startTime);
  return minutePrecision ? start > applied - (applied % 60_000) : start > applied;
}

const rowOf = (field: string): FieldRow | undefined => FIELD_ROWS.find((r) => r.name === field);

/** The holds still in force: the instance was not restarted since, and the spec still manages the field. */
export function activeHolds(prev: readonly RestartHold[] | undefined, observed: ObservedInstance, spec: EcsInstanceAttributesSpec): RestartHold[] {
  return (prev ?? []).filter((h) => {
    const row = rowOf(h.field);
    return row !== undefined && valueAt(spec, specPath(row)) !== undefined && !restarted(h, observed.startTime);
  });
}

/**
 * With the StartTime recorded at the hold, compare ECS's value with ECS's value: the controller's
 * clock (h.since) may be behind ECS's, which would end a hold at once. Without it, the time.
 */
function restarted(h: RestartHold, startTime: string | undefined): boolean {
  if (h.startTime !== undefined) return startTime !== undefined && startTime !== h.startTime;
  return restartedSince(startTime, h.since);
}

/** The restart rows a request sends. */
const restartRowsIn = (request: ModifyRequest): FieldRow[] => FIELD_ROWS.filter((r) => r.restart && valueAt(request, r.name) !== undefined);

/** True when the request sends a field that can wait for a restart (else NeedRestart is an ordinary state error). */
export const sendsRestartField = (m: { request: ModifyRequest }): boolean => restartRowsIn(m.request).length > 0;

/**
 * After a successful Modify: an `Applied` hold for each value sent that ECS may show only after a
 * restart; a `NeedsStopped` hold ends for a field that was sent (ECS took it).
 */
export function holdsAfterApply(active: readonly RestartHold[], request: ModifyRequest, at: Date, startTime?: string): RestartHold[] {
  const sent = restartRowsIn(request).filter((r) => r.shownAfterRestart && !r.secret);
  const added = sent.map((r): RestartHold => ({
    field: r.name,
    cause: "Applied",
    value: String(valueAt(request, r.name)),
    since: toRfc3339(at),
    ...startOf(startTime),
  }));
  const kept = active.filter((h) => !sent.some((r) => r.name === h.field) && !(h.cause === "NeedsStopped" && valueAt(request, h.field) !== undefined));
  return [...kept, ...added];
}

/**
 * After InvalidInstanceStatus.NeedRestart: the error does not name the field, so hold the sent
 * fields ECS refuses a second change of before a restart (the hostname); when the request had none,
 * every restart field it sent (conservative: at most one more call each after the restart).
 */
export function holdsAfterNeedRestart(active: readonly RestartHold[], request: ModifyRequest, at: Date, startTime?: string): RestartHold[] {
  const sent = restartRowsIn(request);
  const likely = sent.filter((r) => r.shownAfterRestart);
  const held = (likely.length > 0 ? likely : sent).map((r): RestartHold => ({
    field: r.name,
    cause: "NeedRestart",
    since: toRfc3339(at),
    ...startOf(startTime),
  }));
  return [...active.filter((h) => !held.some((n) => n.field === h.field)), ...held];
}

const startOf = (startTime: string | undefined) => (startTime ? { startTime } : {});

/** The message naming the held fields (conditions; no values, which may be long or private). */
export function heldMessage(fields: readonly string[]): string {
  return `${fields.join(", ")} waits for a restart of the instance from ECS (ECS answered ${NEED_RESTART_CODE}); it is sent after the restart, the other fields are applied`;
}

/**
 * The codes with which ECS refuses a change in the instance's current state: IncorrectInstanceStatus
 * (the older docs' code for user data outside Stopped, and the emulator's with
 * `userDataRequiresStopped`) and InvalidStatus.StoppedRequired (the code of the documented Stopped-only
 * parameters).
 */
export const STATE_REFUSAL_CODES: readonly string[] = ["IncorrectInstanceStatus", "InvalidStatus.StoppedRequired"];

/** The `learnedState` rows a refused request sent while the instance was in another state. */
function learnedRowsRefused(err: EcsError, m: { request: ModifyRequest; observed: ObservedInstance }): FieldRow[] {
  if (!STATE_REFUSAL_CODES.includes(err.code)) return [];
  return FIELD_ROWS.filter((r) => r.learnedState !== undefined && r.learnedState !== m.observed.status && valueAt(m.request, r.name) !== undefined);
}

/**
 * True when ECS refused with a state code a request that sent a `learnedState` field while the
 * instance (as read) was in another state. Every other field of the request was allowed in that
 * state by the field table, so the learned field is the one to hold; if the refusal had another
 * cause, the retry without it meets the same code and is handled as an ordinary state wait.
 */
export const refusedForLearnedState = (err: EcsError, m: { request: ModifyRequest; observed: ObservedInstance }): boolean =>
  learnedRowsRefused(err, m).length > 0;

/** After such a refusal: a `NeedsStopped` hold for each learned field sent. */
export function holdsAfterStateRefusal(
  active: readonly RestartHold[],
  err: EcsError,
  m: { request: ModifyRequest; observed: ObservedInstance },
  at: Date,
): RestartHold[] {
  const held = learnedRowsRefused(err, m).map((r): RestartHold => ({
    field: r.name,
    cause: "NeedsStopped",
    since: toRfc3339(at),
    ...startOf(m.observed.startTime),
  }));
  return [...active.filter((h) => !held.some((n) => n.field === h.field)), ...held];
}

/** The message for fields that wait for Stopped after a refusal (conditions; no values). */
export function learnedStateMessage(fields: readonly string[], status: string, code: string): string {
  return `${fields.join(", ")} waits for the instance to be Stopped: ECS refused it while ${status} (${code}); the other fields are applied without it`;
}
