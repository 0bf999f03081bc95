// A token bucket for the controller's own Kubernetes writes (status patches), served in order.

/**
 * Client-side limit for our Kubernetes writes (--kube-qps / --kube-burst). client-node has no
 * limiter of its own, so without this a fleet-wide resync could burst thousands of status patches.
 */
export class KubeWriteLimiter {
  private tokens: number;
  private last = Date.now();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly qps: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Resolves when a write may go out; callers are served in order. */
  acquire(): Promise<void> {
    const next = this.chain.then(async () => {
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
      if (this.tokens < 1) {
        await new Promise((r) => setTimeout(r, ((1 - this.tokens) / this.qps) * 1000));
        this.tokens = 1;
        this.last = Date.now();
      }
      this.tokens -= 1;
    });
    this.chain = next;
    return next;
  }
}
