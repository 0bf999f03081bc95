/**
 * Restart holds: fields that wait for the instance to be restarted from ECS (issue: a hostname
 * waiting for a restart was re-sent every state poll, burning the account's shared quota).
 *
 * Two causes, both recorded in status.restartHolds (src/api/status.ts) so they survive restarts of
 * the controller:
 * - `Applied`: a field whose new value ECS may show only after a restart (`shownAfterRestart` rows
 *   of src/api/fields.ts, the hostname) was sent. Until the restart, an old value in the read is
 *   expected, not drift: the same value is not sent again.
 * - `NeedRestart`: ECS refused the change with InvalidInstanceStatus.NeedRestart. The field is not
 *   sent again until the restart; every other field still applies.
 * A hold ends when DescribeInstances shows a StartTime after it began (restartedSince) or other than
 * the one recorded with it (ECS reports StartTime to the minute, so a restart in the minute the hold
 * began shows only as a changed value), or when the spec stops managing the field. Pure functions;
 * decide.ts and settle.ts use them.
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

/** After a successful Modify: an `Applied` hold for each value sent that ECS may show only after a restart. */
export function holdsAfterApply(active: readonly RestartHold[], request: ModifyRequest, at: Date, startTime?: string): RestartHold[] {
  const sent = restartRowsIn(request).filter((r) => r.shownAfterRestart && !r.secret);
  const added = sent.map((r): RestartHold => ({
    field: r.name,
    cause: "Applied",
    value: String(valueAt(request, r.name)),
    since: toRfc3339(at),
    ...startOf(startTime),
  }));
  return [...active.filter((h) => !sent.some((r) => r.name === h.field)), ...added];
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
