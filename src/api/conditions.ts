/**
 * Condition types, reasons and the pure helpers that maintain `status.conditions`.
 *
 * Reasons must match the metav1.Condition reason pattern; ECS error codes contain dots, so they go
 * verbatim into `status.error.code` and only a sanitised form (reasonFromEcsCode) into `reason`.
 * Messages must never contain RequestIds, timestamps or secret values: a message that changes on
 * every attempt makes status change on every reconcile (a hot loop).
 */
import { CONDITION_MESSAGE_MAX_LENGTH, CONDITION_REASON_MAX_LENGTH, CONDITION_REASON_PATTERN } from "./constants.js";
import type { Condition, ConditionStatus } from "./status.js";

const reasonRe = new RegExp(CONDITION_REASON_PATTERN);

/** Condition types of EcsInstanceAttributes. */
export const ConditionType = {
  /** Observed attributes equal the desired ones (for Observe policy: no drift). */
  Ready: "Ready",
  /** The last reconcile reached ECS without error. */
  Synced: "Synced",
  /** Password, hostname or user data were applied and the instance has not been restarted since. */
  RestartRequired: "RestartRequired",
  /** kstatus: True while the controller works towards the spec (waits for a state or a restart, retries). Absent otherwise. */
  Reconciling: "Reconciling",
  /** kstatus: True when waiting will not help (terminal error, invalid spec, missing reference). Absent otherwise. */
  Stalled: "Stalled",
} as const;

/**
 * The two kstatus conditions (sigs.k8s.io/cli-utils pkg/kstatus), abnormal-true: present with
 * status True while they hold, removed otherwise. They are not set by guards or error classes one by
 * one: src/reconciler/status.ts derives them from Ready's and Synced's reasons through the `kstatus`
 * column of REASON_DOCS, so a new reason declares its effect there.
 */
export type KstatusCondition = typeof ConditionType.Reconciling | typeof ConditionType.Stalled;

/**
 * The stable reason vocabulary. ECS codes that have no entry here are carried through
 * reasonFromEcsCode (e.g. `InvalidHostName.Malformed` → `InvalidHostNameMalformed`).
 */
export const Reason = {
  // Ready=True / Synced=True
  /** Ready=True: every managed attribute equals the spec. */
  InSync: "InSync",
  /** Synced=True: the last reconcile read (and if needed wrote) ECS without error. */
  ReconcileSuccess: "ReconcileSuccess",
  // Ready=False
  /** Differences exist and are being applied (Apply policy). */
  ChangesPending: "ChangesPending",
  /** Differences exist and policy is Observe: reported, never written. */
  DriftDetected: "DriftDetected",
  /** The spec breaks a rule the controller checks (e.g. Windows hostname rules); fix the spec. */
  InvalidSpec: "InvalidSpec",
  /** The instance does not exist in the region (or the credentials cannot see it). */
  InstanceNotFound: "InstanceNotFound",
  /** The instance has a lock that blocks ModifyInstanceAttribute (security); writes are paused. */
  InstanceLocked: "InstanceLocked",
  /** A change needs another instance state (e.g. Stopped for CPU options); waiting. */
  WaitingForInstanceState: "WaitingForInstanceState",
  /** ECS accepts a field (hostname) again only after the instance restarts; held until then. */
  WaitingForRestart: "WaitingForRestart",
  /** Another, older resource manages the same instance; this one is never applied. */
  Conflict: "Conflict",
  /** A referenced Secret (password, user data, credentials) or its key is missing. */
  SecretNotFound: "SecretNotFound",
  /** The user-data ConfigMap or its key is missing. */
  ConfigMapNotFound: "ConfigMapNotFound",
  /** The `ecs.alicloud.dev/paused: "true"` annotation is set; no ECS calls are made. */
  Paused: "Paused",
  // Synced=False / Unknown
  /** ECS throttled the call (Throttling.*); retrying after the window. */
  Throttled: "Throttled",
  /** A transient ECS or network failure (5xx, timeouts); retrying with backoff. */
  TransientError: "TransientError",
  /** ECS rejected the credentials or the RAM policy denies the call. */
  CredentialsError: "CredentialsError",
  /** ECS rejected the change permanently; status.error holds the code. Retried when the spec changes. */
  TerminalError: "TerminalError",
  /** The controller has not reconciled this generation yet. */
  Pending: "Pending",
  // RestartRequired
  /** RestartRequired=True: password/hostname/user data applied, instance not restarted since. */
  RestartPending: "RestartPending",
  /** RestartRequired=False: nothing is waiting for a restart. */
  NoRestartPending: "NoRestartPending",
} as const;
export type ReasonName = (typeof Reason)[keyof typeof Reason];

/** A condition type with a status, as the controller sets it. */
export type ConditionUse = "Ready=True" | "Ready=False" | "Synced=True" | "Synced=False" | "RestartRequired=True" | "RestartRequired=False";

/**
 * Where the controller (src/reconciler/) sets each reason, and what it means. Kept next to the
 * vocabulary so docs/api.md's condition tables are rendered from it (test/unit/api/condition-docs.test.ts
 * fails when the docs are stale, or when a reason the reconciler uses is marked unused or the reverse).
 * An empty `uses` marks a reason kept in the vocabulary but not set today.
 */
export interface ReasonDoc {
  uses: readonly ConditionUse[];
  meaning: string;
  /**
   * The kstatus condition this reason raises while Ready or Synced is not True with it: Stalled when
   * waiting will not help (Flux and kstatus report Failed, Argo CD Degraded), Reconciling when the
   * controller is still getting there (InProgress / Progressing), null for neither.
   */
  kstatus: KstatusCondition | null;
}

export const REASON_DOCS: Readonly<Record<ReasonName, ReasonDoc>> = {
  InSync: { uses: ["Ready=True"], meaning: "observed equals desired", kstatus: null },
  ReconcileSuccess: { uses: ["Synced=True"], meaning: "the last reconcile read (and if needed wrote) ECS without error", kstatus: null },
  ChangesPending: {
    uses: [],
    meaning: "reserved: differences exist and are being applied (not set today; a reconcile applies and reports the outcome)",
    kstatus: "Reconciling",
  },
  DriftDetected: { uses: ["Ready=False"], meaning: "differences exist and the policy is Observe", kstatus: "Stalled" },
  InvalidSpec: {
    uses: ["Ready=False", "Synced=False"],
    meaning: "the spec breaks a rule only the controller can check (see the table above)",
    kstatus: "Stalled",
  },
  InstanceNotFound: {
    uses: ["Ready=False", "Synced=False"],
    meaning: "the instance is not in the region, or the credentials cannot see it",
    kstatus: "Stalled",
  },
  InstanceLocked: {
    uses: ["Ready=False", "Synced=False"],
    meaning: "the instance has a lock that blocks ModifyInstanceAttribute (security; Ready), or ECS refused the call for a lock (Synced); writes are paused",
    kstatus: "Stalled",
  },
  WaitingForInstanceState: {
    uses: ["Ready=False", "Synced=False"],
    meaning:
      "a change needs another instance state, by the field table or learned from an ECS refusal (Ready), or ECS rejected it in the current state (Synced)",
    kstatus: "Reconciling",
  },
  WaitingForRestart: {
    uses: ["Ready=False"],
    meaning:
      "ECS refused a change until the instance is restarted (InvalidInstanceStatus.NeedRestart); that field is held (status.restartHolds), the others apply",
    kstatus: "Reconciling",
  },
  Conflict: { uses: ["Ready=False", "Synced=False"], meaning: "an older resource manages the same instance; this one is never applied", kstatus: "Stalled" },
  SecretNotFound: {
    uses: ["Ready=False", "Synced=False"],
    meaning: "a referenced Secret (password, user data, credentials) or its key is missing; re-queued when it appears",
    kstatus: "Stalled",
  },
  ConfigMapNotFound: {
    uses: ["Ready=False", "Synced=False"],
    meaning: "the user-data ConfigMap or its key is missing; re-queued when it appears",
    kstatus: "Stalled",
  },
  Paused: { uses: ["Ready=False", "Synced=False"], meaning: "the paused annotation is set; no ECS calls are made", kstatus: null },
  Throttled: { uses: ["Synced=False"], meaning: "ECS throttled the call; retried after the window", kstatus: "Reconciling" },
  TransientError: { uses: ["Synced=False"], meaning: "5xx, timeouts, connection errors; retried with backoff", kstatus: "Reconciling" },
  CredentialsError: { uses: ["Synced=False"], meaning: "ECS rejected the credentials or RAM denied the call", kstatus: "Stalled" },
  TerminalError: { uses: ["Synced=False"], meaning: "ECS rejected the change permanently; retried when the spec changes", kstatus: "Stalled" },
  Pending: { uses: [], meaning: "reserved: not reconciled yet (not set today)", kstatus: "Reconciling" },
  RestartPending: { uses: ["RestartRequired=True"], meaning: "password, hostname or user data applied; takes effect after a restart from ECS", kstatus: null },
  NoRestartPending: { uses: ["RestartRequired=False"], meaning: "nothing is waiting for a restart", kstatus: null },
};

/** Fallback reason when a code sanitises to nothing usable. */
export const UNKNOWN_ECS_ERROR_REASON = "UnknownEcsError";

/** True when `reason` is acceptable to the API server as a metav1.Condition reason. */
export function isValidReason(reason: string): boolean {
  return reason.length >= 1 && reason.length <= CONDITION_REASON_MAX_LENGTH && reasonRe.test(reason);
}

/**
 * Maps an ECS error code (or any error code string) to a condition-safe reason.
 *
 * Segments separated by anything outside `[A-Za-z0-9_]` are joined in UpperCamelCase:
 * `InvalidHostName.Malformed` → `InvalidHostNameMalformed`, `Throttling.User` → `ThrottlingUser`,
 * `Forbidden.RAM` → `ForbiddenRAM`. The result always matches CONDITION_REASON_PATTERN; a code that
 * does not start with a letter gets the prefix `Ecs`; an empty code gives `UnknownEcsError`.
 * The raw code belongs in `status.error.code`.
 */
export function reasonFromEcsCode(code: string | undefined | null): string {
  if (!code) return UNKNOWN_ECS_ERROR_REASON;
  const segments = code.split(/[^A-Za-z0-9_]+/).filter((s) => s.length > 0);
  let out = segments.map((s) => s.charAt(0).toUpperCase() + s.slice(1)).join("");
  if (out.length === 0) return UNKNOWN_ECS_ERROR_REASON;
  if (!/^[A-Za-z]/.test(out)) out = `Ecs${out}`;
  // Keep a margin below the 1024 limit; codes are short in practice.
  out = out.slice(0, 256);
  return isValidReason(out) ? out : UNKNOWN_ECS_ERROR_REASON;
}

/** The condition input: lastTransitionTime is managed by setCondition. */
export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** Finds a condition by type. */
export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True when the condition of `type` exists with status "True". */
export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === "True";
}

/**
 * Returns `conditions` with `next` set (pure; the input is never mutated).
 *
 * - `lastTransitionTime` becomes `now` only when the type is new or its status changed; otherwise the
 *   existing time is kept, so re-asserting a condition does not change status.
 * - When nothing differs, the SAME array is returned (callers can skip the status write with `===`).
 * - Order is preserved; a new type is appended.
 * - Throws on a reason that the API server would reject (a programming error, caught by unit tests).
 */
export function setCondition(conditions: readonly Condition[] | undefined, next: ConditionInput, now: Date | string): Condition[] {
  if (!isValidReason(next.reason)) throw new Error(`invalid condition reason ${JSON.stringify(next.reason)}`);
  const list = conditions ?? [];
  const nowText = typeof now === "string" ? now : toRfc3339(now);
  const message = next.message.length > CONDITION_MESSAGE_MAX_LENGTH ? next.message.slice(0, CONDITION_MESSAGE_MAX_LENGTH) : next.message;
  const idx = list.findIndex((c) => c.type === next.type);
  const prev = idx >= 0 ? list[idx] : undefined;
  const built: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    message,
    lastTransitionTime: prev && prev.status === next.status ? prev.lastTransitionTime : nowText,
    ...(next.observedGeneration !== undefined ? { observedGeneration: next.observedGeneration } : {}),
  };
  if (prev && conditionEquals(prev, built)) return list as Condition[];
  if (!prev) return [...list, built];
  const out = [...list];
  out[idx] = built;
  return out;
}

/** Removes a condition type (pure; same array when absent). */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  const list = conditions ?? [];
  return list.some((c) => c.type === type) ? list.filter((c) => c.type !== type) : (list as Condition[]);
}

function conditionEquals(a: Condition, b: Condition): boolean {
  return (
    a.type === b.type &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.lastTransitionTime === b.lastTransitionTime &&
    a.observedGeneration === b.observedGeneration
  );
}

/** RFC 3339 with second precision and `Z`, the form metav1.Time serialises to. */
export function toRfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
