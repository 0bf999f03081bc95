// The facade the reconciler uses: batched, rate-limited, retried, measured ECS access.
//
//   const ecs = new EcsCloud({ endpoint, registry, logger });
//   const inst = await ecs.getInstance({ credentials, regionId }, "i-…", { nicQueue: true }, signal);
//   const { requestId } = await ecs.modifyInstanceAttribute(target, { instanceId, instanceName }, signal);
//
// Every request (`rpc`): the endpoint's circuit breaker (fails fast while the endpoint is
// unreachable) → client-side token bucket per (account, region, action), in the normal lane or, for
// a resync round's read-ahead, the background lane (a batched read takes its token while the batch
// is still open: batcher.ts) → the RPC call (client.ts: the official core's generic call, its
// retries off, explicit timeouts) → metrics → errors converted to EcsError, once (classified,
// secrets scrubbed) → on Throttling* the bucket pauses → reads only: a short in-call retry of
// transient answers (retry.ts) → the EcsError is thrown; the reconciler records it and the work
// queue's error policy retries.

import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { type ExtraRead, FIELD_ROWS, putAt, valueAt } from "../api/fields.js";
import { Batcher, chunk, collectPages } from "./batcher.js";
import {
  credentialSecrets,
  credentialsCacheId,
  credentialsIdentity,
  DEFAULT_CONNECT_TIMEOUT_MS,
  EcsClientPool,
  type ClientPoolOptions,
  type EcsApi,
  type EcsCredentials,
  type EndpointChoice,
} from "./client.js";
import { answersHttp, type BreakerOptions, CircuitBreakers } from "./breaker.js";
import { EcsError, SyntheticCode, toEcsError } from "./errors.js";
import { createEcsMetrics, type EcsMetrics } from "./metrics.js";
import {
  attributeFlagFrom,
  modifyFields,
  modifySecrets,
  deepFreeze,
  normaliseInstance,
  primaryQueueNumberFrom,
  type ModifyRequest,
  type ObservedInstance,
  type RawInstance,
  type ReadExtras,
} from "./model.js";
import { type Lane, RateLimiter, RateLimitWaitError, type BucketKey, type RateLimiterOptions, type RateSpec } from "./rate-limit.js";
import { DEFAULT_RETRY_POLICY, withRetry, type RetryPolicy } from "./retry.js";
import { type EcsAction, type RpcParams, toModelKeys } from "./rpc.js";

// The parts of the answers read here, in the generated models' key casing (rpc.ts `toModelKeys`).
interface DescribeInstancesBody {
  nextToken?: string;
  instances?: { instance?: RawInstance[] };
}
interface DescribeUserDataBody {
  userData?: string;
}
interface NetworkInterfacesBody {
  nextToken?: string;
  networkInterfaceSets?: { networkInterfaceSet?: { networkInterfaceId?: string; type?: string; queueNumber?: number }[] };
}
interface ModifyBody {
  requestId?: string;
}

/** Options of one `rpc` call. */
interface RpcCallOptions {
  /** Secret parameter values, scrubbed from error text. */
  secrets?: readonly string[] | undefined;
  signal?: AbortSignal | undefined;
  /** The rate-limit lane to wait in (rate-limit.ts); default normal. */
  lane?: Lane | undefined;
  /** The first attempt's token was already taken (a batch admitted by the batcher); retries take their own. */
  admitted?: boolean | undefined;
}

/** How a getInstance may be answered. */
export interface GetInstanceOptions {
  /**
   * A resync round's observation (≤ snapshotTtlMs old, none since a Modify of the instance) may
   * answer this read and stays for the next such read; without it the observation answers once.
   * The reconciler asks for it only for a resource that was in sync (src/reconciler/decide.ts).
   */
  reuseRoundObservation?: boolean | undefined;
}

/** Where to send a call: which credentials, which region, and a provider config's endpoint choice. */
export interface EcsTarget {
  credentials: EcsCredentials;
  regionId: string;
  /** Absent: the controller's endpoints. Precedence: src/cloud/client.ts header. */
  endpoint?: EndpointChoice | undefined;
}

/** Pages a findInstances call may walk: 100,000 instances at 100 a page (a batch read stops at 50). */
const DISCOVERY_MAX_PAGES = 1000;

/** DescribeInstances filters for findInstances: all given ones must match (tags: every key with its value). */
export interface InstanceFilter {
  tags?: Readonly<Record<string, string>> | undefined;
  vpcId?: string | undefined;
  instanceIds?: readonly string[] | undefined;
}

/** One instance found by findInstances: the observed attributes plus its tags (key → value). */
export interface FoundInstance {
  observed: ObservedInstance;
  tags: Record<string, string>;
}

export const DEFAULT_RATE: RateSpec = Object.freeze({ qps: 10, burst: 20 });

export interface EcsCloudOptions extends ClientPoolOptions {
  /** Token bucket per (account, region, action). Default 10 QPS, burst 20 for every action. */
  rateLimit?: Partial<Omit<RateLimiterOptions, "default">> & { default?: RateSpec | undefined };
  /** DescribeInstances collection window (ms). Default 5. */
  batchWindowMs?: number | undefined;
  /** IDs per DescribeInstances call (≤ 100). Default 100. */
  maxBatch?: number | undefined;
  /** In-call retry policy for reads (see retry.ts). */
  retry?: Partial<RetryPolicy> | undefined;
  /** Per-endpoint circuit breaker (see breaker.ts). */
  breaker?: Omit<BreakerOptions, "onStateChange"> | undefined;
  /** Prometheus registry for ecs_api_* metrics; unset → no metrics. */
  registry?: Registry | undefined;
  logger?: Logger | undefined;
  /** How long a prefetched observation may stand in for a read (ms). Default 120 000. */
  snapshotTtlMs?: number | undefined;
  /** Inject a client pool (tests). */
  pool?: EcsClientPool | undefined;
}

export class EcsCloud {
  readonly pool: EcsClientPool;
  readonly limiter: RateLimiter;
  private readonly batcher: Batcher<EcsTarget, ObservedInstance>;
  /** Primary-ENI queue counts, batched by ENI ID (DescribeNetworkInterfaces takes 100 IDs). */
  private readonly eniBatcher: Batcher<EcsTarget, number>;
  private readonly metrics: EcsMetrics;
  private readonly retryPolicy: RetryPolicy;
  readonly breakers: CircuitBreakers;
  private readonly recoveryListeners: Array<(endpoint: string) => void> = [];
  private readonly log: Logger | undefined;
  private readonly shutdown = new AbortController();
  private readonly maxBatch: number;
  /**
   * Observations read ahead by `prefetch` (a resync round's fleet-wide read), keyed group|id.
   * Each is used once by the next getInstance of that instance, and only while fresh.
   */
  private readonly snapshots = new Map<string, { obs: ObservedInstance | null; at: number }>();
  private readonly snapshotTtlMs: number;
  /** When the last Modify of each instance (group|id) returned: older snapshots are stale. */
  private readonly lastWrite = new Map<string, number>();

  private readonly limiterOptions: RateLimiterOptions;
  /** Accounts with a provider config's own per-action rates (`setAccountRates`): their own buckets. */
  private readonly accountLimiters = new Map<string, RateLimiter>();

  constructor(opts: EcsCloudOptions = {}) {
    this.pool = opts.pool ?? new EcsClientPool(opts);
    this.limiterOptions = { ...opts.rateLimit, default: opts.rateLimit?.default ?? DEFAULT_RATE };
    this.limiter = new RateLimiter(this.limiterOptions);
    this.metrics = createEcsMetrics(opts.registry);
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.log = opts.logger;
    this.breakers = new CircuitBreakers({
      probe: (endpoint) => answersHttp(endpoint, opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
      ...opts.breaker,
      onStateChange: ({ endpoint, from, to, cause }) => {
        this.metrics.circuit(endpoint, to);
        if (to === "closed") for (const fn of this.recoveryListeners) fn(endpoint);
        const fields = { endpoint, from, to, code: cause?.code };
        if (to === "open") this.log?.warn(fields, "ECS endpoint unreachable; calls to it fail fast until a probe gets through");
        else this.log?.info(fields, to === "closed" ? "ECS endpoint reachable again" : "probing ECS endpoint");
      },
    });
    this.maxBatch = Math.min(100, opts.maxBatch ?? 100);
    this.snapshotTtlMs = opts.snapshotTtlMs ?? 120_000;
    this.batcher = new Batcher<EcsTarget, ObservedInstance>({
      windowMs: opts.batchWindowMs ?? 5,
      maxBatch: this.maxBatch,
      groupKey: (t) => this.groupKey(t),
      admit: (t, signal) => this.admitBatch(t, "DescribeInstances", signal),
      fetch: (t, ids) => this.describeInstances(t, ids, this.shutdown.signal, { admitted: true }),
    });
    this.eniBatcher = new Batcher<EcsTarget, number>({
      windowMs: opts.batchWindowMs ?? 5,
      maxBatch: this.maxBatch,
      groupKey: (t) => this.groupKey(t),
      admit: (t, signal) => this.admitBatch(t, "DescribeNetworkInterfaces", signal),
      fetch: (t, ids) => this.describeEniQueues(t, ids, this.shutdown.signal, { admitted: true }),
    });
  }

  /**
   * Reads one instance; concurrent calls for the same (credentials, region) are coalesced into
   * DescribeInstances calls of up to 100 IDs. Returns null when the instance does not exist (or
   * is invisible to these credentials). `extras` add single-instance reads only when asked.
   */
  async getInstance(
    target: EcsTarget,
    instanceId: string,
    extras: ReadExtras = {},
    signal?: AbortSignal,
    opts: GetInstanceOptions = {},
  ): Promise<ObservedInstance | null> {
    const snap = this.takeSnapshot(target, instanceId, opts.reuseRoundObservation ?? false);
    const base = snap !== undefined ? snap : await this.batcher.get(target, instanceId, signal);
    if (!base) return null;
    // Callers deduplicated onto one batch entry, and the reuses of a round observation, share `base`.
    // It is frozen (describeInstances), so a shallow copy is enough: putAt replaces nested objects.
    const out: ObservedInstance = { ...base };
    try {
      await Promise.all(
        FIELD_ROWS.map(async (row) => {
          if (!("extra" in row.read) || !extras[row.read.extra]) return;
          putAt(out, row.name, await this.readExtra(row.read, target, instanceId, base, signal));
        }),
      );
    } catch (err) {
      // Deleted between the batched read and the extra read.
      if (err instanceof EcsError && err.errorClass === "notFound") return null;
      throw err;
    }
    return out;
  }

  /** One extra single-instance read; the field table (src/api/fields.ts) says which field it fills. */
  private async readExtra(
    read: { extra: ExtraRead; key: string },
    target: EcsTarget,
    instanceId: string,
    base: ObservedInstance,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    switch (read.extra) {
      case "jumboFrame":
        return attributeFlagFrom(await this.rpc<object>("DescribeInstanceAttribute", { InstanceId: instanceId }, target, { signal }), read.key);
      case "userData": {
        const body = await this.rpc<DescribeUserDataBody>("DescribeUserData", { RegionId: target.regionId, InstanceId: instanceId }, target, { signal });
        return body.userData ?? "";
      }
      case "nicQueue":
        return this.primaryQueueNumber(target, instanceId, base.primaryNetworkInterfaceId, signal);
    }
  }

  /**
   * Reads many instances ahead of their reconciles (a resync round): DescribeInstances in chunks of
   * 100, the results kept for the next getInstance of each. A round of N resources thus costs
   * ceil(N/100) DescribeInstances calls however few workers run at a time. Returns how many were read.
   */
  async prefetch(target: EcsTarget, instanceIds: readonly string[], signal?: AbortSignal): Promise<number> {
    const group = this.groupKey(target);
    const now = Date.now();
    for (const [k, v] of this.snapshots) if (now - v.at > this.snapshotTtlMs) this.snapshots.delete(k);
    for (const [k, t] of this.lastWrite) if (now - t > this.snapshotTtlMs) this.lastWrite.delete(k);
    const ids = [...new Set(instanceIds)];
    await Promise.all(
      chunk(ids, this.maxBatch).map(async (part) => {
        // The read's start time: a Modify that returned before it is reflected in the answer.
        const at = Date.now();
        // The background lane: a round's read-ahead never delays the reads of spec changes.
        const found = await this.describeInstances(target, part, signal ?? this.shutdown.signal, { lane: "background" });
        for (const id of part) this.snapshots.set(`${group}|${id}`, { obs: found.get(id) ?? null, at });
      }),
    );
    return ids.length;
  }

  /**
   * The prefetched observation of an instance, or undefined when none is fresh. Used once (the
   * round's own reconcile) unless `keep`: a caller that may reuse it (GetInstanceOptions) leaves it
   * for the next reuse until it expires or a Modify of the instance is attempted.
   */
  private takeSnapshot(target: EcsTarget, instanceId: string, keep: boolean): ObservedInstance | null | undefined {
    const key = `${this.groupKey(target)}|${instanceId}`;
    const snap = this.snapshots.get(key);
    if (!snap) return undefined;
    if (!keep) this.snapshots.delete(key);
    const fresh = Date.now() - snap.at <= this.snapshotTtlMs && snap.at > (this.lastWrite.get(key) ?? -Infinity);
    return fresh ? snap.obs : undefined;
  }

  /**
   * Reads for targets with one group key can share a DescribeInstances call (the resync sweeper groups
   * by it): same credentials, region and endpoint.
   */
  groupKey(t: EcsTarget): string {
    return `${credentialsCacheId(t.credentials)}|${t.regionId}|${this.pool.endpointKey(t.regionId, t.endpoint)}`;
  }

  /**
   * One ModifyInstanceAttribute call with exactly the fields set in `request`.
   * Password and user data never appear in logs or error messages.
   */
  async modifyInstanceAttribute(target: EcsTarget, request: ModifyRequest, signal?: AbortSignal): Promise<{ requestId: string }> {
    const writeKey = `${this.groupKey(target)}|${request.instanceId}`;
    // Whatever the outcome, the instance may now differ from any earlier observation.
    this.snapshots.delete(writeKey);
    const body = await this.rpc<ModifyBody>("ModifyInstanceAttribute", modifyParams(request), target, { secrets: modifySecrets(request), signal });
    const requestId = body.requestId ?? "";
    this.lastWrite.set(writeKey, Date.now());
    this.snapshots.delete(writeKey);
    this.log?.debug(
      { action: "ModifyInstanceAttribute", instanceId: request.instanceId, regionId: target.regionId, fields: modifyFields(request), requestId },
      "ECS instance modified",
    );
    return { requestId };
  }

  /**
   * Every instance in the region that matches `filter` (DescribeInstances with `Tag.N`, `VpcId`,
   * `InstanceIds` filters, pages of 100 via NextToken): a fleet's discovery (src/sets/) and `import`.
   * Costs ceil(matched/100) calls (more InstanceIds than 100 are asked for in chunks of 100).
   */
  async findInstances(target: EcsTarget, filter: InstanceFilter, signal?: AbortSignal): Promise<FoundInstance[]> {
    const tag = Object.entries(filter.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
    const idChunks = filter.instanceIds ? chunk([...new Set(filter.instanceIds)], this.maxBatch) : [undefined];
    const at = Date.now();
    const pages = await Promise.all(
      idChunks.map((ids) =>
        collectPages<RawInstance & { tags?: { tag?: { tagKey?: string; tagValue?: string }[] } }>(async (nextToken) => {
          const params: RpcParams = {
            RegionId: target.regionId,
            MaxResults: this.maxBatch,
            ...(tag.length > 0 ? { Tag: tag } : {}),
            ...(filter.vpcId ? { VpcId: filter.vpcId } : {}),
            ...(ids ? { InstanceIds: JSON.stringify(ids) } : {}),
            ...(nextToken ? { NextToken: nextToken } : {}),
          };
          const body = await this.rpc<DescribeInstancesBody>("DescribeInstances", params, target, { signal: signal ?? this.shutdown.signal });
          return { items: body.instances?.instance ?? [], nextToken: body.nextToken };
        }, DISCOVERY_MAX_PAGES),
      ),
    );
    const found = pages.flat().map((raw) => ({
      observed: normaliseInstance(raw, target.regionId),
      tags: Object.fromEntries((raw.tags?.tag ?? []).map((t) => [t.tagKey ?? "", t.tagValue ?? ""])),
    }));
    // Like prefetch: what discovery read stands in for the next read of each instance (its child's).
    const group = this.groupKey(target);
    for (const f of found) this.snapshots.set(`${group}|${f.observed.instanceId}`, { obs: f.observed, at });
    return found;
  }

  /** The endpoint key (the circuit breaker's) that calls for `regionId` (under a config's choice) go to. */
  endpointOf(regionId: string, choice?: EndpointChoice): string {
    return this.pool.endpointKey(regionId, choice);
  }

  /** Calls `fn(endpoint)` whenever an endpoint's open circuit closes again (a probe got an answer). */
  onEndpointRecovered(fn: (endpoint: string) => void): void {
    this.recoveryListeners.push(fn);
  }

  /**
   * A provider config's `rateLimits.perAction` for the account it resolved to (the bucket account of
   * its targets, e.g. `acct:<accountId>`): those actions get these rates, the rest the controller's.
   * Configs of one account share the buckets; undefined or empty returns the account to the shared
   * limiter. Replacing the rates starts fresh buckets.
   */
  setAccountRates(account: string, perAction: Readonly<Record<string, { qps: number; burst?: number | undefined }>> | undefined): void {
    this.accountLimiters.get(account)?.close();
    this.accountLimiters.delete(account);
    if (!perAction || Object.keys(perAction).length === 0) return;
    this.accountLimiters.set(account, new RateLimiter({ ...this.limiterOptions, perAction: { ...this.limiterOptions.perAction, ...perAction } }));
  }

  private limiterFor(account: string): RateLimiter {
    return this.accountLimiters.get(account) ?? this.limiter;
  }

  /** Rejects waiters and stops retries (shutdown). */
  close(): void {
    this.shutdown.abort(new Error("ECS client closed"));
    this.limiter.close();
    for (const l of this.accountLimiters.values()) l.close();
    this.breakers.close();
  }

  // ---- internals -------------------------------------------------------------------------------

  /**
   * The wait for one batch's token (the batcher's `admit`): in the normal lane, the same refusal as
   * any call when the wait would be too long. Skipped while the endpoint's circuit is open, so that
   * the call fails fast in `once` instead of after a token wait.
   */
  private async admitBatch(target: EcsTarget, action: EcsAction, signal: AbortSignal): Promise<void> {
    if (this.breakers.state(this.pool.endpointKey(target.regionId, target.endpoint)) === "open") return;
    // Shutdown needs no signal here: close() rejects every waiter of the limiter.
    await this.takeToken(target, action, signal, "normal");
  }

  /** Batch fetch: up to 100 IDs, NextToken paging (each page limited and retried on its own). */
  private async describeInstances(
    target: EcsTarget,
    ids: readonly string[],
    signal: AbortSignal,
    opts: Pick<RpcCallOptions, "lane" | "admitted"> = {},
  ): Promise<Map<string, ObservedInstance>> {
    const wanted = new Set(ids);
    let admitted = opts.admitted;
    const items = await collectPages<RawInstance>(async (nextToken) => {
      const params = { RegionId: target.regionId, InstanceIds: JSON.stringify(ids), MaxResults: this.maxBatch, NextToken: nextToken || undefined };
      const body = await this.rpc<DescribeInstancesBody>("DescribeInstances", params, target, { signal, lane: opts.lane, admitted });
      admitted = false;
      return { items: body.instances?.instance ?? [], nextToken: body.nextToken };
    });
    const out = new Map<string, ObservedInstance>();
    for (const raw of items) {
      if (raw.instanceId && wanted.has(raw.instanceId)) out.set(raw.instanceId, deepFreeze(normaliseInstance(raw, target.regionId)));
    }
    return out;
  }

  /**
   * The primary ENI's queue count. With the ENI ID from DescribeInstances the read is batched
   * (DescribeNetworkInterfaces with up to 100 `NetworkInterfaceId.N`); without it, one call per
   * instance (`InstanceId`, `Type=Primary`).
   */
  private async primaryQueueNumber(
    target: EcsTarget,
    instanceId: string,
    eniId: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<number | undefined> {
    if (eniId) {
      const q = await this.eniBatcher.get(target, eniId, signal);
      if (q !== null) return q;
    }
    const params = { RegionId: target.regionId, InstanceId: instanceId, Type: "Primary" };
    const body = await this.rpc<NetworkInterfacesBody>("DescribeNetworkInterfaces", params, target, { signal });
    return primaryQueueNumberFrom(body.networkInterfaceSets?.networkInterfaceSet ?? []);
  }

  private async describeEniQueues(
    target: EcsTarget,
    ids: readonly string[],
    signal: AbortSignal,
    opts: Pick<RpcCallOptions, "admitted"> = {},
  ): Promise<Map<string, number>> {
    const wanted = new Set(ids);
    let admitted = opts.admitted;
    const items = await collectPages<{ networkInterfaceId?: string | undefined; queueNumber?: number | undefined }>(async (nextToken) => {
      const params = { RegionId: target.regionId, NetworkInterfaceId: [...ids], MaxResults: this.maxBatch, NextToken: nextToken || undefined };
      const body = await this.rpc<NetworkInterfacesBody>("DescribeNetworkInterfaces", params, target, { signal, admitted });
      admitted = false;
      return { items: body.networkInterfaceSets?.networkInterfaceSet ?? [], nextToken: body.nextToken };
    });
    const out = new Map<string, number>();
    for (const e of items) {
      if (e.networkInterfaceId && wanted.has(e.networkInterfaceId) && typeof e.queueNumber === "number") out.set(e.networkInterfaceId, e.queueNumber);
    }
    return out;
  }

  /**
   * One ECS action, parameters under their API names (lists and groups nested: rpc.ts), through
   * breaker + rate limit + call + metrics + classification; reads inside the in-call retry policy.
   * Returns the JSON answer with its keys in the generated models' casing (what model.ts reads).
   */
  protected async rpc<B extends object>(action: EcsAction, params: RpcParams, target: EcsTarget, opts: RpcCallOptions = {}): Promise<Partial<B>> {
    const answer = await this.run(target, action, opts, (c) => c.call(action, params));
    const body = toModelKeys(answer.body);
    return typeof body === "object" && body !== null ? body : {};
  }

  /** Breaker + rate limit + call + metrics + classification; reads inside the in-call retry policy. */
  private run<T>(target: EcsTarget, action: EcsAction, opts: RpcCallOptions, fn: (c: EcsApi) => Promise<T>): Promise<T> {
    const { signal } = opts;
    let admitted = opts.admitted ?? false;
    const call = () => {
      const held = admitted;
      admitted = false;
      return this.once(target, action, { ...opts, admitted: held }, fn);
    };
    // A write is never repeated inside a call: the queue retries the reconcile, which reads first.
    if (!action.startsWith("Describe")) return call();
    return withRetry(call, {
      policy: this.retryPolicy,
      signal,
      onRetry: ({ error, attempt, delayMs }) =>
        this.log?.debug(
          { action, regionId: target.regionId, code: error.code, errorClass: error.errorClass, requestId: error.requestId, attempt, delayMs },
          "ECS call failed, retrying",
        ),
    });
  }

  private bucketKey(target: EcsTarget, action: EcsAction): BucketKey {
    return { account: credentialsIdentity(target.credentials), region: target.regionId, action };
  }

  /** Waits for a token of (account, region, action); a wait longer than maxWaitMs is a ClientThrottled EcsError. */
  private async takeToken(target: EcsTarget, action: EcsAction, signal: AbortSignal | undefined, lane: Lane): Promise<void> {
    try {
      const key = this.bucketKey(target, action);
      await this.limiterFor(key.account).acquire(key, signal, lane);
    } catch (err) {
      if (err instanceof RateLimitWaitError) {
        throw new EcsError({
          code: SyntheticCode.ClientThrottled,
          message: `client-side rate limit: ${action} in ${target.regionId} is paused or saturated after throttling`,
          action,
          retryAfterMs: Math.ceil(err.waitMs),
        });
      }
      throw err;
    }
  }

  private async once<T>(target: EcsTarget, action: EcsAction, opts: RpcCallOptions, fn: (c: EcsApi) => Promise<T>): Promise<T> {
    const key = this.bucketKey(target, action);
    const endpoint = this.pool.endpointKey(target.regionId, target.endpoint);
    this.breakers.admit(endpoint, action);
    if (!opts.admitted) await this.takeToken(target, action, opts.signal, opts.lane ?? "normal");
    const client = this.pool.get(target.credentials, target.regionId, target.endpoint);
    const t0 = performance.now();
    try {
      const res = await fn(client);
      this.metrics.observe(action, target.regionId, "Success", (performance.now() - t0) / 1000);
      this.limiterFor(key.account).onSuccess(key);
      this.breakers.reached(endpoint);
      return res;
    } catch (raw) {
      const err = toEcsError(raw, action, [...(opts.secrets ?? []), ...credentialSecrets(target.credentials)]);
      this.metrics.observe(action, target.regionId, err.code, (performance.now() - t0) / 1000);
      if (err.connectionFailure) this.breakers.failed(endpoint, err);
      // An ECS answer (even an error) proves the endpoint reachable; a local failure proves nothing.
      else if (err.httpStatus !== undefined) this.breakers.reached(endpoint);
      if (err.throttled) {
        const pausedMs = this.limiterFor(key.account).onThrottled(key, err.retryAfterMs);
        this.log?.warn(
          { action, regionId: target.regionId, account: key.account, code: err.code, requestId: err.requestId, pausedMs },
          "ECS throttled; pausing this action",
        );
        if (err.retryAfterMs === undefined) throw err.withRetryAfter(pausedMs);
      }
      throw err;
    }
  }
}

/**
 * ModifyInstanceAttribute parameters for `rpc`: only the fields that are set, under the field table's
 * parameter names (src/api/fields.ts): `SecurityGroupIds.N` → a list, `CpuOptions.Core` → a member.
 */
export function modifyParams(r: ModifyRequest): RpcParams {
  const params: Record<string, unknown> = { InstanceId: r.instanceId };
  for (const row of FIELD_ROWS) {
    const v = valueAt(r, row.name);
    const path = row.param
      .split(".")
      .filter((seg) => seg !== "N")
      .join(".");
    if (v !== undefined) putAt(params, path, Array.isArray(v) ? [...(v as unknown[])] : v);
  }
  return params as RpcParams;
}

export { EcsError, toEcsError };
