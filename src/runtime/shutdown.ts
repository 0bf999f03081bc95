/**
 * Graceful shutdown on SIGTERM/SIGINT: ordered steps under one overall timeout, then log flush and
 * exit 0. A second signal exits at once with code 1 (controller-runtime does the same).
 *
 *   const sd = new Shutdown({ logger, timeoutMs: cfg.shutdownTimeout, steps: [
 *     { name: "stop informers",   run: () => Promise.all(informers.map((i) => i.stop())) },
 *     { name: "drain workers",    run: (leftMs) => controller.stop(leftMs) },   // finish in-flight
 *     { name: "release lease",    run: () => elector.stop() },
 *     { name: "flush events",     run: () => recorder.close() },
 *     { name: "close http",       run: () => servers.close() },
 *   ]}).install();
 *   sd.signal   // aborted as soon as shutdown starts
 *
 * Each step receives the milliseconds left of the overall budget; a step that throws or overruns
 * is logged and the next one still runs (a stuck watch must not keep the Lease held). When the
 * budget is spent the remaining steps still get a short grace (1 s each) — releasing the Lease is
 * what lets a standby take over at once.
 */
import type { Logger } from "pino";
import { flushLogger } from "./logging.js";

export interface ShutdownStep {
  name: string;
  run: (remainingMs: number) => unknown;
}

export interface ShutdownOptions {
  logger: Logger;
  /** Overall budget (default 30 s, controller-runtime's GracefulShutdownTimeout). */
  timeoutMs?: number;
  steps: ShutdownStep[];
  /** Default process.exit. */
  exit?: (code: number) => void;
  signals?: NodeJS.Signals[];
}

export class Shutdown {
  private readonly controller = new AbortController();
  private running: Promise<void> | undefined;
  private readonly handlers = new Map<NodeJS.Signals, () => void>();

  constructor(private readonly opts: ShutdownOptions) {}

  /** Aborted when shutdown begins. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  install(): this {
    for (const sig of this.opts.signals ?? (["SIGTERM", "SIGINT"] as NodeJS.Signals[])) {
      const h = () => {
        if (this.running) {
          this.opts.logger.warn({ signal: sig }, "second signal: exiting now");
          (this.opts.exit ?? process.exit)(1);
          return;
        }
        void this.shutdown(`signal ${sig}`);
      };
      this.handlers.set(sig, h);
      process.on(sig, h);
    }
    return this;
  }

  uninstall(): void {
    for (const [sig, h] of this.handlers) process.off(sig, h);
    this.handlers.clear();
  }

  /** Runs the steps once (later calls return the same promise), then exits with `code`. */
  shutdown(reason: string, code = 0): Promise<void> {
    this.running ??= this.run(reason, code);
    return this.running;
  }

  private async run(reason: string, code: number): Promise<void> {
    const log = this.opts.logger;
    const budget = this.opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + budget;
    log.info({ reason, timeoutMs: budget }, "shutting down");
    this.controller.abort();
    for (const step of this.opts.steps) {
      const left = Math.max(deadline - Date.now(), 1_000);
      const started = Date.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const outcome = await Promise.race([
          Promise.resolve(step.run(left)).then(() => "done" as const),
          new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), left))),
        ]);
        if (outcome === "timeout") log.warn({ step: step.name, ms: left }, "shutdown step timed out");
        else log.debug({ step: step.name, ms: Date.now() - started }, "shutdown step done");
      } catch (e) {
        log.error({ err: e, step: step.name }, "shutdown step failed");
      } finally {
        clearTimeout(timer);
      }
    }
    log.info({ ms: budget - (deadline - Date.now()) }, "shutdown complete");
    await flushLogger(log);
    this.uninstall();
    (this.opts.exit ?? process.exit)(code);
  }
}
