/**
 * The ONE error policy: for each class of ECS failure, what status says and when the resource
 * comes back. The classification of codes into classes is src/cloud/errors.ts
 * (CLASSIFICATION_RULES); this table starts where that one ends.
 *
 * It lives in the reconciler, not beside the classification in src/cloud, because its columns are
 * the reconciler's vocabulary (condition reasons from src/api, the runtime's Actions): the cloud
 * layer stays free of both.
 *
 * Division of labour: the reconciler records the failure in status (failureStatus) and rethrows
 * it; the runtime's controller hands the thrown error to `errorPolicy(cadence)`, which looks up the
 * row and answers with an Action. No layer below retries on its own, except a short in-call retry
 * of transient READ answers (src/cloud/retry.ts) and the per-endpoint circuit breaker that makes
 * unreachable endpoints fail fast (src/cloud/breaker.ts).
 */
import { type EcsErrorStatus, Reason, reasonFromEcsCode, toRfc3339 } from "../api/index.js";
import { EcsError, type ErrorClass } from "../cloud/errors.js";
import { Action, defaultErrorPolicy, type ErrorAction, type ErrorPolicy } from "../runtime/controller.js";
import type { Cadence, Next } from "./cadence.js";
import { type ConditionOutcome, kstatusOfReason } from "./status.js";

/** The classes of errors.ts, with throttling (a transient error) as its own class. */
export type FailureClass = ErrorClass | "throttled";

/** How the key comes back after the failure. */
export type ComeBack =
  /** The work queue's per-key exponential backoff (1 s doubling to 5 min, jittered). */
  | { backoff: true }
  /** After the server's (or the paused rate-limit bucket's) retry-after plus jitter; backoff when none is given. */
  | { retryAfter: true }
  /** A Next of the Cadence: a state poll, a long lock poll, or the next resync (awaiting a change). */
  | { next: Next };

export interface ErrorPolicyRow {
  /** Synced=False reason. */
  synced: string;
  /** Ready=False: the class's own reason, or `fromCode` (the ECS code made condition-safe). */
  ready: typeof Reason.WaitingForInstanceState | "fromCode";
  /** Whether status records the failure (conditions + status.error); the failure is rethrown either way. */
  recorded: boolean;
  comeBack: ComeBack;
  /** Why, for docs and reviewers. */
  why: string;
}

export const ERROR_POLICY: Readonly<Record<FailureClass, ErrorPolicyRow>> = Object.freeze({
  transient: {
    synced: Reason.TransientError,
    ready: "fromCode",
    recorded: true,
    comeBack: { backoff: true },
    why: "5xx, network, timeouts: soon, then less and less often; a key that could not reach its endpoint also comes back when that endpoint's circuit closes (src/app.ts)",
  },
  throttled: {
    synced: Reason.Throttled,
    ready: "fromCode",
    recorded: true,
    comeBack: { retryAfter: true },
    why: "the window reopens at a known time; probing earlier only burns quota",
  },
  waitForState: {
    synced: Reason.WaitingForInstanceState,
    ready: Reason.WaitingForInstanceState,
    recorded: true,
    comeBack: { next: "statePoll" },
    why: "instance states change in seconds to minutes",
  },
  locked: { synced: Reason.InstanceLocked, ready: "fromCode", recorded: true, comeBack: { next: "lockedPoll" }, why: "security / financial locks last long" },
  notFound: {
    synced: Reason.InstanceNotFound,
    ready: "fromCode",
    recorded: true,
    comeBack: { next: "resync" },
    why: "the instance may appear (or become visible) later",
  },
  auth: {
    synced: Reason.CredentialsError,
    ready: "fromCode",
    recorded: true,
    comeBack: { next: "resync" },
    why: "needs new credentials or RAM policy: the Secret watch or the resync brings it back",
  },
  terminal: {
    synced: Reason.TerminalError,
    ready: "fromCode",
    recorded: true,
    comeBack: { next: "resync" },
    why: "needs a spec change (which re-queues it) or the next resync",
  },
});

export function failureClass(err: EcsError): FailureClass {
  return err.throttled ? "throttled" : err.errorClass;
}

export interface FailureStatus {
  ready: ConditionOutcome;
  synced: ConditionOutcome;
  error: EcsErrorStatus;
  /** The Warning Event (RequestIds go here, never into conditions). */
  event: { reason: string; message: string };
}

/** What status and Events say about a failed ECS call, or undefined when its class is not recorded. */
export function failureStatus(err: EcsError, now: Date): FailureStatus | undefined {
  const row = ERROR_POLICY[failureClass(err)];
  if (!row.recorded) return undefined;
  const ready: ConditionOutcome =
    row.ready === "fromCode"
      ? { status: "False", reason: reasonFromEcsCode(err.code), message: `${err.action} failed with ${err.code}` }
      : { status: "False", reason: row.ready, message: `ECS rejected the change in the instance's current state (${err.code}); retrying` };
  return {
    ready,
    synced: { status: "False", reason: row.synced, message: `${err.action} failed with ${err.code}: ${err.message}` },
    error: { code: err.code, message: err.message, retryable: err.retryable, lastTime: toRfc3339(now), action: err.action },
    event: { reason: reasonFromEcsCode(err.code), message: `${err.action} failed with ${err.code}: ${err.message} (RequestId ${err.requestId ?? "none"})` },
  };
}

/** How an EcsError's key comes back, per its row. */
function comeBackAfter(err: EcsError, cadence: Cadence): ErrorAction {
  const how = ERROR_POLICY[failureClass(err)].comeBack;
  if ("backoff" in how) return Action.backoff();
  if ("retryAfter" in how) return err.retryAfterMs !== undefined ? cadence.retryAfter(err.retryAfterMs) : Action.backoff();
  return cadence.action(how.next);
}

/** The runtime's errorPolicy for the reconciler: ECS failures per the table, anything else the default. */
export function errorPolicy(cadence: Cadence): ErrorPolicy {
  return (error, key, attempt) => (error instanceof EcsError ? comeBackAfter(error, cadence) : defaultErrorPolicy(error, key, attempt));
}

function describeComeBack(how: ComeBack): string {
  if ("backoff" in how) return "queue backoff";
  if ("retryAfter" in how) return "retry-after + up to 20 % jitter (queue backoff without one)";
  return {
    awaitChange: "wait for a change",
    resync: "next resync (or a change)",
    statePoll: "state poll (--state-poll-interval)",
    lockedPoll: "lock poll (10 min)",
  }[how.next];
}

/** The table as Markdown (docs/runtime.md embeds it; a unit test keeps the two equal). */
export function renderErrorPolicyTable(): string {
  // kstatus follows from the Synced reason (REASON_DOCS, src/api/conditions.ts); shown here for readers.
  const rows = Object.entries(ERROR_POLICY).map(
    ([cls, r]) =>
      `| ${cls} | ${r.synced} | ${r.ready === "fromCode" ? "from the ECS code" : r.ready} | ${kstatusOfReason(r.synced) ?? "none"} | ${r.recorded ? "yes" : "no"} | ${describeComeBack(r.comeBack)} | ${r.why} |`,
  );
  return ["| Class | Synced reason | Ready reason | kstatus | Recorded in status | Comes back after | Why |", "|---|---|---|---|---|---|---|", ...rows].join(
    "\n",
  );
}
