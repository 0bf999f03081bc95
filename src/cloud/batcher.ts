// Coalescing of single-instance reads into batched DescribeInstances calls.
//
// Concurrent `get(group, id)` calls for the same group (one group = one (credentials, region)
// pair) are collected for a short window (a few ms) and sent as one batch of up to `maxBatch`
// (100, the DescribeInstances limit) distinct IDs; a batch is sent early as soon as it is full.
// Each caller gets its own item or `null` ("not found": DescribeInstances leaves missing IDs out).
// A failed batch rejects every caller in it with the same error. A caller whose AbortSignal fires
// is detached (its ID is dropped if nobody else wants it and the batch has not been sent yet).
//
// The fetch function does the paging (`collectPages`) and its own retries, so a throttled batch is
// retried once for all its callers instead of once per caller.

export interface BatcherOptions<G, V> {
  /** Sends one batch: returns the items found, keyed by ID. Missing IDs mean "not found". */
  fetch: (group: G, ids: readonly string[]) => Promise<ReadonlyMap<string, V>>;
  /** Stable string for a group (must not contain secrets). */
  groupKey: (group: G) => string;
  /** Collection window in ms. Default 5. */
  windowMs?: number;
  /** Max distinct IDs per batch. Default 100. */
  maxBatch?: number;
}

interface Caller<V> {
  resolve: (v: V | null) => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Pending<G, V> {
  group: G;
  callers: Map<string, Caller<V>[]>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class Batcher<G, V> {
  private readonly pending = new Map<string, Pending<G, V>>();
  private readonly windowMs: number;
  private readonly maxBatch: number;
  /** Batches sent so far (for tests and debugging). */
  batchesSent = 0;

  constructor(private readonly opts: BatcherOptions<G, V>) {
    this.windowMs = opts.windowMs ?? 5;
    this.maxBatch = opts.maxBatch ?? 100;
    if (!(this.maxBatch >= 1)) throw new Error("maxBatch must be >= 1");
  }

  get(group: G, id: string, signal?: AbortSignal): Promise<V | null> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const key = this.opts.groupKey(group);
    return new Promise<V | null>((resolve, reject) => {
      let p = this.pending.get(key);
      if (!p) {
        p = { group, callers: new Map(), timer: undefined };
        this.pending.set(key, p);
      }
      const pend = p;
      const caller: Caller<V> = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        caller.onAbort = () => {
          const list = pend.callers.get(id);
          if (list) {
            const i = list.indexOf(caller);
            if (i >= 0) list.splice(i, 1);
            if (list.length === 0) pend.callers.delete(id);
          }
          if (pend.callers.size === 0 && this.pending.get(key) === pend) {
            if (pend.timer) clearTimeout(pend.timer);
            this.pending.delete(key);
          }
          reject(signal.reason as Error);
        };
        signal.addEventListener("abort", caller.onAbort, { once: true });
      }
      const list = pend.callers.get(id);
      if (list) list.push(caller);
      else pend.callers.set(id, [caller]);

      if (pend.callers.size >= this.maxBatch) {
        this.flush(key, pend);
      } else if (!pend.timer) {
        pend.timer = setTimeout(() => this.flush(key, pend), this.windowMs);
      }
    });
  }

  private flush(key: string, p: Pending<G, V>): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = undefined;
    if (this.pending.get(key) === p) this.pending.delete(key);
    if (p.callers.size === 0) return;
    const callers = p.callers;
    // Abort listeners stay armed while the batch is in flight: an aborted caller is rejected at
    // once and simply not settled again when the batch returns.
    const ids = [...callers.keys()];
    this.batchesSent += 1;
    const settle = (fn: (c: Caller<V>, id: string) => void) => {
      for (const [id, list] of callers) {
        for (const c of list) {
          if (c.onAbort) c.signal?.removeEventListener("abort", c.onAbort);
          fn(c, id);
        }
      }
    };
    this.opts.fetch(p.group, ids).then(
      (found) => settle((c, id) => c.resolve(found.get(id) ?? null)),
      (err: unknown) => settle((c) => c.reject(err)),
    );
  }
}

export interface Page<T> {
  items: readonly T[];
  nextToken?: string | undefined;
}

/**
 * Follows NextToken until it is empty. Stops with an error after `maxPages` (a misbehaving server
 * returning the same token forever must not loop).
 */
export async function collectPages<T>(fetchPage: (nextToken: string | undefined) => Promise<Page<T>>, maxPages = 50): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  const seen = new Set<string>();
  for (let i = 0; i < maxPages; i++) {
    const page = await fetchPage(token);
    out.push(...page.items);
    const next = page.nextToken;
    if (!next) return out;
    if (seen.has(next)) throw new Error("paging did not advance (NextToken repeated)");
    seen.add(next);
    token = next;
  }
  throw new Error(`paging exceeded ${maxPages} pages`);
}

/** Splits a list into chunks of at most `size`. */
export function chunk<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
