/**
 * When a resource comes back, as data: decisions and the error policy name a `Next`; the Cadence
 * turns it into the runtime's Action with the configured intervals and jitter. Keeping the clock
 * and the randomness here lets `decide` and `settle` stay pure.
 */
import { Action } from "../runtime/controller.js";

/** What happens to the key after this reconcile. */
export type Next =
  /** Nothing until the resource (or something it references) changes. */
  | "awaitChange"
  /** The next drift resync. */
  | "resync"
  /** Re-check soon: a change waits for an instance state (e.g. Stopped). */
  | "statePoll"
  /** Re-check after a long pause: the instance is locked. */
  | "lockedPoll";

export interface CadenceOptions {
  resyncPeriodMs: number;
  /** A ResyncSweeper (src/runtime/resync.ts) re-queues every resource each period. */
  resyncBySweeper?: boolean | undefined;
  /** Poll interval while waiting for an instance state. Default 15 s. */
  stateWaitMs?: number | undefined;
  /** Poll interval while the instance is locked. Default 10 min. */
  lockedWaitMs?: number | undefined;
  random?: (() => number) | undefined;
}

const DEFAULT_STATE_WAIT_MS = 15_000;
const DEFAULT_LOCKED_WAIT_MS = 10 * 60_000;

export class Cadence {
  private readonly random: () => number;

  constructor(private readonly opts: CadenceOptions) {
    this.random = opts.random ?? Math.random;
  }

  action(next: Next): Action {
    switch (next) {
      case "awaitChange":
        return Action.awaitChange();
      case "resync":
        return this.resync();
      case "statePoll":
        return Action.requeueAfter(this.opts.stateWaitMs ?? DEFAULT_STATE_WAIT_MS);
      case "lockedPoll":
        return Action.requeueAfter(this.opts.lockedWaitMs ?? DEFAULT_LOCKED_WAIT_MS);
    }
  }

  /** After a server-given wait, plus up to 20 % so a throttled fleet does not return in one burst. */
  retryAfter(ms: number): Action {
    return Action.requeueAfter(ms * (1 + 0.2 * this.random()));
  }

  /**
   * "Come back at the next resync". With a sweeper (the controller process) the fleet-wide round
   * re-queues every resource after one batched read, so nothing is scheduled per key; without one
   * (tests, embedding) the key is re-queued after the period, jittered ±10 %.
   */
  private resync(): Action {
    if (this.opts.resyncBySweeper) return Action.awaitChange();
    return Action.requeueAfter(this.opts.resyncPeriodMs * (0.9 + 0.2 * this.random()));
  }
}
