/** Call log (secrets masked) and per-action, per-code counters. */

/** Parameters whose values never leave the emulator. */
export const SECRET_PARAMS = new Set(["Password", "UserData", "RemoteConnectionOptions.Password", "SecurityToken", "Signature", "OIDCToken"]);

export const MASK = "******";

export function maskParams(entries: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries) out[k] = SECRET_PARAMS.has(k) ? MASK : v;
  return out;
}

export interface CallRecord {
  seq: number;
  time: string;
  action: string;
  /** Business parameters; Password, UserData and other secrets are masked. */
  params: Record<string, string>;
  /** "OK" on success, else the ECS code (or "BadGateway" / "ConnectionReset" for those faults). */
  code: string;
  httpStatus: number;
  durationMs: number;
  requestId: string;
  /** The AccessKeyId the request presented; for calls rejected before verification, the unverified claim. */
  accessKeyId: string;
  signatureVersion: "v3" | "v1" | "";
  userAgent: string;
  /** Value of the `x-emulator-client` request header, if any (lets tests tell writers apart). */
  clientId: string;
}

export interface CallQuery {
  action?: string;
  code?: string;
  clientId?: string;
  /** The key the call presented (verified or not). */
  accessKeyId?: string;
  /** Only records with seq greater than this. */
  since?: number;
  limit?: number;
}

export class CallLog {
  private records: CallRecord[] = [];
  private seq = 0;
  private readonly counters = new Map<string, Map<string, number>>();

  constructor(private readonly capacity = 10_000) {}

  nextSeq(): number {
    return ++this.seq;
  }

  add(record: CallRecord): void {
    this.records.push(record);
    if (this.records.length > this.capacity) this.records.splice(0, this.records.length - this.capacity);
    let byCode = this.counters.get(record.action);
    if (!byCode) {
      byCode = new Map();
      this.counters.set(record.action, byCode);
    }
    byCode.set(record.code, (byCode.get(record.code) ?? 0) + 1);
  }

  query(q: CallQuery = {}): CallRecord[] {
    let out = this.records.filter(
      (r) =>
        (q.action === undefined || r.action === q.action) &&
        (q.code === undefined || r.code === q.code) &&
        (q.clientId === undefined || r.clientId === q.clientId) &&
        (q.accessKeyId === undefined || r.accessKeyId === q.accessKeyId) &&
        (q.since === undefined || r.seq > q.since),
    );
    if (q.limit !== undefined) out = out.slice(-q.limit);
    return out;
  }

  /** `{ [action]: { [code]: count, total } }` */
  countersSnapshot(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [action, byCode] of this.counters) {
      let total = 0;
      const row: Record<string, number> = {};
      for (const [code, n] of byCode) {
        row[code] = n;
        total += n;
      }
      row["total"] = total;
      out[action] = row;
    }
    return out;
  }

  clear(): void {
    this.records = [];
    this.counters.clear();
  }
}
