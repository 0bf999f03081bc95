/**
 * The plan: desired spec vs observed instance → the minimal ModifyInstanceAttribute request.
 * Pure (no I/O, no clock), so every rule here is unit-tested directly.
 *
 * - Only fields set in the spec are managed; an omitted field is never sent.
 * - Values that ECS cannot return (password, user data from a Secret) are compared by the version of
 *   their source recorded in status, never by value or hash.
 * - Fields whose instance-state precondition does not hold right now are held back and reported,
 *   while every other difference is applied in the same call.
 *
 * Every per-field fact (where the desired value is, how it is compared, which states allow it,
 * restart) comes from the field table in src/api/fields.ts; this module only applies it.
 */
import type { AppliedSource, EcsInstanceAttributesSpec, RestartHold } from "../api/index.js";
import {
  comparedByVersion,
  EXTRA_READS,
  type ExtraRead,
  FIELD_ROWS,
  type FieldName,
  type FieldRow,
  putAt,
  readNeeded,
  type RequiredState,
  specPath,
  valueAt,
} from "../api/fields.js";
import type { ModifyRequest, ObservedInstance } from "../cloud/model.js";

/** A resolved write-only input: its value and the identity of the version it came from. */
export interface ResolvedValue {
  /** The value to send (password in clear text, user data in Base64). Never logged. */
  value: string;
  /** Identifies the source version; compared with status.appliedSecretVersions. */
  source: Omit<AppliedSource, "appliedTime">;
}

export interface PlanInputs {
  spec: EcsInstanceAttributesSpec;
  generation: number;
  observed: ObservedInstance;
  /** Resolved password, when spec.passwordSecretRef is set. */
  password?: ResolvedValue | undefined;
  /** Resolved user data (Base64), when spec.userData is set. */
  userData?: ResolvedValue | undefined;
  /** status.appliedSecretVersions from the last successful apply. */
  applied?: { password?: AppliedSource | undefined; userData?: AppliedSource | undefined } | undefined;
  /** status.observedGeneration, when the last reconcile of that generation synced without error. */
  lastSyncedGeneration?: number | undefined;
  /** status.pendingChanges as last written: a type default still listed there was held back, not sent. */
  pendingBefore?: readonly string[] | undefined;
  /** The holds in force (holds.ts): such a field is not sent until the instance restarts (or, NeedsStopped, is Stopped). */
  restartHolds?: readonly RestartHold[] | undefined;
}

export type { RequiredState };

export interface HeldBack {
  field: string;
  /** An instance state, or a restart of the instance (a restart hold). */
  needs: RequiredState | "a restart";
  /** The state was learned from an ECS refusal (a `NeedsStopped` hold), not taken from the field table. */
  learned?: true;
}

export interface Plan {
  /** Spec fields (dotted for nested options) whose desired value differs from ECS now. */
  differences: string[];
  /** The fields held back because the instance is in the wrong state. */
  heldBack: HeldBack[];
  /** The request to send now, or undefined when nothing can or needs to be written. */
  request: ModifyRequest | undefined;
  /** Fields in `request` that only take effect after an ECS restart (password, hostName, userData). */
  restartFields: string[];
}

export function stateAllows(needs: RequiredState | undefined, status: string): boolean {
  switch (needs) {
    case undefined:
      return true;
    case "Stopped":
      return status === "Stopped";
    case "Running or Stopped":
      return status === "Running" || status === "Stopped";
    case "not Pending or Starting":
      return status !== "Pending" && status !== "Starting";
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && [...sa].every((x) => b.includes(x));
}

/** True when `applied` records exactly the source version in `current`. */
export function sameSource(applied: AppliedSource | undefined, current: ResolvedValue["source"]): boolean {
  if (!applied) return false;
  return (
    applied.kind === current.kind &&
    applied.name === current.name &&
    applied.key === current.key &&
    applied.uid === current.uid &&
    applied.resourceVersion === current.resourceVersion &&
    applied.generation === current.generation
  );
}

/** Base64 strings are compared by the bytes they encode (ECS may re-encode). */
function sameBase64(a: string | undefined, b: string | undefined): boolean {
  return Buffer.from(a ?? "", "base64").equals(Buffer.from(b ?? "", "base64"));
}

/** Which single-instance reads the spec needs (each costs one ECS call per instance). */
export function extrasFor(spec: EcsInstanceAttributesSpec): Record<ExtraRead, boolean> {
  const extras = Object.fromEntries(EXTRA_READS.map((e) => [e, false])) as Record<ExtraRead, boolean>;
  for (const row of FIELD_ROWS) {
    if ("extra" in row.read && readNeeded(row, valueAt(spec, specPath(row)))) extras[row.read.extra] = true;
  }
  return extras;
}

/**
 * True when the spec manages a field ECS accepts only in some instance states (`states` or
 * `learnedState` in src/api/fields.ts). Planning such a field needs the instance's state as it is
 * now: from an older observation the controller would send it in the wrong state and draw the wrong
 * lesson from the refusal (a learned NeedsStopped hold).
 */
export function managesStateBoundField(spec: EcsInstanceAttributesSpec): boolean {
  return FIELD_ROWS.some((row) => ("states" in row || "learnedState" in row) && valueAt(spec, specPath(row)) !== undefined);
}

/** Walks the field table in order: every managed field that differs is sent now or held back. */
export function plan(inputs: PlanInputs): Plan {
  const { spec, observed } = inputs;
  const request: ModifyRequest = { instanceId: spec.instanceId };
  const differences: string[] = [];
  const heldBack: HeldBack[] = [];
  const restartFields: string[] = [];

  for (const row of FIELD_ROWS) {
    const send = wanted(row, inputs);
    if (send === undefined) continue;
    const hold = inputs.restartHolds?.find((h) => h.field === row.name);
    // Sent already; ECS shows the new value after the restart: not drift, not sent again.
    if (hold?.cause === "Applied" && hold.value === send.value) continue;
    differences.push(row.name);
    if (hold?.cause === "NeedRestart") {
      heldBack.push({ field: row.name, needs: "a restart" });
      continue;
    }
    if (!stateAllows(row.states, observed.status)) {
      heldBack.push({ field: row.name, needs: row.states! });
      continue;
    }
    if (hold?.cause === "NeedsStopped" && row.learnedState && !stateAllows(row.learnedState, observed.status)) {
      heldBack.push({ field: row.name, needs: row.learnedState, learned: true });
      continue;
    }
    putAt(request, row.name, send.value);
    if (row.restart) restartFields.push(row.name);
  }

  const writes = Object.keys(request).length > 1;
  return { differences, heldBack, request: writes ? request : undefined, restartFields };
}

/** The value to send for a row when its desired value differs from ECS; undefined when it is equal or unmanaged. */
function wanted(row: FieldRow, inputs: PlanInputs): { value: unknown } | undefined {
  const desired = valueAt(inputs.spec, specPath(row));
  if (desired === undefined) return undefined;
  if (isResolved(row.name)) {
    // Write-only inputs (password, user data) are sent as resolved from their source.
    const resolved = inputs[row.name];
    if (!resolved) return undefined;
    const differs = comparedByVersion(row, desired)
      ? !sameSource(inputs.applied?.[row.name], resolved.source)
      : !equal(row, resolved.value, valueAt(inputs.observed, row.name));
    return differs ? { value: resolved.value } : undefined;
  }
  // The type default is not readable: send it once per generation.
  if (desired === row.typeDefault) {
    const sentThisGeneration = inputs.lastSyncedGeneration === inputs.generation && !inputs.pendingBefore?.includes(row.name);
    return sentThisGeneration ? undefined : { value: desired };
  }
  return equal(row, desired, valueAt(inputs.observed, row.name)) ? undefined : { value: row.type === "ids" ? [...(desired as string[])] : desired };
}

/** Rows whose value to send is resolved from a source by the reconciler (PlanInputs carries it). */
const RESOLVED = ["password", "userData"] as const satisfies readonly FieldName[];
type ResolvedField = (typeof RESOLVED)[number];
function isResolved(name: string): name is ResolvedField {
  return (RESOLVED as readonly string[]).includes(name);
}

/** The row's equality rule (`version` rows never get here: they compare sources, not values). */
function equal(row: FieldRow, desired: unknown, observed: unknown): boolean {
  switch (row.equality) {
    case "set":
      return sameSet(desired as readonly string[], (observed ?? []) as readonly string[]);
    case "bytes":
      return sameBase64(desired as string, observed as string | undefined);
    case "equal":
    case "version":
      return desired === observed;
  }
}
