/**
 * Keys that failed because a shared dependency was down (e.g. one ECS endpoint), released together
 * when it recovers. Their per-key backoff keeps them cheap while it is down (it grows to minutes);
 * releasing them on recovery keeps that backoff from delaying convergence once it is back.
 */
export class DependencyWaiters {
  /** key → the dependency it waits for (a key waits for one at a time: its last failure's). */
  private readonly waiting = new Map<string, string>();

  /** Remembers that `key` waits for `dependency`. */
  wait(dependency: string, key: string): void {
    this.waiting.set(key, dependency);
  }

  /** `key` no longer waits (it succeeded, or failed for another reason). */
  forget(key: string): void {
    this.waiting.delete(key);
  }

  isWaiting(key: string): boolean {
    return this.waiting.has(key);
  }

  /** The keys waiting for `dependency` (forgotten here; the caller re-queues them). */
  release(dependency: string): string[] {
    const keys = [...this.waiting].filter(([, d]) => d === dependency).map(([k]) => k);
    for (const k of keys) this.waiting.delete(k);
    return keys;
  }
}
