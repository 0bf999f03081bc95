/** The emulator's call log as the benchmark reads it: pulled incrementally, filtered by time and action. */
import type { CallRecord, EmulatorAdmin } from "../../harness/emulator.js";

export class Calls {
  readonly all: CallRecord[] = [];
  private lastSeq = 0;
  constructor(private readonly admin: EmulatorAdmin) {}

  /** Pulls the records the emulator logged since the last drain. */
  async drain(): Promise<void> {
    for (;;) {
      const batch = await this.admin.callLog({ since: this.lastSeq, limit: 100_000 });
      if (batch.length === 0) return;
      // `limit` keeps the newest; with since set and < limit new records this is all of them.
      this.all.push(...batch);
      this.lastSeq = batch.at(-1)!.seq;
      if (batch.length < 100_000) return;
    }
  }

  /** Arrival time at the emulator (ms): the record's time is when it answered. */
  static arrival(r: CallRecord): number {
    return Date.parse(r.time) - r.durationMs;
  }

  between(from: number, to: number): CallRecord[] {
    return this.all.filter((r) => {
      const t = Calls.arrival(r);
      return t >= from && t < to;
    });
  }
}

export function byAction(records: readonly CallRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) out[r.action] = (out[r.action] ?? 0) + 1;
  return out;
}

/** InstanceIds per DescribeInstances call. */
export function idsPerDescribeInstances(records: readonly CallRecord[]): number[] {
  return records.filter((r) => r.action === "DescribeInstances").map((r) => (JSON.parse(r.params["InstanceIds"] ?? "[]") as string[]).length);
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
}

export const throttled = (records: readonly CallRecord[]): number => records.filter((r) => r.code.includes("Throttling")).length;
export const describes = (records: readonly CallRecord[]): CallRecord[] => records.filter((r) => r.action.startsWith("Describe"));
export const modifies = (records: readonly CallRecord[]): CallRecord[] => records.filter((r) => r.action === "ModifyInstanceAttribute");
