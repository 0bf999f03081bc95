/**
 * decide(world) → Decision. Pure: the facts a reconcile gathered go in, what to write, send,
 * record and do next comes out. No I/O, no clock (the world carries `now`), no randomness.
 *
 * The decision is the first guard of GUARDS that speaks, else the plan. A guard is one entry: a new
 * reason to stop (a provider config that forbids the region, a fleet rollout gate) is one more row,
 * placed where it must run. Guards marked `needsInstance` run only once ECS was read; before that,
 * decide answers `{ read }` (what to read) as soon as every earlier guard passed, so nothing is read
 * for a paused, invalid, conflicting or unresolvable resource.
 */
import {
  type AppliedSource,
  ConditionType,
  type EcsInstanceAttributes,
  type EcsInstanceAttributesSpec,
  getCondition,
  isPaused,
  osSpecProblems,
  PAUSED_ANNOTATION,
  passwordProblems,
  Reason,
  toRfc3339,
  userDataRawSize,
  type ValidationResult,
} from "../api/index.js";
import type { EcsCredentials, EndpointChoice } from "../cloud/client.js";
import type { EcsTarget } from "../cloud/ecs.js";
import type { EcsError } from "../cloud/errors.js";
import { modifyBlockingLocks } from "../cloud/locks.js";
import type { ModifyRequest, ObservedInstance, ReadExtras } from "../cloud/model.js";
import type { Next } from "./cadence.js";
import { type ConfigChoice, type Denial, tagDenial } from "./provider-config/policy.js";
import { ecsTarget } from "./provider-config/tenancy.js";
import { instanceKey } from "./conflicts.js";
import { failureStatus } from "./error-policy.js";
import { InputError, type ResolvedInputs } from "./inputs.js";
import { extrasFor, managesStateBoundField, type Plan, plan } from "./plan.js";
import { activeHolds, heldMessage, restartedSince } from "./holds.js";
import type { ConditionOutcome, StatusOutcome } from "./status.js";

// One EcsTarget type, the cloud layer's (a type-only import: reconciler → cloud is the allowed direction).
export type { EcsTarget };

/** What one reconcile knows. Fields after `obj` are absent when the resource is gone. */
export interface World {
  /** The resource as cached (with our last written status); undefined when it was deleted. */
  obj: EcsInstanceAttributes | undefined;
  spec?: ValidationResult<EcsInstanceAttributesSpec>;
  /** namespace/name of the older resource that manages the same instance. */
  conflictWith?: string | undefined;
  /** The resolved references, or why they cannot be resolved. */
  inputs?: ResolvedInputs | InputError;
  /**
   * The EcsProviderConfig the resource uses, the credentials it resolves to, and the first
   * constraint broken before any ECS call (absent: no tenancy, as before provider configs existed).
   */
  tenancy?: { choice: ConfigChoice; credentials?: EcsCredentials | undefined; endpoint?: EndpointChoice | undefined; denial?: Denial | undefined } | undefined;
  /** The ECS read: absent before it happened; `observed: null` when the instance does not exist. */
  instance?: { observed: ObservedInstance | null } | { failed: EcsError };
  now: Date;
}

/** A status outcome as decide and settle build it (generation and clock are added at write time). */
export type StatusChange = Omit<StatusOutcome, "generation" | "now"> & {
  /** Restart RestartRequired's clock (a new password / hostname / user data apply). */
  restartClock?: boolean;
};

export interface EventToRecord {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface Decision {
  /** The guard that decided, or "plan". */
  by: string;
  /** The status to write (only when it changes anything); undefined writes nothing. */
  status: StatusChange | undefined;
  events: EventToRecord[];
  next: Next;
  /** An ECS failure to rethrow once recorded: the runtime's error policy decides when to retry. */
  error?: EcsError | undefined;
  /** The one ModifyInstanceAttribute to send, and what its success means for status. */
  modify?: ModifyIntent | undefined;
}

export interface ModifyIntent {
  target: EcsTarget;
  request: ModifyRequest;
  /** The instance as read, before the write. */
  observed: ObservedInstance;
  /** Every field that differs (status.pendingChanges if the write fails). */
  differences: string[];
  /** Fields that take effect only after a restart. */
  restartFields: string[];
  /** The sources of the write-only values in `request` (recorded as applied on success). */
  sources: { password?: Omit<AppliedSource, "appliedTime"> | undefined; userData?: Omit<AppliedSource, "appliedTime"> | undefined };
}

/** Read this before deciding again. */
export interface ReadRequest {
  read: {
    target: EcsTarget;
    instanceId: string;
    extras: ReadExtras;
    /**
     * The resource was in sync when last reconciled, so the last resync round's observation of the
     * instance may stand in for this read (src/cloud/ecs.ts `getInstance`): see `observationMayBeReused`.
     */
    reuseRoundObservation: boolean;
  };
}

interface Guard {
  name: string;
  needsInstance?: true;
  check(w: World): Decision | undefined;
}

const ok = (reason: string, message: string): ConditionOutcome => ({ status: "True", reason, message });
const notOk = (reason: string, message: string): ConditionOutcome => ({ status: "False", reason, message });
const IN_SYNC = ok(Reason.InSync, "ECS matches the spec");
const READ_OK = ok(Reason.ReconcileSuccess, "ECS was read successfully");

/** Ready and Synced both False with one reason: the resource is not acted on until something changes. */
function stop(by: string, c: ConditionOutcome, extra: Partial<StatusChange> = {}, next: Next = "awaitChange"): Decision {
  return { by, status: { ready: c, synced: c, ...extra }, events: [], next };
}

const specOf = (w: World): EcsInstanceAttributesSpec | undefined => (w.spec?.ok ? w.spec.value : undefined);
const inputsOf = (w: World): ResolvedInputs | undefined => (w.inputs instanceof InputError ? undefined : w.inputs);
const observedOf = (w: World): ObservedInstance | undefined => (w.instance && "observed" in w.instance ? (w.instance.observed ?? undefined) : undefined);

/** The facts every guard after the read may rely on (the earlier guards made sure of them). */
function readFacts(w: World): { spec: EcsInstanceAttributesSpec; inputs: ResolvedInputs; observed: ObservedInstance } {
  const spec = specOf(w);
  const inputs = inputsOf(w);
  const observed = observedOf(w);
  if (!spec || !inputs || !observed) throw new Error("decide: a guard after the read ran without a valid spec, inputs and instance");
  return { spec, inputs, observed };
}

const DENIAL_REASON = {
  ProviderConfigNotFound: Reason.ProviderConfigNotFound,
  Forbidden: Reason.Forbidden,
  CredentialsError: Reason.CredentialsError,
} as const;

export const GUARDS: readonly Guard[] = [
  // No finalizer: the resource does not own the instance, so there is nothing to clean up.
  { name: "deleted", check: (w) => (w.obj ? undefined : { by: "deleted", status: undefined, events: [], next: "awaitChange" }) },
  {
    name: "paused",
    check: (w) =>
      isPaused(w.obj?.metadata) ? stop("paused", notOk(Reason.Paused, `the ${PAUSED_ANNOTATION} annotation is "true"; no ECS calls are made`)) : undefined,
  },
  {
    name: "invalidSpec",
    check: (w) => (w.spec && !w.spec.ok ? stop("invalidSpec", notOk(Reason.InvalidSpec, w.spec.message), { error: null }) : undefined),
  },
  {
    // Before the conflict guard: a resource its config does not allow never takes part in one.
    name: "providerConfig",
    check: (w) => {
      const d = w.tenancy?.denial;
      if (!d) return undefined;
      return stop("providerConfig", notOk(DENIAL_REASON[d.kind], d.message), { error: null });
    },
  },
  {
    name: "conflict",
    check: (w) =>
      w.conflictWith === undefined
        ? undefined
        : stop(
            "conflict",
            notOk(
              Reason.Conflict,
              `instance ${instanceKey(specOf(w) ?? {})} is already managed by ${w.conflictWith} (the oldest resource wins); this resource is not applied`,
            ),
          ),
  },
  {
    // The Secret/ConfigMap watch re-queues the resource when the object appears.
    name: "missingReference",
    check: (w) =>
      w.inputs instanceof InputError
        ? stop("missingReference", notOk(w.inputs.kind === "ConfigMap" ? Reason.ConfigMapNotFound : Reason.SecretNotFound, w.inputs.message))
        : undefined,
  },
  {
    name: "userDataTooLarge",
    check: (w) => {
      const ud = inputsOf(w)?.userData;
      if (!ud || userDataRawSize.test(Buffer.from(ud.value, "base64"))) return undefined;
      return stop("userDataTooLarge", notOk(Reason.InvalidSpec, `spec.userData: ${userDataRawSize.message}`));
    },
  },
  {
    name: "readFailed",
    needsInstance: true,
    check: (w) => {
      if (!w.instance || !("failed" in w.instance)) return undefined;
      const err = w.instance.failed;
      const f = failureStatus(err, w.now);
      return {
        by: "readFailed",
        status: f && { ready: f.ready, synced: f.synced, error: f.error },
        events: f ? [{ type: "Warning", ...f.event }] : [],
        next: "awaitChange",
        error: err,
      };
    },
  },
  {
    name: "notFound",
    needsInstance: true,
    check: (w) => {
      if (!w.instance || !("observed" in w.instance) || w.instance.observed) return undefined;
      const spec = specOf(w);
      const gone = notOk(Reason.InstanceNotFound, `instance ${spec?.instanceId} not found in ${spec?.regionId} (or not visible to these credentials)`);
      const error = { code: "InvalidInstanceId.NotFound", message: gone.message, retryable: false, lastTime: toRfc3339(w.now), action: "DescribeInstances" };
      return stop("notFound", gone, { error }, "resync");
    },
  },
  {
    // Checked on this reconcile's DescribeInstances, so before every write. No atProvider: the
    // instance may be another team's, and its attributes are not this resource's to see.
    name: "instanceTags",
    needsInstance: true,
    check: (w) => {
      const choice = w.tenancy?.choice;
      const observed = observedOf(w);
      const d = choice && observed ? tagDenial(choice, observed) : undefined;
      return d ? stop("instanceTags", notOk(Reason.Forbidden, d.message), { error: null }) : undefined;
    },
  },
  {
    name: "osInvalidSpec",
    needsInstance: true,
    check: (w) => {
      const { spec, inputs, observed } = readFacts(w);
      const problems = [...osSpecProblems(spec, observed.osType), ...(inputs.password ? passwordProblems(inputs.password.value, observed.osType) : [])];
      if (problems.length === 0) return undefined;
      return stop("osInvalidSpec", notOk(Reason.InvalidSpec, `${problems.join("; ")} (instance OS: ${observed.osType})`), { observed, error: null });
    },
  },
  {
    name: "observeOnly",
    needsInstance: true,
    check: (w) => {
      if (specOf(w)?.managementPolicy !== "Observe") return undefined;
      const { p, base } = planned(w);
      const ready =
        p.differences.length === 0 ? IN_SYNC : notOk(Reason.DriftDetected, `differs from the spec (Observe policy, not written): ${p.differences.join(", ")}`);
      return { by: "observeOnly", status: { ...base, ready }, events: [], next: "resync" };
    },
  },
  {
    name: "locked",
    needsInstance: true,
    check: (w) => {
      // Only the reasons ECS documents as refusing Modify pause writes (src/cloud/locks.ts).
      const locks = modifyBlockingLocks(observedOf(w)?.operationLocks ?? []);
      if (locks.length === 0) return undefined;
      const { p, base } = planned(w);
      const locked = notOk(Reason.InstanceLocked, `instance is locked (${locks.join(", ")}); no changes are written until the lock is lifted`);
      return { by: "locked", status: { ...base, ready: p.differences.length === 0 ? IN_SYNC : locked }, events: [], next: "lockedPoll" };
    },
  },
];

/** The plan and the status parts every post-read outcome shares. */
function planned(w: World): { p: Plan; base: Omit<StatusChange, "ready"> } {
  const { spec, inputs, observed } = readFacts(w);
  const prev = w.obj?.status;
  const restartHolds = activeHolds(prev?.restartHolds, observed, spec);
  const p = plan({
    spec,
    generation: w.obj?.metadata.generation ?? 0,
    observed,
    password: inputs.password,
    userData: inputs.userData,
    applied: prev?.appliedSecretVersions,
    lastSyncedGeneration: getCondition(prev?.conditions, ConditionType.Synced)?.status === "True" ? prev?.observedGeneration : undefined,
    pendingBefore: prev?.pendingChanges,
    restartHolds,
  });
  return { p, base: { synced: READ_OK, restartRequired: restartCleared(w, observed), observed, pendingChanges: p.differences, error: null, restartHolds } };
}

/** RestartRequired is cleared once ECS restarted the instance after the last such apply. */
function restartCleared(w: World, observed: ObservedInstance): ConditionOutcome | undefined {
  const c = getCondition(w.obj?.status?.conditions, ConditionType.RestartRequired);
  if (c?.status !== "True" || !restartedSince(observed.startTime, c.lastTransitionTime)) return undefined;
  return notOk(Reason.NoRestartPending, "the instance was restarted after the last password, hostname or user data change");
}

/** The last rung: apply what differs and the state allows; report what waits for another state. */
function applyPlan(w: World): Decision {
  const { spec, inputs, observed } = readFacts(w);
  const { p, base } = planned(w);
  const waiting = p.heldBack
    .filter((h) => h.needs !== "a restart")
    .map((h) => `${h.field} needs ${h.needs}${h.learned ? " (ECS refused it in another state)" : ""}`);
  const restartHeld = p.heldBack.filter((h) => h.needs === "a restart").map((h) => h.field);
  const ready =
    waiting.length > 0
      ? notOk(Reason.WaitingForInstanceState, `instance is ${observed.status}: ${waiting.join("; ")}`)
      : restartHeld.length > 0
        ? notOk(Reason.WaitingForRestart, heldMessage(restartHeld))
        : IN_SYNC;
  const status: StatusChange = { ...base, ready, pendingChanges: p.heldBack.map((h) => h.field), applied: {} };
  if (restartHeld.length > 0) status.restartRequired = { status: "True", reason: Reason.RestartPending, message: heldMessage(restartHeld) };
  // A restart hold is not polled for: the resync's read notices the restart (a later StartTime).
  const next: Next = waiting.length > 0 ? "statePoll" : "resync";
  if (!p.request) {
    const events: EventToRecord[] = waiting.length > 0 ? [{ type: "Normal", reason: Reason.WaitingForInstanceState, message: ready.message }] : [];
    return { by: "plan", status, events, next };
  }
  const modify: ModifyIntent = {
    target: targetOf(spec, inputs, w),
    request: p.request,
    observed,
    differences: p.differences,
    restartFields: p.restartFields,
    sources: {
      password: p.request.password !== undefined ? inputs.password?.source : undefined,
      userData: p.request.userData !== undefined ? inputs.userData?.source : undefined,
    },
  };
  return { by: "plan", status, events: [], next, modify };
}

/** Credentials and endpoint as src/reconciler/provider-config/tenancy.ts `ecsTarget` builds them. */
function targetOf(spec: EcsInstanceAttributesSpec, inputs: ResolvedInputs, w: World): EcsTarget {
  return ecsTarget(spec.regionId, inputs.credentials, w.tenancy);
}

/** The ECS read as World records it. */
export type InstanceRead = NonNullable<World["instance"]>;

/** The decision for `world`, or (before the read) what to read from ECS first. */
export function decide(world: World & { instance: InstanceRead }): Decision;
export function decide(world: World): Decision | ReadRequest;
export function decide(world: World): Decision | ReadRequest {
  for (const guard of GUARDS) {
    if (guard.needsInstance && !world.instance) {
      const spec = readFactsBeforeRead(world);
      const target = targetOf(spec.spec, spec.inputs, world);
      return {
        read: { target, instanceId: spec.spec.instanceId, extras: extrasFor(spec.spec), reuseRoundObservation: observationMayBeReused(world, spec.spec) },
      };
    }
    const d = guard.check(world);
    if (d) return d;
  }
  return applyPlan(world);
}

/**
 * Whether the last resync round's observation may stand in for a fresh read. Only when the resource
 * was in sync (Ready=True) when last reconciled: then every field equalled its desired value in that
 * observation, so a spec change still writes each field it changes, and a field that drifted since
 * the round is found by the next round — the same staleness Ready=True already has between rounds.
 * A resource in any other state (an ECS error, a hold, not found) reads afresh: its retry must see
 * what ECS says now. So does one that manages a field ECS accepts only in some instance states:
 * the state may have changed since the round. This is what keeps a burst of spec changes from
 * costing one DescribeInstances per few changes (issue 15) and keeps the read off their latency.
 */
function observationMayBeReused(w: World, spec: EcsInstanceAttributesSpec): boolean {
  return getCondition(w.obj?.status?.conditions, ConditionType.Ready)?.status === "True" && !managesStateBoundField(spec);
}

function readFactsBeforeRead(w: World): { spec: EcsInstanceAttributesSpec; inputs: ResolvedInputs } {
  const spec = specOf(w);
  const inputs = inputsOf(w);
  if (!spec || !inputs) throw new Error("decide: reading ECS without a valid spec and inputs");
  return { spec, inputs };
}
