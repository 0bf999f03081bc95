/**
 * What the benchmark's own watch has seen of the EcsInstanceAttributes: per object its generation
 * and whether (and since when) it is Ready for that generation, plus MODIFIED-event counts and
 * times (status writes). `until` re-checks a condition on every event, so the moments it measures
 * are not rounded up to a polling interval.
 */
import type { WatchEvent } from "../../harness/kube.js";
import { WaitAborted, waitFor } from "../../harness/wait.js";

interface Tracked {
  generation: number;
  ready: boolean;
  /** When this object last became Ready (for its current generation), ms since epoch. */
  readyAt: number;
}

interface WatchedObject {
  metadata: { name: string; generation?: number };
  status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string; observedGeneration?: number }> };
}

export class Tracker {
  readonly objs = new Map<string, Tracked>();
  readyCount = 0;
  modifiedEvents = 0;
  /** Arrival times of MODIFIED events while `recordTimes` is on (status writes during idle rounds). */
  modifiedTimes: number[] = [];
  recordTimes = false;
  /**
   * When this watch first saw each object at a higher generation (a spec change), ms since epoch.
   * The controller's informer watches the same API server, so "this moment → the Modify" is the
   * controller's own share of a change's latency, without the API server's write and watch delivery.
   */
  readonly generationSeenAt = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  onEvent(ev: WatchEvent): void {
    if (ev.type === "BOOKMARK") return;
    const o = ev.object as WatchedObject;
    const name = o.metadata.name;
    const prev = this.objs.get(name);
    if (ev.type === "DELETED") {
      if (prev?.ready) this.readyCount--;
      this.objs.delete(name);
      return;
    }
    if (ev.type === "MODIFIED") {
      this.modifiedEvents++;
      if (this.recordTimes) this.modifiedTimes.push(Date.now());
    }
    const gen = o.metadata.generation ?? 0;
    if (prev && gen > prev.generation) this.generationSeenAt.set(name, Date.now());
    const cond = o.status?.conditions?.find((c) => c.type === "Ready");
    const ready = cond?.status === "True" && o.status?.observedGeneration === gen && (cond.observedGeneration ?? gen) === gen;
    const wasReady = prev?.ready ?? false;
    const t: Tracked = { generation: gen, ready, readyAt: prev?.readyAt ?? 0 };
    if (ready && !wasReady) t.readyAt = Date.now();
    this.readyCount += (ready ? 1 : 0) - (wasReady ? 1 : 0);
    this.objs.set(name, t);
    for (const l of this.listeners) l();
  }

  /** Resolves when `check()` holds (re-evaluated on every event and every 500 ms); `failIf` aborts. */
  async until(check: () => boolean, timeoutMs: number, what: string, failIf?: () => string | undefined): Promise<void> {
    await waitFor(
      what,
      () => {
        const failure = failIf?.();
        if (failure) throw new WaitAborted(failure);
        return check();
      },
      {
        timeoutMs,
        intervalMs: 500,
        subscribe: (wake) => {
          this.listeners.add(wake);
          return () => this.listeners.delete(wake);
        },
      },
    );
  }

  /** When the last of all tracked objects became Ready. */
  lastReadyAt(): number {
    return Math.max(...[...this.objs.values()].map((t) => t.readyAt));
  }
}
