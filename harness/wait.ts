/**
 * The one polling wait of the harness (tests, bench, demo, control plane start-up).
 *
 *   await waitFor("b leads", () => b.isLeader(), 30_000);                       // timeout only
 *   const obj = await waitFor("ready", async () => ((await get()).ok ? obj : undefined), { timeoutMs: 60_000, intervalMs: 250, diag: () => logs() });
 *   await waitFor("log line", () => pattern.test(out), { subscribe: (wake) => onData(wake) });   // event-driven
 *
 * `check` is called until it returns a truthy value, which `waitFor` returns. An error thrown by
 * `check` is remembered and polling goes on (an API server that is restarting answers with errors);
 * the timeout message names the last one. Throw `WaitAborted` to stop at once (a process exited).
 */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Thrown by a check to end the wait immediately with this error. */
export class WaitAborted extends Error {
  override name = "WaitAborted";
}

export interface WaitOptions {
  /** Default 60 s. */
  timeoutMs?: number;
  /** Time between checks, default 100 ms. */
  intervalMs?: number;
  /** Appended to the timeout error (logs, the state last seen). */
  diag?: () => string | Promise<string>;
  /**
   * Re-check as soon as something happens (a log line, a watch event) instead of waiting for the
   * next interval: called once with a `wake` function, returns an unsubscribe function.
   */
  subscribe?: (wake: () => void) => () => void;
}

type Falsy = undefined | null | false | 0 | "";

export async function waitFor<T>(what: string, check: () => T | Falsy | Promise<T | Falsy>, options: WaitOptions | number = {}): Promise<T> {
  const opts = typeof options === "number" ? { timeoutMs: options } : options;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  // A wake-up that arrives while a check runs must not be lost: it makes the next sleep end at once.
  let woken: boolean;
  let endSleep: (() => void) | undefined;
  const unsubscribe = opts.subscribe?.(() => {
    woken = true;
    endSleep?.();
  });
  let last: unknown;
  try {
    for (;;) {
      woken = false;
      try {
        const v = await check();
        if (v) return v;
      } catch (e) {
        if (e instanceof WaitAborted) throw e;
        last = e;
      }
      const left = deadline - Date.now();
      if (left < 0) {
        const cause = last === undefined ? "" : `: ${last instanceof Error ? last.message : JSON.stringify(last)}`;
        const diag = opts.diag ? `\n${await opts.diag()}` : "";
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}${diag}`);
      }
      if (woken) continue;
      await new Promise<void>((r) => {
        const timer = setTimeout(r, Math.min(intervalMs, left + 1));
        endSleep = () => {
          clearTimeout(timer);
          r();
        };
      });
      endSleep = undefined;
    }
  } finally {
    unsubscribe?.();
  }
}
