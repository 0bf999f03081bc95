/**
 * Fault injection and rate limits, per action ("*" = every action):
 *  - kind "error":      fail calls with a code (next N with `count`, a fraction with `rate`, or both)
 *  - kind "latency":    delay calls by `latencyMs`, or uniformly between `latencyMs` and `latencyMaxMs`,
 *                       or `latencyMs` plus an exponential tail (mean `latencyMeanMs`, capped at `latencyMaxMs`)
 *  - kind "throttle":   at most `limitPerMinute` calls per minute window and (AccessKeyId, RegionId, action);
 *                       the rest get a real `Throttling.User` (HTTP 400) with `x-acs-retry-after` (ms)
 *  - kind "badGateway": answer HTTP 502 with an HTML page (not JSON), as a broken proxy would
 *  - kind "reset":      destroy the connection without answering
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { ecsError, errorForCode, type EcsError } from "./errors.js";

export const faultSchema = z.object({
  action: z.string().min(1).default("*"),
  kind: z.enum(["error", "latency", "throttle", "badGateway", "reset"]).default("error"),
  /** kind "error": the ECS code; status and message default from the error table (else 400). */
  code: z.string().optional(),
  status: z.number().int().min(100).max(599).optional(),
  message: z.string().optional(),
  /** Apply to the next `count` matching calls only (error, badGateway, reset, latency). Unlimited if absent. */
  count: z.number().int().positive().optional(),
  /** Probability (0–1] that a matching call is affected. Default 1. */
  rate: z.number().gt(0).max(1).default(1),
  latencyMs: z.number().int().nonnegative().optional(),
  latencyMaxMs: z.number().int().nonnegative().optional(),
  /** "uniform" (default): between latencyMs and latencyMaxMs; "exponential": latencyMs + Exp(mean latencyMeanMs), capped at latencyMaxMs. */
  distribution: z.enum(["uniform", "exponential"]).default("uniform"),
  latencyMeanMs: z.number().positive().optional(),
  limitPerMinute: z.number().int().nonnegative().optional(),
  /** Throttle windows: "minute" = whole wall-clock minutes like ECS; "first-call" = 60 s from the first call. */
  window: z.enum(["minute", "first-call"]).default("minute"),
  /** Send `x-acs-retry-after` (ms until the window ends) with Throttling.User. Default true. */
  retryAfter: z.boolean().default(true),
});
export type FaultInput = z.input<typeof faultSchema>;
export type Fault = z.output<typeof faultSchema> & { id: string; hits: number };

export type FaultOutcome =
  | { type: "none"; delayMs: number }
  | { type: "error"; delayMs: number; error: EcsError }
  | { type: "badGateway"; delayMs: number }
  | { type: "reset"; delayMs: number };

export interface FaultOptions {
  random?: () => number;
  now?: () => number;
}

export class FaultInjector {
  private faults: Fault[] = [];
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(options: FaultOptions = {}) {
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  add(input: unknown): Fault {
    const parsed = faultSchema.parse(input);
    if (parsed.kind === "error" && !parsed.code) throw new Error('a fault of kind "error" needs a code');
    if (parsed.kind === "latency" && parsed.latencyMs === undefined) throw new Error('kind "latency" needs latencyMs');
    if (parsed.kind === "throttle" && parsed.limitPerMinute === undefined) {
      throw new Error('kind "throttle" needs limitPerMinute');
    }
    const fault: Fault = { ...parsed, id: randomUUID(), hits: 0 };
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  clear(): void {
    this.faults = [];
    this.windows.clear();
  }

  private applies(f: Fault, action: string): boolean {
    return (f.action === "*" || f.action === action) && (f.count === undefined || f.count > 0);
  }

  private consume(f: Fault): void {
    f.hits++;
    if (f.count !== undefined) f.count--;
  }

  /** Decides what happens to one authenticated call. Mutates counters (counts, windows). */
  evaluate(action: string, accessKeyId: string, regionId: string): FaultOutcome {
    let delayMs = 0;
    for (const f of this.faults) {
      if (f.kind !== "latency" || !this.applies(f, action) || this.random() >= f.rate) continue;
      const min = f.latencyMs ?? 0;
      if (f.distribution === "exponential") {
        const tail = -Math.log(1 - this.random()) * (f.latencyMeanMs ?? 100);
        const cap = f.latencyMaxMs !== undefined ? Math.max(0, f.latencyMaxMs - min) : Number.POSITIVE_INFINITY;
        delayMs += min + Math.round(Math.min(tail, cap));
      } else {
        const max = Math.max(min, f.latencyMaxMs ?? min);
        delayMs += max > min ? min + Math.floor(this.random() * (max - min + 1)) : min;
      }
      this.consume(f);
    }
    for (const f of this.faults) {
      if (f.kind !== "throttle" || !this.applies(f, action)) continue;
      const key = `${f.id}\u0000${accessKeyId}\u0000${regionId}\u0000${action}`;
      const now = this.now();
      let w = this.windows.get(key);
      const start = f.window === "minute" ? now - (now % 60_000) : w && now - w.start < 60_000 ? w.start : now;
      if (!w || w.start !== start) {
        w = { start, count: 0 };
        this.windows.set(key, w);
      }
      if (w.count >= (f.limitPerMinute ?? 0)) {
        f.hits++;
        const headers: Record<string, string> = f.retryAfter ? { "x-acs-retry-after": String(Math.max(1, w.start + 60_000 - now)) } : {};
        return { type: "error", delayMs, error: ecsError("Throttling.User", undefined, headers) };
      }
      w.count++;
    }
    for (const f of this.faults) {
      if (f.kind === "latency" || f.kind === "throttle" || !this.applies(f, action)) continue;
      if (this.random() >= f.rate) continue;
      this.consume(f);
      if (f.kind === "badGateway") return { type: "badGateway", delayMs };
      if (f.kind === "reset") return { type: "reset", delayMs };
      return { type: "error", delayMs, error: errorForCode(f.code!, f.status, f.message) };
    }
    return { type: "none", delayMs };
  }
}
