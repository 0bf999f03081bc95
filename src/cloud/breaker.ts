// A circuit breaker per ECS endpoint, so an unreachable endpoint costs nothing but an error.
//
//   closed ──(N consecutive connection failures)──▶ open ──(cool-down passed)──▶ half-open
//     ▲                                               ▲                            │ one probe call
//     └────────────(probe reached the endpoint)───────┴──(probe failed to connect)─┘
//
// Only connection-level failures count (EcsError.connectionFailure: refused, reset, unresolvable,
// connect timeout). Any ECS answer, even an error, proves the endpoint reachable and closes the
// circuit. While open (and while a half-open probe is in flight) calls fail at once with the
// endpoint's last connection error, a transient error: the work queue's per-key backoff brings the
// resource back, and no worker waits on a dead region while other regions' changes queue up.
//
// Endpoints are the client pool's endpoint keys (EcsClientPool.endpointKey): one per explicit
// endpoint URL, else one per region.

import { EcsError, SyntheticCode } from "./errors.js";

export type BreakerState = "closed" | "open" | "halfOpen";

export interface BreakerTransition {
  endpoint: string;
  from: BreakerState;
  to: BreakerState;
  /** The connection failure that opened (or re-opened) the circuit. */
  cause?: EcsError | undefined;
}

export interface BreakerOptions {
  /** Consecutive connection failures that open the circuit. Default 3. */
  failureThreshold?: number | undefined;
  /** How long an open circuit fails fast before one probe call may try the endpoint (ms). Default 5000. */
  coolDownMs?: number | undefined;
  /** Called on every state change (logs, metrics). */
  onStateChange?: ((t: BreakerTransition) => void) | undefined;
  /**
   * Asks whether the endpoint answers again (e.g. any HTTP answer to an unsigned request). Run after
   * each cool-down while the circuit is open and no call came along to probe it, so recovery is
   * noticed even when every resource using the endpoint waits in a long backoff.
   */
  probe?: ((endpoint: string) => Promise<boolean>) | undefined;
  now?: (() => number) | undefined;
}

interface Circuit {
  state: BreakerState;
  failures: number;
  /** When the circuit last opened, or when the half-open probe was let through. */
  since: number;
  lastFailure: EcsError | undefined;
  timer?: ReturnType<typeof setTimeout> | undefined;
}

const DEFAULT_FAILURE_THRESHOLD = 3;
const DEFAULT_COOL_DOWN_MS = 5_000;

export class CircuitBreakers {
  private readonly circuits = new Map<string, Circuit>();
  private readonly threshold: number;
  private readonly coolDownMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: BreakerOptions = {}) {
    this.threshold = Math.max(1, opts.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD);
    this.coolDownMs = opts.coolDownMs ?? DEFAULT_COOL_DOWN_MS;
    this.now = opts.now ?? Date.now;
  }

  state(endpoint: string): BreakerState {
    return this.circuits.get(endpoint)?.state ?? "closed";
  }

  /**
   * Lets a call to `endpoint` go ahead, or throws (fail fast) while the circuit is open. After the
   * cool-down one call is let through as the probe; the others keep failing fast until it reports.
   * A probe that never reports (aborted before the call) is replaced after another cool-down.
   */
  admit(endpoint: string, action: string): void {
    const c = this.circuits.get(endpoint);
    if (!c || c.state === "closed") return;
    if (this.now() - c.since < this.coolDownMs) throw this.fastFailure(c, action);
    c.since = this.now();
    if (c.state === "open") this.move(endpoint, c, "halfOpen");
  }

  /** The call got an answer from ECS (success or an ECS error): the endpoint is reachable. */
  reached(endpoint: string): void {
    const c = this.circuits.get(endpoint);
    if (!c) return;
    c.failures = 0;
    c.lastFailure = undefined;
    if (c.state !== "closed") this.move(endpoint, c, "closed");
  }

  /** The call could not reach the endpoint (`err.connectionFailure`). */
  failed(endpoint: string, err: EcsError): void {
    let c = this.circuits.get(endpoint);
    if (!c) this.circuits.set(endpoint, (c = { state: "closed", failures: 0, since: 0, lastFailure: undefined }));
    c.failures += 1;
    c.lastFailure = err;
    if (c.state === "halfOpen" || (c.state === "closed" && c.failures >= this.threshold)) {
      c.since = this.now();
      this.move(endpoint, c, "open", err);
    }
  }

  /** Stops the probe timers (shutdown). */
  close(): void {
    for (const c of this.circuits.values()) clearTimeout(c.timer);
  }

  private move(endpoint: string, c: Circuit, to: BreakerState, cause?: EcsError): void {
    const from = c.state;
    c.state = to;
    clearTimeout(c.timer);
    if (to === "open" && this.opts.probe) {
      c.timer = setTimeout(() => void this.probeNow(endpoint, c), this.coolDownMs);
      c.timer.unref?.();
    } else if (to === "halfOpen" && this.opts.probe) {
      // A call that became the probe may never report (rate-limit wait aborted, a read timeout, a
      // local error); keys waiting on this endpoint would then wait for their backoff. Re-open after
      // two cool-downs (longer than a probe's own timeout), which schedules the next timer probe.
      c.timer = setTimeout(() => this.reopenIfStuck(endpoint, c), 2 * this.coolDownMs);
      c.timer.unref?.();
    }
    this.opts.onStateChange?.({ endpoint, from, to, cause });
  }

  private reopenIfStuck(endpoint: string, c: Circuit): void {
    if (c.state !== "halfOpen") return;
    c.since = this.now();
    this.move(endpoint, c, "open", c.lastFailure);
  }

  /** The timer's probe: only while still open (a call may have become the probe meanwhile). */
  private async probeNow(endpoint: string, c: Circuit): Promise<void> {
    if (c.state !== "open") return;
    c.since = this.now();
    this.move(endpoint, c, "halfOpen");
    const ok = await this.opts.probe!(endpoint).catch(() => false);
    // A call may have reported meanwhile; then its answer stands.
    if (this.state(endpoint) !== "halfOpen") return;
    if (ok) this.reached(endpoint);
    else if (c.lastFailure) this.failed(endpoint, c.lastFailure);
  }

  /** The endpoint's last connection error, for this action: same code and message, so status does not churn. */
  private fastFailure(c: Circuit, action: string): EcsError {
    const last = c.lastFailure;
    return new EcsError({
      code: last?.code ?? SyntheticCode.Network,
      message: last?.message ?? "the ECS endpoint is unreachable",
      action,
      errorClass: "transient",
    });
  }
}

/**
 * True when `endpoint` (an endpoint key: a URL, or a host for HTTPS) gives any HTTP answer to an
 * unsigned GET: reachable again, whatever it says. Costs no API quota and needs no credentials.
 */
export async function answersHttp(endpoint: string, timeoutMs: number): Promise<boolean> {
  const url = /^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}`;
  try {
    const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}
