/**
 * Keys that failed because a shared dependency was down (e.g. one ECS endpoint), released together
 * when it recovers. Their per-key backoff keeps them cheap while it is down (it grows to minutes);
 * releasing them on recovery keeps that backoff from delaying convergence once it is back.
 */
export class DependencyWaiters {
  private readonly waiting = new Map<string, Set<string>>();

  /** Remembers that `key` waits for `dependency`. */
  wait(dependency: string, key: string): void {
    let keys = this.waiting.get(dependency);
    if (!keys) this.waiting.set(dependency, (keys = new Set()));
    keys.add(key);
  }

  /** The keys waiting for `dependency` (forgotten here; the caller re-queues them). */
  release(dependency: string): string[] {
    const keys = this.waiting.get(dependency);
    this.waiting.delete(dependency);
    return keys ? [...keys] : [];
  }
}
