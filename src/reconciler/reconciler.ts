/**
 * Reconcile one EcsInstanceAttributes: observe → decide → execute → settle, then one status write.
 * Level-based: it never depends on which event woke it, and a second run with nothing changed
 * makes no ECS write and no status write.
 *
 *   observe   the resource, its references and (when decide asks for it) one batched ECS read
 *   decide    pure: the first guard that speaks, else the plan (decide.ts)
 *   execute   at most one ModifyInstanceAttribute
 *   settle    pure: the decision plus what the Modify did → status, Events, next step (settle.ts)
 *
 * ECS failures are recorded in status and rethrown: the runtime's error policy (error-policy.ts)
 * decides when the resource comes back.
 */
import type { Logger } from "pino";
import { type EcsInstanceAttributes, type EcsInstanceAttributesStatus, getCondition, ConditionType, validateSpec } from "../api/index.js";
import type { GetInstanceOptions } from "../cloud/ecs.js";
import { EcsError } from "../cloud/errors.js";
import { modifyFields, type ModifyRequest, type ObservedInstance, type ReadExtras } from "../cloud/model.js";
import type { Action } from "../runtime/controller.js";
import { Cadence, type CadenceOptions } from "./cadence.js";
import { conflictWinner } from "./conflicts.js";
import { type Decision, decide, type EcsTarget, type InstanceRead, type ReadRequest, type World } from "./decide.js";
import { InputError, type ObjectReader, resolveInputs } from "./inputs.js";
import type { Tenancy } from "./provider-config/tenancy.js";
import { type ExecuteResult, type Outcome, settle, statusBase } from "./settle.js";
import { nextStatus, statusNeedsWrite } from "./status.js";

export { restartedSince } from "./holds.js";

/** The ECS operations the reconciler needs (EcsCloud implements them). Failures reject with EcsError. */
export interface EcsPort {
  getInstance(target: EcsTarget, instanceId: string, extras: ReadExtras, signal?: AbortSignal, opts?: GetInstanceOptions): Promise<ObservedInstance | null>;
  modifyInstanceAttribute(target: EcsTarget, request: ModifyRequest, signal?: AbortSignal): Promise<{ requestId: string | undefined }>;
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

export interface ReconcilerDeps extends CadenceOptions {
  resources: ResourceStore;
  objects: ObjectReader;
  ecs: EcsPort;
  events: EventSink;
  /** Writes status through the status subresource. */
  writeStatus(obj: EcsInstanceAttributes, status: EcsInstanceAttributesStatus): Promise<void>;
  /** EcsProviderConfigs: which config, credentials and constraints apply. Absent: none (tests, old wiring). */
  tenancy?: Tenancy | undefined;
  now?: () => Date;
}

export interface ReconcileContext {
  log: Logger;
  signal: AbortSignal;
}

/** lastSyncTime alone is re-written at most this often (see writeOutcome()). */
const LAST_SYNC_REFRESH_MIN_MS = 5 * 60_000;

export class Reconciler {
  readonly cadence: Cadence;
  private readonly now: () => Date;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.cadence = new Cadence(deps);
  }

  async reconcile(namespace: string, name: string, ctx: ReconcileContext): Promise<Action> {
    const obj = this.deps.resources.get(namespace, name);
    const world = this.observe(obj, namespace);
    let decision = decide(world);
    if ("read" in decision) decision = decide({ ...world, instance: await this.read(decision, ctx.signal), now: this.now() });
    const outcome = settle(decision, await this.execute(decision, ctx));
    if (obj) await this.writeOutcome(obj, outcome, ctx.log);
    if (outcome.error) throw outcome.error;
    return this.cadence.action(outcome.next);
  }

  /** What is known without ECS: the spec, who owns the instance, the referenced values. */
  private observe(obj: EcsInstanceAttributes | undefined, namespace: string): World {
    if (!obj) return { obj, now: this.now() };
    const spec = validateSpec(obj.spec);
    if (!spec.ok) return { obj, spec, now: this.now() };
    let inputs;
    try {
      inputs = resolveInputs(this.deps.objects, namespace, spec.value, obj.metadata.generation ?? 0);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      inputs = e;
    }
    const tenancy = this.deps.tenancy;
    const rivals = this.deps.resources.sameInstance(obj).filter((o) => tenancy?.eligible(o) ?? true);
    return { obj, spec, tenancy: tenancy?.resolve(namespace, spec.value), conflictWith: conflictWinner(rivals, obj), inputs, now: this.now() };
  }

  private async read({ read }: ReadRequest, signal: AbortSignal): Promise<InstanceRead> {
    try {
      const opts = { reuseRoundObservation: read.reuseRoundObservation };
      return { observed: await this.deps.ecs.getInstance(read.target, read.instanceId, read.extras, signal, opts) };
    } catch (e) {
      if (e instanceof EcsError) return { failed: e };
      throw e;
    }
  }

  /** Sends the decision's one Modify, if any. */
  private async execute(decision: Decision, ctx: ReconcileContext): Promise<ExecuteResult> {
    const m = decision.modify;
    if (!m) return { kind: "none" };
    try {
      const { requestId } = await this.deps.ecs.modifyInstanceAttribute(m.target, m.request, ctx.signal);
      ctx.log.info({ fields: modifyFields(m.request), requestId }, "applied changes to ECS");
      return { kind: "applied", requestId, at: this.now() };
    } catch (e) {
      if (e instanceof EcsError) return { kind: "failed", error: e, at: this.now() };
      throw e;
    }
  }

  /** Records the Events, then writes status when it changes anything. */
  private async writeOutcome(obj: EcsInstanceAttributes, outcome: Outcome, log: Logger): Promise<void> {
    for (const e of outcome.events) this.deps.events.record(obj, e.type, e.reason, e.message);
    if (outcome.error) log.warn({ err: outcome.error, errorClass: outcome.error.errorClass }, "ECS call failed");
    if (!outcome.status) return;
    const now = this.now();
    const prev = obj.status;
    const next = nextStatus(statusBase(prev, outcome.status), { ...outcome.status, generation: obj.metadata.generation ?? 0, now });
    // A resync that finds nothing new refreshes only lastSyncTime, and only every few minutes: with a
    // short --resync-period every round would otherwise PATCH every resource's status (N writes per
    // round, each fanned out to every watcher) although nothing changed.
    if (statusNeedsWrite(prev, next, now, Math.max(this.deps.resyncPeriodMs / 2, LAST_SYNC_REFRESH_MIN_MS))) {
      await this.deps.writeStatus(obj, next);
      log.debug({ ready: getCondition(next.conditions, ConditionType.Ready)?.reason }, "status written");
    }
  }
}
