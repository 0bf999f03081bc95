/**
 * Leader election on a coordination.k8s.io/v1 Lease (client-go's algorithm; client-node has none).
 *
 *   const le = new LeaderElector({
 *     kubeConfig, namespace: "ecs-system", name: "ecs-attributes-controller", identity: podName,
 *     onStartedLeading: () => void ctl.startWorkers(),
 *     onStoppedLeading: ({ lost }) => { if (lost) process.exit(1); },   // lost: stop working at once
 *     logger, metrics,
 *   });
 *   le.start();
 *   await le.stop();        // graceful: releases the Lease so a standby takes over within ~retryPeriod
 *
 * Algorithm
 * - Candidate: every retryPeriod (+≤20 % jitter) read the Lease. It is free when it does not exist
 *   (create it), has an empty holder, or its record has not changed for leaseDuration by OUR clock
 *   (client-go's observed-time rule, immune to clock skew between nodes). Taking it is a PUT that
 *   carries the read resourceVersion: a 409 means another candidate won the race.
 * - Leader: renew (PUT renewTime) every retryPeriod. If no renewal succeeded for renewDeadline,
 *   leadership is lost: onStoppedLeading runs and the elector becomes a candidate again.
 * - Times are written as V1MicroTime (six fractional digits): the API server rejects the
 *   millisecond precision a plain Date produces. They are read back as strings.
 * - stop(): when leading, releases the Lease (empty holder, leaseDurationSeconds 1) unless
 *   `{ release: false }` (which behaves like a crash, for tests).
 *
 * Defaults: leaseDuration 15 s, renewDeadline 10 s, retryPeriod 2 s (controller-runtime's).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { KubeApiError, kubeRequest, microTime } from "./kube-http.js";
import type { RuntimeMetrics } from "./metrics.js";
import { wakeableSleep } from "./sleep.js";

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  /** Unique per process, e.g. the pod name plus a random suffix. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Release the Lease on stop() (default true). */
  releaseOnCancel?: boolean;
  onStartedLeading?: () => void;
  /** `lost`: renewals failed (stop working now; controller-runtime exits); false after stop(). */
  onStoppedLeading?: (info: { lost: boolean }) => void;
  /** Called when the observed holder changes (including to ourselves or to nobody ""). */
  onNewLeader?: (identity: string) => void;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  random?: () => number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export { microTime };

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: Logger | undefined;
  private readonly random: () => number;
  private readonly path: string;
  private leading = false;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private observedKey = "";
  private observedAt = 0;
  private observedHolder: string | undefined;
  private readonly stopController = new AbortController();

  constructor(private readonly opts: LeaderElectionOptions) {
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error("leader election: need leaseDuration > renewDeadline > retryPeriod");
    }
    this.random = opts.random ?? Math.random;
    this.log = opts.logger?.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(opts.namespace)}/leases`;
    opts.metrics?.leaderStatus(opts.name, false);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder we last observed ("" = released, undefined = not read yet). */
  observedLeader(): string | undefined {
    return this.observedHolder;
  }

  start(): void {
    if (this.running || this.stopController.signal.aborted) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops campaigning/renewing; releases the Lease when leading (unless release is false). */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopController.abort();
    this.wake?.();
    await this.loop;
    const wasLeading = this.leading;
    if (wasLeading) this.setLeading(false, "stopped");
    if (wasLeading && (opts.release ?? this.opts.releaseOnCancel ?? true)) await this.release();
  }

  private setLeading(v: boolean, why: string): void {
    if (this.leading === v) return;
    this.leading = v;
    this.opts.metrics?.leaderStatus(this.opts.name, v);
    if (v) {
      this.log?.info("became leader");
      this.safe(() => this.opts.onStartedLeading?.());
    } else {
      this.log?.warn({ why }, "stopped leading");
      const lost = why !== "stopped";
      this.safe(() => this.opts.onStoppedLeading?.({ lost }));
    }
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log?.error({ err: e }, "leader election callback threw");
    }
  }

  private sleep(ms: number): Promise<void> {
    const { done, wake } = wakeableSleep(ms);
    this.wake = wake;
    return done;
  }

  private async run(): Promise<void> {
    while (this.running) {
      // ---- candidate
      while (this.running && !this.leading) {
        let ok = false;
        try {
          ok = await this.tryAcquireOrRenew(Math.min(this.renewDeadlineMs, 5_000));
        } catch (e) {
          this.log?.warn({ err: { message: (e as Error).message } }, "leader election: could not read or take the Lease");
        }
        if (!this.running) return;
        if (ok) {
          this.setLeading(true, "acquired");
          break;
        }
        await this.sleep(this.retryPeriodMs * (1 + 0.2 * this.random()));
      }
      // ---- leader
      let lastRenew = Date.now();
      while (this.running && this.leading) {
        await this.sleep(this.retryPeriodMs);
        if (!this.running) return;
        const left = this.renewDeadlineMs - (Date.now() - lastRenew);
        let ok = false;
        if (left > 0) {
          try {
            ok = await this.tryAcquireOrRenew(Math.max(left, 100));
          } catch (e) {
            this.log?.warn({ err: { message: (e as Error).message } }, "leader election: renew failed");
          }
        }
        if (!this.running) return;
        if (ok) lastRenew = Date.now();
        else if (Date.now() - lastRenew >= this.renewDeadlineMs) this.setLeading(false, `no successful renewal for ${this.renewDeadlineMs} ms`);
      }
    }
  }

  private observe(spec: LeaseSpec | undefined): void {
    const key = JSON.stringify([spec?.holderIdentity ?? "", spec?.renewTime ?? "", spec?.leaseTransitions ?? 0, spec?.acquireTime ?? ""]);
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = Date.now();
    }
    const holder = spec?.holderIdentity ?? "";
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      this.log?.info({ holder: holder || "(none)" }, "lease holder changed");
      this.safe(() => this.opts.onNewLeader?.(holder));
    }
  }

  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const kc = this.opts.kubeConfig;
    const signal = this.stopController.signal;
    const now = new Date();
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    const got = await kubeRequest(kc, { method: "GET", path: `${this.path}/${encodeURIComponent(this.opts.name)}`, timeoutMs, signal });
    if (got.status === 404) {
      const body: Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: this.opts.name, namespace: this.opts.namespace },
        spec: {
          holderIdentity: this.opts.identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      };
      const created = await kubeRequest(kc, { method: "POST", path: this.path, body, timeoutMs, signal });
      if (created.status === 409) return false;
      if (created.status !== 201 && created.status !== 200) throw KubeApiError.from(created, "create Lease");
      this.observe((created.body as Lease).spec);
      return true;
    }
    if (got.status !== 200) throw KubeApiError.from(got, "get Lease");
    const lease = got.body as Lease;
    const spec = lease.spec ?? {};
    this.observe(spec);
    const holder = spec.holderIdentity ?? "";
    const mine = holder === this.opts.identity;
    if (holder && !mine && this.observedAt + (spec.leaseDurationSeconds ?? durationSeconds) * 1000 > Date.now()) return false;
    const next: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    const put = await kubeRequest(kc, { method: "PUT", path: `${this.path}/${encodeURIComponent(this.opts.name)}`, body: next, timeoutMs, signal });
    if (put.status === 409) return false;
    if (put.status !== 200) throw KubeApiError.from(put, "update Lease");
    this.observe((put.body as Lease).spec);
    if (!mine) this.log?.info({ previous: holder || "(none)", transitions: next.spec?.leaseTransitions }, "acquired the Lease");
    return true;
  }

  /** Gives the Lease up so a standby can take it at once (client-go's release). */
  private async release(): Promise<void> {
    const kc = this.opts.kubeConfig;
    const url = `${this.path}/${encodeURIComponent(this.opts.name)}`;
    try {
      const got = await kubeRequest(kc, { method: "GET", path: url, timeoutMs: 5_000 });
      if (got.status !== 200) throw KubeApiError.from(got, "get Lease");
      const lease = got.body as Lease;
      if (lease.spec?.holderIdentity !== this.opts.identity) return;
      const now = microTime();
      const body: Lease = { ...lease, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, acquireTime: now, renewTime: now } };
      const put = await kubeRequest(kc, { method: "PUT", path: url, body, timeoutMs: 5_000 });
      if (put.status !== 200) throw KubeApiError.from(put, "release Lease");
      this.log?.info("released the Lease");
    } catch (e) {
      this.log?.warn({ err: { message: (e as Error).message } }, "could not release the Lease; a standby takes over after it expires");
    }
  }
}
