// In-reconcile retries for ECS calls (p-retry).
//
// Only `transient` and `waitForState` errors are retried, with a SHORT budget: a few attempts,
// exponential backoff with jitter, at most ~20 s in total. A server- or limiter-provided
// retry-after is honoured: the next attempt never starts before it; if it lies beyond the remaining
// budget we stop at once (a throttled minute is the work queue's job, not a sleeping worker's).
// terminal / notFound / auth / locked are never retried here. When the budget is spent the last
// EcsError is thrown unchanged so the work queue's per-key backoff takes over.
// An AbortSignal (shutdown) stops the waiting immediately and rejects with the signal's reason.

import pRetry from "p-retry";
import { EcsError, toEcsError } from "./errors.js";

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff (ms) before jitter. */
  minTimeoutMs: number;
  /** Backoff cap per wait (ms). */
  maxTimeoutMs: number;
  factor: number;
  /** Multiply each backoff by a random factor in [1, 2). */
  randomize: boolean;
  /** Total time budget (ms) for all attempts and waits. */
  maxRetryTimeMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  retries: 4,
  minTimeoutMs: 500,
  maxTimeoutMs: 5_000,
  factor: 2,
  randomize: true,
  maxRetryTimeMs: 20_000,
});

export interface RetryEvent {
  error: EcsError;
  attempt: number;
  /** The wait before the next attempt (ms), including any retry-after extension. */
  delayMs: number;
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy> | undefined;
  signal?: AbortSignal | undefined;
  /** Called before each wait (for logs/metrics). */
  onRetry?: ((ev: RetryEvent) => void) | undefined;
  /** Clock for the budget check of retry-after (ms). Default performance.now. */
  now?: (() => number) | undefined;
  /** Action name used when a non-EcsError escapes `fn` (converted for classification). */
  action?: string;
}

/**
 * Runs `fn` and retries it per the policy. `fn` should throw `EcsError`; anything else is
 * converted (and is terminal unless it is a recognisable network failure).
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...opts.policy };
  const now = opts.now ?? (() => performance.now());
  const start = now();
  const signal = opts.signal;
  const action = opts.action ?? "unknown";

  return pRetry(
    async (attempt) => {
      try {
        return await fn(attempt);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (isAbort(err)) throw err;
        throw toEcsError(err, action);
      }
    },
    {
      retries: policy.retries,
      minTimeout: policy.minTimeoutMs,
      maxTimeout: policy.maxTimeoutMs,
      factor: policy.factor,
      randomize: policy.randomize,
      maxRetryTime: policy.maxRetryTimeMs,
      signal,
      shouldRetry: ({ error }) => error instanceof EcsError && error.retryable,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft, retryDelay }) => {
        if (!(error instanceof EcsError) || !error.retryable || retriesLeft <= 0) return;
        const after = error.retryAfterMs ?? 0;
        if (after > retryDelay) {
          const remaining = policy.maxRetryTimeMs - (now() - start);
          // Waiting past the budget would only hold a worker; fail now, the queue backs off.
          if (after > remaining) throw error;
          opts.onRetry?.({ error, attempt: attemptNumber, delayMs: after });
          // p-retry then waits `retryDelay` more; wait the difference here.
          await sleep(after - retryDelay, signal);
          return;
        }
        opts.onRetry?.({ error, attempt: attemptNumber, delayMs: retryDelay });
      },
    },
  );
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === "AbortError";
}

/** setTimeout as a promise that rejects with the signal's reason when aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
