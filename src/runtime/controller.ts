/**
 * The controller runner (kube-runtime `Controller` / controller-runtime `Controller`): informers →
 * event filter → work queue → workers → `reconcile(key, ctx)`.
 *
 *   const ctl = new Controller<EcsInstanceAttributes>({
 *     name: "ecsinstanceattributes",
 *     informer: primary,                                   // Informer<T> of the primary resource
 *     predicate: specOrAnnotationsChanged(),               // default: status-only updates are dropped
 *     watches: [{ informer: secrets, map: (s) => keysReferencing(s) }],   // secondary → primary keys
 *     reconcile: async (key, ctx) => { …; return Action.requeueAfter(600_000); },
 *     errorPolicy: (err, key, attempt) => Action.backoff(),               // default
 *     concurrency: 4, logger, metrics,
 *   });
 *   ctl.start();            // wires handlers; keys are queued even before workers run (standby warm-up)
 *   ctl.startWorkers();     // leader only: begins processing once the informers synced
 *   await ctl.stop(30_000); // stop taking work, finish in-flight up to the timeout, abort the rest
 *
 * Contract
 * - `reconcile` is level-based: it gets only the key, reads current state (e.g. from the informer
 *   store) and returns an Action: `requeueAfter(ms)` (scheduled requeue; the failure count is reset)
 *   or `awaitChange()` (nothing until an event). Throwing hands the error to `errorPolicy`.
 * - `errorPolicy(error, key, attempt)` returns `backoff()` (per-key exponential backoff in the queue,
 *   attempt = consecutive failures including this one), `requeueAfter(ms)` or `awaitChange()`
 *   (terminal: a `TerminalError` gets this by default).
 * - Each reconcile gets a child logger with controller, namespace, name, reconcileID, and an
 *   AbortSignal that fires when shutdown's timeout expires (so long waits can stop early).
 * - One key is never reconciled by two workers at once.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { EventSource, KubeObject } from "./informer.js";
import { objectKey, splitKey } from "./informer.js";
import { reconcileLogger } from "./logging.js";
import type { RuntimeMetrics } from "./metrics.js";
import type { UpdatePredicate } from "./predicates.js";
import { specOrAnnotationsChanged } from "./predicates.js";
import { type BackoffOptions, WorkQueue } from "./workqueue.js";

/** What the queue should do with a key after a reconcile. */
export type Action = { requeueAfterMs: number } | { awaitChange: true };
/** What the error policy may answer: an Action, or the queue's per-key exponential backoff. */
export type ErrorAction = Action | { backoff: true };

export const Action = {
  requeueAfter: (ms: number): Action => ({ requeueAfterMs: Math.max(0, Math.round(ms)) }),
  awaitChange: (): Action => ({ awaitChange: true }),
  backoff: (): ErrorAction => ({ backoff: true }),
};

/** An error that retrying cannot fix: by default not requeued (await a change). */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TerminalError";
  }
}

export interface ObjectKey {
  namespace?: string;
  name: string;
}

export interface ReconcileContext {
  log: Logger;
  signal: AbortSignal;
  reconcileID: string;
  /** Consecutive failures of this key before this attempt (0 after a success). */
  failures: number;
}

export type ReconcileFn = (key: ObjectKey, ctx: ReconcileContext) => Promise<Action>;
export type ErrorPolicy = (error: unknown, key: ObjectKey, attempt: number) => ErrorAction;

/** Default policy: TerminalError → awaitChange, everything else → per-key backoff. */
export const defaultErrorPolicy: ErrorPolicy = (error) => (error instanceof TerminalError ? Action.awaitChange() : Action.backoff());

export interface SecondaryWatch<S extends KubeObject = KubeObject> {
  informer: EventSource<S>;
  /** Keys of the primary objects to reconcile when `obj` changes (e.g. the resources referencing a Secret). */
  map: (obj: S) => Array<ObjectKey | string>;
  /** Update filter for this watch (default: any update the informer emits). */
  predicate?: UpdatePredicate<S>;
}

export interface ControllerOptions<T extends KubeObject> {
  name: string;
  informer: EventSource<T>;
  reconcile: ReconcileFn;
  errorPolicy?: ErrorPolicy;
  /** Update filter for the primary resource (default `specOrAnnotationsChanged()`). */
  predicate?: UpdatePredicate<T>;
  watches?: Array<SecondaryWatch<any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  concurrency?: number;
  backoff?: BackoffOptions;
  logger: Logger;
  metrics?: RuntimeMetrics;
  random?: () => number;
}

function keyString(k: ObjectKey | string): string {
  if (typeof k === "string") return k;
  return k.namespace ? `${k.namespace}/${k.name}` : k.name;
}

export class Controller<T extends KubeObject = KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly log: Logger;
  private readonly errorPolicy: ErrorPolicy;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly shutdownController = new AbortController();
  private started = false;
  private workersStarted = false;
  private stopping = false;

  constructor(private readonly opts: ControllerOptions<T>) {
    this.name = opts.name;
    this.log = opts.logger.child({ controller: opts.name });
    this.errorPolicy = opts.errorPolicy ?? defaultErrorPolicy;
    this.queue = new WorkQueue({
      name: opts.name,
      concurrency: opts.concurrency ?? 1,
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
      ...(opts.metrics ? { metrics: opts.metrics.queue(opts.name) } : {}),
      ...(opts.random ? { random: opts.random } : {}),
    });
  }

  /** Subscribes to the informers (call before starting them so the initial list is queued). */
  start(): void {
    if (this.started) return;
    this.started = true;
    const predicate = this.opts.predicate ?? specOrAnnotationsChanged();
    this.unsubscribe.push(
      this.opts.informer.addHandler({
        add: (o) => this.enqueue(objectKey(o)),
        update: (old, cur) => {
          if (predicate(old, cur)) this.enqueue(objectKey(cur));
        },
        delete: (o) => this.enqueue(objectKey(o)),
      }),
    );
    for (const w of this.opts.watches ?? []) {
      const mapped = (o: KubeObject) => {
        for (const k of w.map(o)) this.enqueue(keyString(k));
      };
      this.unsubscribe.push(
        w.informer.addHandler({
          add: mapped,
          update: (old: KubeObject, cur: KubeObject) => {
            if (!w.predicate || w.predicate(old, cur)) mapped(cur);
          },
          delete: mapped,
        }),
      );
    }
    // Objects already cached (informer started earlier) are queued too.
    for (const k of this.opts.informer.keys()) this.enqueue(k);
  }

  /** Queues a key behind all normal-priority work (periodic resync). */
  enqueueLowPriority(key: ObjectKey | string): void {
    this.queue.addLowPriority(keyString(key));
  }

  /** Queues a key by hand (e.g. "ns/name"). */
  enqueue(key: ObjectKey | string): void {
    this.queue.add(keyString(key));
  }

  /** True when every informer this controller reads has completed its first list. */
  hasSynced(): boolean {
    return this.opts.informer.hasSynced() && (this.opts.watches ?? []).every((w) => w.informer.hasSynced());
  }

  /** "controller <name>", plus the informers still waiting for their first list (for /readyz). */
  describe(): string {
    const pending = [this.opts.informer, ...(this.opts.watches ?? []).map((w) => w.informer)]
      .filter((s) => !s.hasSynced())
      .map((s, i) => s.describe?.() ?? `informer ${i}`);
    return pending.length > 0 ? `controller ${this.name} (waiting for ${[...new Set(pending)].join(", ")})` : `controller ${this.name}`;
  }

  /** Begins reconciling once all informers synced (leader only). Resolves when workers run. */
  async startWorkers(): Promise<void> {
    if (this.workersStarted || this.stopping) return;
    this.workersStarted = true;
    this.start();
    await Promise.all([this.opts.informer.waitForSync(), ...(this.opts.watches ?? []).map((w) => w.informer.waitForSync())]);
    if (this.stopping) return;
    this.opts.metrics?.setMaxConcurrent(this.name, this.opts.concurrency ?? 1);
    this.log.info({ concurrency: this.opts.concurrency ?? 1, queued: this.queue.depth }, "starting workers");
    this.queue.run((key) => this.process(key));
  }

  /**
   * Stops taking work and waits for in-flight reconciles up to `timeoutMs`; then aborts the
   * signal of the ones still running and returns their keys.
   */
  async stop(timeoutMs = 30_000): Promise<string[]> {
    this.stopping = true;
    for (const u of this.unsubscribe.splice(0)) u();
    const res = await this.queue.shutdown(timeoutMs);
    if (!res.drained) {
      this.log.warn({ abandoned: res.abandoned }, "shutdown timeout: aborting in-flight reconciles");
    }
    this.shutdownController.abort();
    return res.abandoned;
  }

  private async process(key: string): Promise<void> {
    const objKey = splitKey(key);
    const { log, reconcileID } = reconcileLogger(this.opts.logger, {
      controller: this.name,
      namespace: objKey.namespace,
      name: objKey.name,
      reconcileID: randomUUID(),
    });
    const failures = this.queue.failures(key);
    const m = this.opts.metrics;
    m?.activeWorkers(this.name, +1);
    const started = performance.now();
    let result: "success" | "error" | "requeue_after" | "requeue" = "success";
    try {
      log.debug({ failures }, "reconciling");
      const action = await this.opts.reconcile(objKey, { log, signal: this.shutdownController.signal, reconcileID, failures });
      this.queue.forget(key);
      if ("requeueAfterMs" in action) {
        result = "requeue_after";
        this.queue.addAfter(key, action.requeueAfterMs);
      }
      log.debug({ ...action }, "reconciled");
    } catch (e) {
      result = "error";
      const attempt = failures + 1;
      m?.reconcileError(this.name);
      let decision: ErrorAction;
      try {
        decision = this.errorPolicy(e, objKey, attempt);
      } catch (policyErr) {
        log.error({ err: policyErr }, "error policy threw; backing off");
        decision = Action.backoff();
      }
      if ("backoff" in decision) {
        const delay = this.queue.addRateLimited(key);
        log.warn({ err: e, attempt, retryInMs: delay }, "reconcile failed; retrying with backoff");
      } else if ("requeueAfterMs" in decision) {
        this.queue.recordFailure(key);
        this.queue.addAfter(key, decision.requeueAfterMs);
        log.warn({ err: e, attempt, retryInMs: decision.requeueAfterMs }, "reconcile failed; requeued by error policy");
      } else {
        this.queue.forget(key);
        log.error({ err: e }, "reconcile failed permanently; waiting for a change");
      }
    } finally {
      m?.activeWorkers(this.name, -1);
      m?.reconcileDone(this.name, result, (performance.now() - started) / 1000);
    }
  }
}
