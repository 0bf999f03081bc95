/**
 * Which `OperationLocks.LockReason` values make ECS refuse ModifyInstanceAttribute (issue 19 item 4).
 *
 * DescribeInstances lists five lock reasons (`financial`, `security`, `Recycling`,
 * `dedicatedhostfinancial`, `refunded`), but only one is documented to block this action:
 * - `security`: "Security lock impact on ECS API calls" lists ModifyInstanceAttribute as failing with
 *   InstanceLockedForSecurity, and the ModifyInstanceAttribute page says the action is "not supported
 *   for instances protected by a resource security lock".
 * - `financial`: the overdue-payment API behaviour page lists ModifyInstanceAttribute as "normal logic".
 * - the others: no documented effect on this action.
 * Addresses of each page: docs/api.md, "Operation locks". A reason not listed here is reported in
 * status.atProvider.lockReasons and writes go ahead; should ECS refuse one anyway, the refusal's code
 * is classified like any other (src/cloud/errors.ts), so nothing stalls on a guess.
 */

/** Lock reasons (lower case; ECS spells `Recycling` both ways) under which ModifyInstanceAttribute fails. */
export const MODIFY_BLOCKING_LOCKS: readonly string[] = ["security"];

/** The reasons among `reasons` that block ModifyInstanceAttribute, as ECS spelled them. */
export function modifyBlockingLocks(reasons: readonly string[]): string[] {
  return reasons.filter((r) => MODIFY_BLOCKING_LOCKS.includes(r.toLowerCase()));
}
