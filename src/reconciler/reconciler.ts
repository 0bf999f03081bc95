/**
 * Reconcile one EcsInstanceAttributes: read the world, converge it, write status, say when to come
 * back. Level-based: it never depends on which event woke it, and a second run with nothing changed
 * makes no ECS write and no status write.
 *
 *   resource → guards (deleted, paused, invalid spec, conflict) → resolve references → observe (batched
 *   read) → OS-dependent checks → plan → apply (one Modify) → status → next action
 *
 * ECS errors that survive the cloud layer's in-reconcile retries are recorded in status and then
 * rethrown, so the work queue's per-key backoff (the error policy) decides when to retry; terminal
 * ones are not rethrown — they wait for a spec change (or the next resync).
 */
import type { Logger } from "pino";
import {
  type AppliedSource,
  type EcsErrorStatus,
  type EcsInstanceAttributes,
  type EcsInstanceAttributesStatus,
  getCondition,
  hostNameProblems,
  hostnameTypeProblems,
  ConditionType,
  MAX_USER_DATA_BYTES,
  PAUSED_ANNOTATION,
  passwordProblems,
  Reason,
  reasonFromEcsCode,
  removeCondition,
  toRfc3339,
  validateSpec,
} from "../api/index.js";
import { DEFAULT_CREDENTIALS, type EcsCredentials } from "../cloud/client.js";
import type { EcsError} from "../cloud/errors.js";
import { toEcsError } from "../cloud/errors.js";
import { modifyFields, type ModifyRequest, type ObservedInstance, type ReadExtras } from "../cloud/model.js";
import { conflictWinner, instanceKey } from "./conflicts.js";
import { InputError, type ObjectReader, resolveInputs } from "./inputs.js";
import { extrasFor, plan } from "./plan.js";
import { type ConditionOutcome, nextStatus, type StatusOutcome, statusNeedsWrite } from "./status.js";

/** What the work queue should do next with this key. */
export type ReconcileAction = { requeueAfterMs: number } | { awaitChange: true };

/** The ECS operations the reconciler needs (EcsCloud implements them). */
export interface EcsPort {
  getInstance(target: { credentials: EcsCredentials; regionId: string }, instanceId: string, extras: ReadExtras, signal?: AbortSignal): Promise<ObservedInstance | null>;
  modifyInstanceAttribute(target: { credentials: EcsCredentials; regionId: string }, request: ModifyRequest, signal?: AbortSignal): Promise<{ requestId: string | undefined }>;
}

export interface EventSink {
  /** Records a Kubernetes Event on the resource. `message` must not contain secrets. */
  record(obj: EcsInstanceAttributes, type: "Normal" | "Warning", reason: string, message: string): void;
}

export interface ResourceStore {
  get(namespace: string, name: string): EcsInstanceAttributes | undefined;
  /** The other resources naming the same (region, instance) as `obj` (an index lookup, not a scan). */
  sameInstance(obj: EcsInstanceAttributes): readonly EcsInstanceAttributes[];
}

export interface ReconcilerDeps {
  resources: ResourceStore;
  objects: ObjectReader;
  ecs: EcsPort;
  events: EventSink;
  /** Writes status through the status subresource (optimistic: includes resourceVersion). */
  writeStatus(obj: EcsInstanceAttributes, status: EcsInstanceAttributesStatus): Promise<void>;
  resyncPeriodMs: number;
  /** A ResyncSweeper re-queues every resource each period (see resync()). */
  resyncBySweeper?: boolean;
  /** Poll interval while waiting for an instance state (e.g. Stopped for NIC queues). */
  stateWaitMs?: number;
  /** Poll interval while the instance is locked. */
  lockedWaitMs?: number;
  now?: () => Date;
  random?: () => number;
}

export interface ReconcileContext {
  log: Logger;
  signal: AbortSignal;
}

const DEFAULT_STATE_WAIT_MS = 15_000;
/** lastSyncTime alone is re-written at most this often (see finish()). */
const LAST_SYNC_REFRESH_MIN_MS = 5 * 60_000;
const DEFAULT_LOCKED_WAIT_MS = 10 * 60_000;

const ok = (reason: string, message: string): ConditionOutcome => ({ status: "True", reason, message });
const notOk = (reason: string, message: string): ConditionOutcome => ({ status: "False", reason, message });

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

export class Reconciler {
  private readonly now: () => Date;
  private readonly random: () => number;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.random = deps.random ?? Math.random;
  }

  /**
   * "Come back at the next resync". With a sweeper (the controller process) the fleet-wide round
   * re-queues every resource after one batched read, so nothing is scheduled per key; without one
   * (tests, embedding) the key is re-queued after the period, jittered ±10 %.
   */
  private resync(): ReconcileAction {
    if (this.deps.resyncBySweeper) return { awaitChange: true };
    return { requeueAfterMs: Math.round(this.deps.resyncPeriodMs * (0.9 + 0.2 * this.random())) };
  }

  async reconcile(namespace: string, name: string, ctx: ReconcileContext): Promise<ReconcileAction> {
    const obj = this.deps.resources.get(namespace, name);
    // Deleted: nothing to clean up (no finalizer; the resource does not own the instance).
    if (!obj) return { awaitChange: true };
    const generation = obj.metadata.generation ?? 0;
    const prev = obj.status;
    const log = ctx.log;

    /** Writes the outcome when it changes status. `restartClock` restarts RestartRequired's clock. */
    const finish = async (out: Omit<StatusOutcome, "generation" | "now">, restartClock = false): Promise<void> => {
      const now = this.now();
      // A new restart-relevant apply drops the old condition first, so its lastTransitionTime becomes
      // this apply's time (restartedSince compares the instance's StartTime with it).
      const base = restartClock && prev ? { ...prev, conditions: removeCondition(prev.conditions, ConditionType.RestartRequired) } : prev;
      const next = nextStatus(base, { ...out, generation, now });
      // A resync that finds nothing new refreshes only lastSyncTime, and only every few minutes: with a
      // short --resync-period every round would otherwise PATCH every resource's status (N writes per
      // round, each fanned out to every watcher) although nothing changed.
      if (statusNeedsWrite(prev, next, now, Math.max(this.deps.resyncPeriodMs / 2, LAST_SYNC_REFRESH_MIN_MS))) {
        await this.deps.writeStatus(obj, next);
        log.debug({ ready: getCondition(next.conditions, ConditionType.Ready)?.reason }, "status written");
      }
    };

    if (obj.metadata.annotations?.[PAUSED_ANNOTATION] === "true") {
      const paused = notOk(Reason.Paused, `the ${PAUSED_ANNOTATION} annotation is "true"; no ECS calls are made`);
      await finish({ ready: paused, synced: paused });
      return { awaitChange: true };
    }

    const valid = validateSpec(obj.spec);
    if (!valid.ok) {
      const invalid = notOk(Reason.InvalidSpec, valid.message);
      await finish({ ready: invalid, synced: invalid, error: null });
      return { awaitChange: true };
    }
    const spec = valid.value;

    const winner = conflictWinner(this.deps.resources.sameInstance(obj), obj);
    if (winner) {
      const c = notOk(Reason.Conflict, `instance ${instanceKey(spec)} is already managed by ${winner} (the oldest resource wins); this resource is not applied`);
      await finish({ ready: c, synced: c });
      return { awaitChange: true };
    }

    let inputs;
    try {
      inputs = resolveInputs(this.deps.objects, namespace, spec, generation);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      const missing = notOk(e.kind === "ConfigMap" ? Reason.ConfigMapNotFound : Reason.SecretNotFound, e.message);
      await finish({ ready: missing, synced: missing });
      // The Secret/ConfigMap watch re-queues this resource when the object appears.
      return { awaitChange: true };
    }
    const credentials: EcsCredentials = inputs.credentials ?? DEFAULT_CREDENTIALS;
    const target = { credentials, regionId: spec.regionId };
    const secrets = [inputs.password?.value, inputs.userData?.value];

    if (inputs.userData && Buffer.from(inputs.userData.value, "base64").byteLength > MAX_USER_DATA_BYTES) {
      const tooBig = notOk(Reason.InvalidSpec, `spec.userData: must be at most ${MAX_USER_DATA_BYTES} bytes before Base64 encoding`);
      await finish({ ready: tooBig, synced: tooBig });
      return { awaitChange: true };
    }

    // ---- observe
    let observed: ObservedInstance | null;
    try {
      observed = await this.deps.ecs.getInstance(target, spec.instanceId, extrasFor(spec), ctx.signal);
    } catch (e) {
      return this.failed(obj, toEcsError(e, "DescribeInstances", secrets), finish, log);
    }
    if (!observed) {
      const gone = notOk(Reason.InstanceNotFound, `instance ${spec.instanceId} not found in ${spec.regionId} (or not visible to these credentials)`);
      await finish({ ready: gone, synced: gone, error: { code: "InvalidInstanceId.NotFound", message: gone.message, retryable: false, lastTime: toRfc3339(this.now()), action: "DescribeInstances" } });
      return this.resync();
    }

    // ---- checks only possible once the OS type is known
    const osProblems = [
      ...(spec.hostName !== undefined ? hostNameProblems(spec.hostName, observed.osType) : []),
      ...(inputs.password ? passwordProblems(inputs.password.value, observed.osType) : []),
      ...(spec.privateDnsNameOptions?.hostnameType ? hostnameTypeProblems(spec.privateDnsNameOptions.hostnameType, observed.osType) : []),
    ];
    if (osProblems.length > 0) {
      const invalid = notOk(Reason.InvalidSpec, `${osProblems.join("; ")} (instance OS: ${observed.osType})`);
      await finish({ ready: invalid, synced: invalid, observed, error: null });
      return { awaitChange: true };
    }

    // ---- RestartRequired: cleared once ECS restarted the instance after the last such apply
    const restartCond = getCondition(prev?.conditions, ConditionType.RestartRequired);
    let restartRequired: ConditionOutcome | undefined;
    if (restartCond?.status === "True" && restartedSince(observed.startTime, restartCond.lastTransitionTime)) {
      restartRequired = notOk(Reason.NoRestartPending, "the instance was restarted after the last password, hostname or user data change");
    }

    const p = plan({
      spec,
      generation,
      observed,
      password: inputs.password,
      userData: inputs.userData,
      applied: prev?.appliedSecretVersions,
      lastSyncedGeneration: getCondition(prev?.conditions, ConditionType.Synced)?.status === "True" ? prev?.observedGeneration : undefined,
    });
    const synced = ok(Reason.ReconcileSuccess, "ECS was read successfully");

    if (spec.managementPolicy === "Observe") {
      const ready = p.differences.length === 0 ? ok(Reason.InSync, "ECS matches the spec") : notOk(Reason.DriftDetected, `differs from the spec (Observe policy, not written): ${p.differences.join(", ")}`);
      await finish({ ready, synced, restartRequired, observed, pendingChanges: p.differences, error: null });
      return this.resync();
    }

    if (observed.operationLocks.length > 0) {
      const locked = notOk(Reason.InstanceLocked, `instance is locked (${observed.operationLocks.join(", ")}); no changes are written until the lock is lifted`);
      await finish({ ready: p.differences.length === 0 ? ok(Reason.InSync, "ECS matches the spec") : locked, synced, restartRequired, observed, pendingChanges: p.differences, error: null });
      return { requeueAfterMs: this.deps.lockedWaitMs ?? DEFAULT_LOCKED_WAIT_MS };
    }

    // ---- apply
    const applied: { password?: AppliedSource; userData?: AppliedSource } = {};
    if (p.request) {
      let requestId: string | undefined;
      try {
        ({ requestId } = await this.deps.ecs.modifyInstanceAttribute(target, p.request, ctx.signal));
      } catch (e) {
        return this.failed(obj, toEcsError(e, "ModifyInstanceAttribute", secrets), finish, log, observed, p.differences);
      }
      const fields = modifyFields(p.request);
      const appliedTime = toRfc3339(this.now());
      if (p.request.password !== undefined && inputs.password) applied.password = { ...inputs.password.source, appliedTime };
      if (p.request.userData !== undefined && inputs.userData) applied.userData = { ...inputs.userData.source, appliedTime };
      log.info({ fields, requestId }, "applied changes to ECS");
      this.deps.events.record(obj, "Normal", "Applied", `ModifyInstanceAttribute set ${fields.join(", ")} (RequestId ${requestId ?? "unknown"})`);
      if (p.restartFields.length > 0) {
        restartRequired = {
          status: "True",
          reason: Reason.RestartPending,
          message: `${p.restartFields.join(", ")} applied; restart the instance from ECS (console or RebootInstance) for it to take effect`,
        };
      }
    }

    const waiting = p.heldBack.map((h) => `${h.field} needs ${h.needs}`);
    const ready =
      waiting.length === 0
        ? ok(Reason.InSync, "ECS matches the spec")
        : notOk(Reason.WaitingForInstanceState, `instance is ${observed.status}: ${waiting.join("; ")}`);
    if (waiting.length > 0 && p.request === undefined) {
      this.deps.events.record(obj, "Normal", Reason.WaitingForInstanceState, ready.message);
    }
    await finish(
      {
        ready,
        synced,
        restartRequired,
        observed: p.request ? applyToObserved(observed, p.request) : observed,
        pendingChanges: p.heldBack.map((h) => h.field),
        error: null,
        applied,
      },
      restartRequired?.status === "True" && p.restartFields.length > 0,
    );
    return waiting.length > 0 ? { requeueAfterMs: this.deps.stateWaitMs ?? DEFAULT_STATE_WAIT_MS } : this.resync();
  }

  /** Records an ECS failure in status and Events; rethrows it when the work queue should retry. */
  private async failed(
    obj: EcsInstanceAttributes,
    err: EcsError,
    finish: (out: Omit<StatusOutcome, "generation" | "now">) => Promise<void>,
    log: Logger,
    observed?: ObservedInstance,
    differences?: string[],
  ): Promise<ReconcileAction> {
    const retryable = err.retryable;
    const error: EcsErrorStatus = { code: err.code, message: err.message, retryable, lastTime: toRfc3339(this.now()), action: err.action };
    const reason = syncedReasonFor(err);
    const synced = notOk(reason, `${err.action} failed with ${err.code}: ${err.message}`);
    const ready =
      err.errorClass === "waitForState"
        ? notOk(Reason.WaitingForInstanceState, `ECS rejected the change in the instance's current state (${err.code}); retrying`)
        : notOk(reasonFromEcsCode(err.code), `${err.action} failed with ${err.code}`);
    log.warn({ err, errorClass: err.errorClass }, "ECS call failed");
    this.deps.events.record(obj, "Warning", reasonFromEcsCode(err.code), `${err.action} failed with ${err.code}: ${err.message} (RequestId ${err.requestId ?? "none"})`);
    await finish({ ready, synced, error, observed, pendingChanges: differences });
    if (err.errorClass === "waitForState") return { requeueAfterMs: this.deps.stateWaitMs ?? DEFAULT_STATE_WAIT_MS };
    if (err.errorClass === "locked") return { requeueAfterMs: this.deps.lockedWaitMs ?? DEFAULT_LOCKED_WAIT_MS };
    if (err.errorClass === "notFound") return this.resync();
    // Terminal and auth errors wait for a spec or credentials change; the resync still re-checks.
    if (!retryable) return this.resync();
    // Throttled with a known reopening time: come back then (plus jitter so a fleet does not return
    // in one burst) instead of letting the queue's backoff probe a closed window.
    if (err.throttled && err.retryAfterMs !== undefined) return { requeueAfterMs: Math.round(err.retryAfterMs * (1 + 0.2 * this.random())) };
    throw err;
  }
}

function syncedReasonFor(err: EcsError): string {
  if (err.throttled) return Reason.Throttled;
  switch (err.errorClass) {
    case "transient":
      return Reason.TransientError;
    case "auth":
      return Reason.CredentialsError;
    case "waitForState":
      return Reason.WaitingForInstanceState;
    case "locked":
      return Reason.InstanceLocked;
    case "notFound":
      return Reason.InstanceNotFound;
    default:
      return Reason.TerminalError;
  }
}

/** The observed instance as it is after a successful Modify (ECS accepted these values). */
function applyToObserved(o: ObservedInstance, req: ModifyRequest): ObservedInstance {
  const v: ObservedInstance = { ...o };
  if (req.instanceName !== undefined) v.instanceName = req.instanceName;
  if (req.description !== undefined) v.description = req.description;
  if (req.hostName !== undefined) v.hostName = req.hostName;
  if (req.securityGroupIds !== undefined) v.securityGroupIds = [...req.securityGroupIds].sort();
  if (req.deletionProtection !== undefined) v.deletionProtection = req.deletionProtection;
  if (req.creditSpecification !== undefined) v.creditSpecification = req.creditSpecification;
  if (req.enableJumboFrame !== undefined) v.enableJumboFrame = req.enableJumboFrame;
  // -1 means "the type default", which only the next read can tell.
  if (req.networkInterfaceQueueNumber !== undefined && req.networkInterfaceQueueNumber >= 0) v.networkInterfaceQueueNumber = req.networkInterfaceQueueNumber;
  if (req.cpuOptions) v.cpuOptions = { ...o.cpuOptions, ...definedOnly(req.cpuOptions) };
  if (req.privateDnsNameOptions) v.privateDnsNameOptions = { ...o.privateDnsNameOptions, ...definedOnly(req.privateDnsNameOptions) };
  if (req.userData !== undefined) v.userData = req.userData;
  return v;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
