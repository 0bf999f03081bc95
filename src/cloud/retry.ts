// In-call retries for ECS reads (p-retry), deliberately narrow.
//
// When to try again is the error policy's business (src/reconciler/error-policy.ts, applied by the
// work queue), not a sleeping worker's. The only exception kept here: a `transient` answer to a READ
// (a 5xx, a gateway's HTML page, a throttled call whose retry-after falls inside the budget) is
// retried a couple of times within ~3 s, because a read is safe to repeat and one blip should not
// cost the resource a trip through the queue. Never retried in the call:
// - writes (ecs.ts does not wrap them): the queue retries the whole reconcile, which re-reads first;
// - waitForState: the state changes in minutes, the policy polls;
// - auth / terminal / notFound / locked: retrying cannot help;
// - connection failures (refused, reset, connect timeout): the endpoint's circuit breaker
//   (breaker.ts) decides, so an unreachable region never holds a worker.
// The last EcsError is thrown unchanged. An AbortSignal stops waiting at once (rejects with its reason).

import pRetry from "p-retry";
import { EcsError } from "./errors.js";

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
  retries: 2,
  minTimeoutMs: 300,
  maxTimeoutMs: 1_500,
  factor: 2,
  randomize: true,
  maxRetryTimeMs: 3_000,
});

/** What may be retried inside one call: a transient ECS answer, not a failure to connect. */
function retriableInCall(err: EcsError): boolean {
  return err.errorClass === "transient" && !err.connectionFailure;
}

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
  /** Which errors to retry. Default `retriableInCall`. */
  shouldRetry?: ((err: EcsError) => boolean) | undefined;
}

/**
 * Runs `fn` and retries it per the policy. `fn` throws `EcsError`s (ecs.ts converts what the SDK
 * throws, once); anything else (an abort, a bug) is rethrown at once, never retried.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...opts.policy };
  const now = opts.now ?? (() => performance.now());
  const start = now();
  const signal = opts.signal;
  const retriable = (e: unknown): e is EcsError => e instanceof EcsError && (opts.shouldRetry ?? retriableInCall)(e);

  return pRetry(
    async (attempt) => {
      try {
        return await fn(attempt);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        throw err;
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
      shouldRetry: ({ error }) => retriable(error),
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft, retryDelay }) => {
        if (!retriable(error) || retriesLeft <= 0) return;
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

/** setTimeout as a promise that rejects with the signal's reason when aborted. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
