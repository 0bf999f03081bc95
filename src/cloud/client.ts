// ECS clients: one RPC client per (credentials identity, region, endpoint), created on first use
// and reused (the core keeps HTTP keep-alive agents per client).
//
// - Transport: `@alicloud/openapi-core`'s generic `callApi` with the Params of an RPC-style action of
//   ECS 2014-05-26 (src/cloud/rpc.ts), i.e. the official core, signer (V3 ACS3-HMAC-SHA256) and
//   credentials, exactly as the generated `@alicloud/ecs20140526` client uses them — without loading
//   that package's ~3,400 model files (issue 15). Parameters go in under their API names.
// - Timeouts are explicit (the core's 3000 ms defaults fail on a slow but healthy answer).
// - Core retries stay OFF (no `retryOptions`): retries are ours (retry.ts + the work queue).
// - Endpoint (the one place the precedence is decided: `EcsClientPool.endpointFor`):
//     1. the provider config's `endpoint.regionOverrides` entry for the region (a target's
//        `endpoint.url`, from src/cloud/endpoints.ts `ecsEndpointFor`, https rule already applied);
//     2. the controller's `--ecs-endpoint-for-region` for the region, else `--ecs-endpoint` (e.g.
//        `http://127.0.0.1:18080` → protocol http, host:port) for all regions;
//     3. the generated client's regional host (`ecs[-vpc].<region>.aliyuncs.com` or its endpoint
//        map) over HTTPS, `-vpc` by the config's `endpoint.network`, else the pool's `network`.
//   Clients, circuit breakers (`endpointKey`) and batches (EcsCloud.groupKey) are keyed by the
//   outcome, so two configs with one identity but different endpoints never share any of them.
// - Credentials: the `@alicloud/credentials` default chain (ALIBABA_CLOUD_* env, RRSA OIDC, CLI
//   profile, profile file, ECS RAM role, credentials URI), or an explicit AccessKey (+ STS token)
//   that the reconciler read from a per-resource Secret.
// - User agent: `ecs-attributes-controller/<version> pid/<pid> [instance/<id>]` so the emulator's
//   call log (and ActionTrail) can tell writers apart.

import { createHash } from "node:crypto";
import CoreModule, { $OpenApiUtil } from "@alicloud/openapi-core";
import CredentialsModule from "@alicloud/credentials";
import { RuntimeOptions } from "@darabonba/typescript";
import { type EcsAction, flattenParams, regionalHost, rpcCallParams, type RpcParams } from "./rpc.js";

// The packages are CommonJS with `exports.default = Class`. Native Node ESM gives the module object
// as the default import (class on `.default`); bundler-style interop (vitest/vite) gives the class
// itself. Accept both.
function cjsDefault<T>(mod: { default: T } | T): T {
  return typeof mod === "function" ? mod : (mod as { default: T }).default;
}
const OpenApiClient = cjsDefault(CoreModule as { default: typeof CoreModule.default } | typeof CoreModule.default);
const Credential = cjsDefault(CredentialsModule as { default: typeof CredentialsModule.default } | typeof CredentialsModule.default);

/** An action's answer: the HTTP status and the JSON body as ECS sent it (API field names). */
export interface RpcAnswer {
  statusCode: number;
  body: unknown;
}

/** What EcsCloud calls (fakes implement just this): one RPC action; errors are the core's error classes. */
export interface EcsApi {
  call(action: EcsAction, params: RpcParams): Promise<RpcAnswer>;
}

/** The real client: the official core's generic call. */
export class RpcClient implements EcsApi {
  private readonly core: InstanceType<typeof OpenApiClient>;

  constructor(config: $OpenApiUtil.Config) {
    this.core = new OpenApiClient(config);
  }

  async call(action: EcsAction, params: RpcParams): Promise<RpcAnswer> {
    const request = new $OpenApiUtil.OpenApiRequest({ query: flattenParams(params) });
    // An empty RuntimeOptions, as the generated client passes: timeouts etc. come from the config.
    const res = await this.core.callApi(rpcCallParams(action), request, new RuntimeOptions({}));
    return { statusCode: Number(res.statusCode), body: res.body as unknown };
  }
}

/** Credentials for one ECS target. */
export type EcsCredentials =
  /** The controller's default chain (env, RRSA, CLI profile, RAM role …). */
  | { readonly type: "default" }
  /** An explicit AccessKey pair, optionally an STS token (e.g. from a per-resource Secret). */
  | {
      readonly type: "accessKey";
      readonly accessKeyId: string;
      readonly accessKeySecret: string;
      readonly securityToken?: string | undefined;
    }
  /**
   * A provider config's resolved credentials (src/cloud/credentials.ts): refreshed by the credential
   * itself; `identity` (e.g. `acct:<accountId>`) names the account for buckets and cache keys.
   */
  | { readonly type: "provider"; readonly identity: string; readonly credential: InstanceType<typeof Credential> };

export const DEFAULT_CREDENTIALS: EcsCredentials = Object.freeze({ type: "default" });

/**
 * Non-secret identity of credentials, used for rate-limit buckets, metrics-free logs and cache
 * keys: `default` or `ak:<AccessKeyId>`. (ECS limits are per account; several keys of one account
 * get separate buckets, which errs on the side of more requests — the server still throttles.)
 */
export function credentialsIdentity(c: EcsCredentials): string {
  if (c.type === "provider") return c.identity;
  return c.type === "default" ? "default" : `ak:${c.accessKeyId}`;
}

/**
 * Distinguishes credential sets including their secret parts, without containing them: a rotated
 * secret under the same AccessKeyId gets a new client. Holds only a truncated SHA-256 of the
 * secret material, never the value; used for in-memory map keys only.
 */
/** A number per resolved credential object: a re-resolved provider config gets new clients. */
const providerCredentialIds = new WeakMap<object, number>();
let lastProviderCredentialId = 0;

export function credentialsCacheId(c: EcsCredentials): string {
  if (c.type === "default") return "default";
  if (c.type === "provider") {
    let n = providerCredentialIds.get(c.credential);
    if (n === undefined) providerCredentialIds.set(c.credential, (n = ++lastProviderCredentialId));
    return `${c.identity}#${n}`;
  }
  const h = createHash("sha256")
    .update(`${c.accessKeySecret}\u0000${c.securityToken ?? ""}`)
    .digest("hex")
    .slice(0, 16);
  return `ak:${c.accessKeyId}:${h}`;
}

/** The secret values inside credentials (for scrubbing error text). */
export function credentialSecrets(c: EcsCredentials): string[] {
  // Provider credentials change under refresh; the core's errors carry no key material.
  if (c.type === "default" || c.type === "provider") return [];
  return [c.accessKeySecret, c.securityToken].filter((s): s is string => !!s);
}

export interface ParsedEndpoint {
  /** `host[:port]` without scheme, as the core wants it. */
  host: string;
  protocol: "http" | "https";
}

/**
 * Parses `--ecs-endpoint`: `http://127.0.0.1:18080`, `https://ecs.cn-hangzhou.aliyuncs.com` or a
 * bare `host[:port]` (HTTPS). Paths other than `/` are rejected.
 */
export function parseEndpoint(raw: string): ParsedEndpoint {
  const s = raw.trim();
  if (!s) throw new Error("ECS endpoint is empty");
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `https://${s}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new Error(`ECS endpoint ${JSON.stringify(raw)} is not a URL or host[:port]`);
  }
  const protocol = u.protocol.replace(/:$/, "");
  if (protocol !== "http" && protocol !== "https") throw new Error(`ECS endpoint scheme must be http or https, got ${protocol}`);
  if (u.pathname !== "/" && u.pathname !== "") throw new Error("ECS endpoint must not have a path");
  if (u.search || u.hash || u.username || u.password) throw new Error("ECS endpoint must be scheme://host[:port] only");
  return { host: u.host, protocol };
}

/** A provider config's endpoint choice for one region (src/cloud/endpoints.ts `ecsEndpointFor`). */
export interface EndpointChoice {
  /** The config's `regionOverrides` entry for the region: wins over every controller setting. */
  readonly url?: ParsedEndpoint | undefined;
  /** The config's `endpoint.network`: the derived host's, when nothing explicit applies. */
  readonly network?: "public" | "vpc" | undefined;
}

/** Where calls for one region go: an explicit endpoint, or the host derived for a network. */
type ResolvedEndpoint = { explicit: ParsedEndpoint } | { network: "public" | "vpc" | undefined };

export interface ClientPoolOptions {
  /** `--ecs-endpoint`; unset → derived from the region (HTTPS). */
  endpoint?: string | undefined;
  /** `--ecs-endpoint-for-region`: region → endpoint URL, overriding `endpoint` for that region. */
  regionEndpoints?: Readonly<Record<string, string>> | undefined;
  /** TCP connect (and socket idle) timeout, ms. Default 5000. */
  connectTimeoutMs?: number | undefined;
  /** Read timeout, ms. Default 10000. */
  readTimeoutMs?: number | undefined;
  /** `network: 'vpc'` → `ecs-vpc.<region>.aliyuncs.com` (ignored with an explicit endpoint or a config's network). */
  network?: "public" | "vpc" | undefined;
  /** Controller version for the user agent. */
  version?: string | undefined;
  /** An instance identity for the user agent (e.g. the pod name); default none. */
  instanceId?: string | undefined;
  /** Replace the whole user agent suffix. */
  userAgent?: string | undefined;
  /**
   * Extra (unsigned, non-secret) headers on every request, e.g. `{ "x-emulator-client": "ctrl-1" }`
   * so the emulator's call log can attribute calls to a writer.
   */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Max cached clients; the least recently used is dropped beyond it. Default 256. */
  maxClients?: number | undefined;
  /** Factory for the default-chain credential (tests inject one). Default `new Credential()`. */
  defaultCredential?: (() => InstanceType<typeof Credential>) | undefined;
  /** Factory for the client (tests may wrap or fake it). Default `new RpcClient(config)`. */
  createClient?: ((config: $OpenApiUtil.Config) => EcsApi) | undefined;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_READ_TIMEOUT_MS = 10_000;

export function buildUserAgent(opts: Pick<ClientPoolOptions, "version" | "instanceId" | "userAgent">): string {
  if (opts.userAgent) return opts.userAgent;
  const parts = [`ecs-attributes-controller/${opts.version ?? "dev"}`, `pid/${process.pid}`];
  if (opts.instanceId) parts.push(`instance/${opts.instanceId.replace(/\s+/g, "_")}`);
  return parts.join(" ");
}

/** Caches clients per (credentials identity, region, endpoint). */
export class EcsClientPool {
  private readonly clients = new Map<string, EcsApi>();
  private readonly endpoint: ParsedEndpoint | undefined;
  private readonly regionEndpoints: ReadonlyMap<string, ParsedEndpoint>;
  private readonly userAgent: string;
  private readonly connectTimeoutMs: number;
  private readonly readTimeoutMs: number;
  private readonly maxClients: number;
  private defaultCredential: InstanceType<typeof Credential> | undefined;
  /** Clients created so far (tests assert reuse). */
  created = 0;

  constructor(private readonly opts: ClientPoolOptions = {}) {
    this.endpoint = opts.endpoint ? parseEndpoint(opts.endpoint) : undefined;
    this.regionEndpoints = new Map(Object.entries(opts.regionEndpoints ?? {}).map(([region, url]) => [region, parseEndpoint(url)]));
    this.userAgent = buildUserAgent(opts);
    this.connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.readTimeoutMs = opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    this.maxClients = opts.maxClients ?? 256;
  }

  /** The user agent suffix sent with every request. */
  get agent(): string {
    return this.userAgent;
  }

  get(credentials: EcsCredentials, regionId: string, choice?: EndpointChoice): EcsApi {
    if (!regionId) throw new Error("regionId is required");
    const key = this.cacheKey(credentials, regionId, choice);
    const hit = this.clients.get(key);
    if (hit) {
      // LRU: move to the end.
      this.clients.delete(key);
      this.clients.set(key, hit);
      return hit;
    }
    const client = this.create(credentials, regionId, choice);
    this.clients.set(key, client);
    this.created += 1;
    while (this.clients.size > this.maxClients) {
      const oldest = this.clients.keys().next().value;
      if (oldest === undefined) break;
      this.clients.delete(oldest);
    }
    return client;
  }

  /** The endpoint for a region under a config's choice, by the precedence in this file's header. */
  private endpointFor(regionId: string, choice: EndpointChoice | undefined): ResolvedEndpoint {
    const explicit = choice?.url ?? this.regionEndpoints.get(regionId) ?? this.endpoint;
    return explicit ? { explicit } : { network: choice?.network ?? this.opts.network };
  }

  /**
   * Names the endpoint calls for `regionId` (under a config's `choice`) go to — the circuit breaker's
   * key and part of the client and batch keys: the explicit URL, else the regional host name
   * (regions the endpoint map sends to a shared host still get one key each).
   */
  endpointKey(regionId: string, choice?: EndpointChoice): string {
    const ep = this.endpointFor(regionId, choice);
    if ("explicit" in ep) return `${ep.explicit.protocol}://${ep.explicit.host}`;
    return `${ep.network === "vpc" ? "ecs-vpc" : "ecs"}.${regionId}.aliyuncs.com`;
  }

  private cacheKey(c: EcsCredentials, regionId: string, choice: EndpointChoice | undefined): string {
    return `${credentialsCacheId(c)}|${regionId}|${this.endpointKey(regionId, choice)}`;
  }

  private create(c: EcsCredentials, regionId: string, choice: EndpointChoice | undefined): EcsApi {
    const config = new $OpenApiUtil.Config({
      regionId,
      connectTimeout: this.connectTimeoutMs,
      readTimeout: this.readTimeoutMs,
      userAgent: this.userAgent,
      // No retryOptions: the core's retries stay off.
    });
    if (this.opts.headers && Object.keys(this.opts.headers).length > 0) {
      config.globalParameters = new $OpenApiUtil.GlobalParameters({ headers: { ...this.opts.headers } });
    }
    const endpoint = this.endpointFor(regionId, choice);
    if ("explicit" in endpoint) {
      config.endpoint = endpoint.explicit.host;
      config.protocol = endpoint.explicit.protocol;
    } else {
      config.endpoint = regionalHost(regionId, endpoint.network);
    }
    if (c.type === "accessKey") {
      config.accessKeyId = c.accessKeyId;
      config.accessKeySecret = c.accessKeySecret;
      if (c.securityToken) config.securityToken = c.securityToken;
    } else if (c.type === "provider") {
      config.credential = c.credential;
    } else {
      this.defaultCredential ??= this.opts.defaultCredential ? this.opts.defaultCredential() : new Credential();
      config.credential = this.defaultCredential;
    }
    return this.opts.createClient ? this.opts.createClient(config) : new RpcClient(config);
  }
}
