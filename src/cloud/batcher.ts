// Coalescing of single-instance reads into batched DescribeInstances calls.
//
// Concurrent `get(group, id)` calls for the same group (one group = one (credentials, region)
// pair) join one open batch of up to `maxBatch` (100, the DescribeInstances limit) distinct IDs.
// A batch is sent when both (a) its collection window (a few ms) has passed or it is full, and (b)
// `admit` — the wait for its rate-limit token — has resolved. Until it is sent or full, a batch stays
// open: reads arriving while it waits for its token join it, so when reads outpace the rate limit
// each token carries up to 100 IDs instead of one batch per window queued behind the token bucket.
// Each caller gets its own item or `null` ("not found": DescribeInstances leaves missing IDs out).
// A failed batch (or a refused admission) rejects every caller in it with the same error. A caller
// whose AbortSignal fires is detached (its ID is dropped if nobody else wants it and the batch has not
// been sent yet; a batch left without callers gives up its place in the token queue).
//
// The fetch function does the paging (`collectPages`) and its own retries, so a throttled batch is
// retried once for all its callers instead of once per caller.

export interface BatcherOptions<G, V> {
  /** Sends one batch (already admitted): returns the items found, keyed by ID. Missing IDs mean "not found". */
  fetch: (group: G, ids: readonly string[]) => Promise<ReadonlyMap<string, V>>;
  /** Stable string for a group (must not contain secrets). */
  groupKey: (group: G) => string;
  /**
   * Waits until one batch of `group` may be sent (its rate-limit token); started when the batch
   * opens, aborted when every caller has left. A rejection fails the batch. Default: no wait.
   */
  admit?: ((group: G, signal: AbortSignal) => Promise<void>) | undefined;
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

interface Batch<G, V> {
  key: string;
  group: G;
  callers: Map<string, Caller<V>[]>;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The window has passed (or the batch is full). */
  windowDone: boolean;
  /** The token has been granted. */
  admitted: boolean;
  /** Ends the token wait when every caller has left. */
  admission: AbortController;
  sent: boolean;
}

export class Batcher<G, V> {
  /** The open batch of each group (the one new IDs join). */
  private readonly open = new Map<string, Batch<G, V>>();
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
      const batch = this.open.get(key) ?? this.openBatch(key, group);
      const caller: Caller<V> = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        caller.onAbort = () => {
          this.detach(batch, id, caller);
          reject(signal.reason as Error);
        };
        signal.addEventListener("abort", caller.onAbort, { once: true });
      }
      const list = batch.callers.get(id);
      if (list) list.push(caller);
      else batch.callers.set(id, [caller]);
      if (batch.callers.size >= this.maxBatch) {
        // Full: no more IDs; it goes as soon as its token is there.
        this.close(batch);
        batch.windowDone = true;
        this.maybeSend(batch);
      }
    });
  }

  private openBatch(key: string, group: G): Batch<G, V> {
    const batch: Batch<G, V> = {
      key,
      group,
      callers: new Map(),
      timer: undefined,
      windowDone: false,
      admitted: !this.opts.admit,
      admission: new AbortController(),
      sent: false,
    };
    this.open.set(key, batch);
    batch.timer = setTimeout(() => {
      batch.timer = undefined;
      batch.windowDone = true;
      this.maybeSend(batch);
    }, this.windowMs);
    this.opts.admit?.(group, batch.admission.signal).then(
      () => {
        batch.admitted = true;
        this.maybeSend(batch);
      },
      (err: unknown) => this.fail(batch, err),
    );
    return batch;
  }

  /** Stops a batch from taking more IDs. */
  private close(batch: Batch<G, V>): void {
    if (batch.timer) clearTimeout(batch.timer);
    batch.timer = undefined;
    if (this.open.get(batch.key) === batch) this.open.delete(batch.key);
  }

  private detach(batch: Batch<G, V>, id: string, caller: Caller<V>): void {
    const list = batch.callers.get(id);
    if (list) {
      const i = list.indexOf(caller);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0 && !batch.sent) batch.callers.delete(id);
    }
    if (batch.callers.size === 0 && !batch.sent) {
      this.close(batch);
      batch.admission.abort(new Error("batch abandoned"));
    }
  }

  private maybeSend(batch: Batch<G, V>): void {
    if (batch.sent || !batch.windowDone || !batch.admitted || batch.callers.size === 0) return;
    this.close(batch);
    batch.sent = true;
    // Abort listeners stay armed while the batch is in flight: an aborted caller is rejected at
    // once and simply not settled again when the batch returns.
    const callers = batch.callers;
    this.batchesSent += 1;
    this.opts.fetch(batch.group, [...callers.keys()]).then(
      (found) => settle(callers, (c, id) => c.resolve(found.get(id) ?? null)),
      (err: unknown) => settle(callers, (c) => c.reject(err)),
    );
  }

  /** Admission refused (or abandoned): every remaining caller gets the error. */
  private fail(batch: Batch<G, V>, err: unknown): void {
    if (batch.sent) return;
    this.close(batch);
    batch.sent = true;
    settle(batch.callers, (c) => c.reject(err));
  }
}

function settle<V>(callers: Map<string, Caller<V>[]>, fn: (c: Caller<V>, id: string) => void): void {
  for (const [id, list] of callers) {
    for (const c of list) {
      if (c.onAbort) c.signal?.removeEventListener("abort", c.onAbort);
      fn(c, id);
    }
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
