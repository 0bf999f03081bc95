/**
 * Counts Ready transitions of resources by polling them (issue 19: "Ready does not flap"). A change
 * of status counts one; a new lastTransitionTime with the same status counts two (it left and came
 * back between two polls). `flaps` counts the transitions away from True.
 */
import { cond, type Resource } from "./fleet.js";
import { sleep } from "./wait.js";

export class ReadyWatch {
  readonly last = new Map<string, { status: string; time: string | undefined }>();
  readonly flaps = new Map<string, number>();
  readonly transitions = new Map<string, number>();
  private running = true;
  private readonly loop: Promise<void>;

  /** `list` reads the resources to watch (e.g. `() => fleet.list()`); a failed read is skipped. */
  constructor(
    private readonly list: () => Promise<Resource[]>,
    private readonly intervalMs = 250,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      for (const o of await this.list().catch(() => [] as Resource[])) this.observe(o);
      await sleep(this.intervalMs);
    }
  }

  private observe(o: Resource): void {
    const c = cond(o, "Ready");
    if (!c) return;
    const key = o.metadata.name;
    const prev = this.last.get(key);
    this.last.set(key, { status: c.status, time: c.lastTransitionTime });
    if (!prev || (prev.status === c.status && prev.time === c.lastTransitionTime)) return;
    const n = prev.status === c.status ? 2 : 1;
    this.transitions.set(key, (this.transitions.get(key) ?? 0) + n);
    if (prev.status === "True") this.flaps.set(key, (this.flaps.get(key) ?? 0) + 1);
  }

  /** Transitions seen for one resource. */
  count(name: string): number {
    return this.transitions.get(name) ?? 0;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
