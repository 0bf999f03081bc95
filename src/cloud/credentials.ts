// Credential sources of an EcsProviderConfig (src/api/provider-config.ts `credentials`): RRSA
// (AssumeRoleWithOIDC with the Pod's projected token), AssumeRole (a RAM role assumed with base keys
// from a Secret or the controller's own chain), Secret (an AccessKey in a Secret), Default (the
// `@alicloud/credentials` chain with the instance-metadata step off unless allowed).
//
// The STS calls, signing and token reading are `@alicloud/credentials`' own providers. What is ours,
// and why:
// - Refresh timing. The library's session providers treat a session as stale 15 minutes before its
//   expiry (`STALE_TIME` in its providers/session.js), so any lifetime of 15 minutes or less (900 s is
//   the smallest STS allows) is refreshed on *every* ECS call: one STS call per ECS call.
//   `RefreshingSession` below asks the provider's own `refresher` for a session and keeps it for two
//   thirds of its lifetime, refreshing in the background from then on and blocking only in the last
//   sixth; a failed refresh keeps the current session while it is still valid.
// - Identity. Every resolved source is checked with STS GetCallerIdentity (through the official core,
//   `@alicloud/openapi-core`) so the controller can log, at startup and on a config change, which
//   source and which account ID a config resolved to — never a key or a token.

import CoreModule, { $OpenApiUtil } from "@alicloud/openapi-core";
import CredentialsModule, {
  DefaultCredentialsProvider,
  OIDCRoleArnCredentialsProvider,
  RAMRoleARNCredentialsProvider,
  StaticAKCredentialsProvider,
  StaticSTSCredentialsProvider,
  type CredentialsProvider,
} from "@alicloud/credentials";
import { RuntimeOptions } from "@darabonba/typescript";
import type { Logger } from "pino";
import type { CredentialSource, EcsProviderConfigSpec } from "../api/provider-config.js";
import type { EcsCredentials } from "./client.js";
import { scrubSecrets } from "./errors.js";
import { stsEndpoint, type ParsedEndpoint } from "./endpoints.js";

// CommonJS interop as in src/cloud/client.ts (class itself under vitest, on `.default` under Node ESM).
function cjsDefault<T>(mod: { default: T } | T): T {
  return typeof mod === "function" ? mod : (mod as { default: T }).default;
}
const OpenApiClient = cjsDefault(CoreModule as { default: typeof CoreModule.default } | typeof CoreModule.default);
const Credential = cjsDefault(CredentialsModule as { default: typeof CredentialsModule.default } | typeof CredentialsModule.default);
/** An `@alicloud/credentials` Credential: what the core's `config.credential` takes. */
export type SdkCredential = InstanceType<typeof Credential>;

/** Secret keys, as the chain's environment variables are named (README, docs/install.md). */
export const SECRET_KEYS = {
  accessKeyId: "ALIBABA_CLOUD_ACCESS_KEY_ID",
  accessKeySecret: "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
  securityToken: "ALIBABA_CLOUD_SECURITY_TOKEN",
} as const;

/** Who a config's credentials are (GetCallerIdentity), for logs and rate-limit buckets. Never a secret. */
export interface CloudIdentity {
  source: CredentialSource;
  /** The library's provider chain, e.g. `ram_role_arn/static_ak`, `oidc_role_arn`, `default/env`. */
  providerName: string;
  accountId: string;
  /** e.g. `acs:ram::1000000000000001:assumed-role/ecs-writer/ecs-attrs`. */
  arn: string;
  identityType: string;
}

export class CredentialsError extends Error {
  constructor(
    readonly source: CredentialSource,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "CredentialsError";
  }
}

// --- refresh timing --------------------------------------------------------------------------------

interface Session {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  /** `yyyy-MM-ddTHH:mm:ssZ`, as STS answers. */
  expiration: string;
}

/** A session provider of the library: `refresher` is its public one-shot STS call. */
interface Refreshable {
  refresher: () => Promise<Session>;
  getProviderName(): string;
}

/** When to refresh a session issued at `issuedAt` that expires at `expiresAt` (ms). */
export function refreshTimes(issuedAt: number, expiresAt: number): { softAt: number; hardAt: number } {
  const lifetime = Math.max(0, expiresAt - issuedAt);
  return { softAt: issuedAt + (lifetime * 2) / 3, hardAt: expiresAt - lifetime / 6 };
}

/**
 * A CredentialsProvider over a library session provider with the refresh timing above. Concurrent
 * callers share one refresh.
 */
export class RefreshingSession implements CredentialsProvider {
  private current: { session: Session; softAt: number; hardAt: number; expiresAt: number } | undefined;
  private inflight: Promise<void> | undefined;
  /** Refreshes done (tests and logs). */
  refreshes = 0;

  constructor(
    private readonly inner: Refreshable,
    private readonly now: () => number = Date.now,
    private readonly onRefreshError?: (err: unknown) => void,
  ) {}

  getProviderName(): string {
    return this.inner.getProviderName();
  }

  /** The current session's expiry (ms), undefined before the first one. */
  get expiresAt(): number | undefined {
    return this.current?.expiresAt;
  }

  async getCredentials(): Promise<Awaited<ReturnType<CredentialsProvider["getCredentials"]>>> {
    const t = this.now();
    if (!this.current || t >= this.current.hardAt) await this.refresh();
    else if (t >= this.current.softAt) void this.refresh().catch(() => undefined);
    const s = this.current!.session;
    // The library's Credentials value (its class is not exported; the shape is all it reads).
    return { accessKeyId: s.accessKeyId, accessKeySecret: s.accessKeySecret, securityToken: s.securityToken, providerName: this.getProviderName() };
  }

  private refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const issuedAt = this.now();
        const session = await this.inner.refresher();
        const expiresAt = Date.parse(session.expiration);
        if (!Number.isFinite(expiresAt)) throw new Error(`STS answered an unreadable Expiration ${JSON.stringify(session.expiration)}`);
        this.current = { session, expiresAt, ...refreshTimes(issuedAt, expiresAt) };
        this.refreshes++;
      } catch (err) {
        // Keep a still-valid session (the next call retries); without one the caller sees the error.
        if (this.current && this.now() < this.current.expiresAt) this.onRefreshError?.(err);
        else throw err;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}

// --- sources -----------------------------------------------------------------------------------------

/** How the resolver reads Secrets and reaches STS (the controller passes its kube client and flags). */
export interface CredentialsDeps {
  /** A Secret's decoded data, undefined when it does not exist. */
  readSecret(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
  /** `--sts-endpoint` (tests: the emulator's HTTPS listener); unset: derived by endpoints.ts. */
  stsEndpointOverride?: string | undefined;
  /** `--allow-insecure-endpoints`: an http:// `stsEndpointOverride` is accepted (the emulator). */
  allowInsecureSts?: boolean | undefined;
  /** Region for a regional / VPC STS endpoint (ALIBABA_CLOUD_STS_REGION); unset: sts.aliyuncs.com. */
  stsRegion?: string | undefined;
  /** RoleSessionName when the config gives none. Default `ecs-attributes-controller`. */
  sessionName?: string | undefined;
  /** Connect / read timeouts of STS calls, ms. Defaults 5000 / 10000. */
  connectTimeoutMs?: number | undefined;
  readTimeoutMs?: number | undefined;
  now?: () => number;
  log?: Logger | undefined;
}

/** A config's resolved credentials: what the ECS client uses, and who they are. */
export interface ResolvedCredentials {
  source: CredentialSource;
  credential: SdkCredential;
  identity: CloudIdentity;
  /** For temporary credentials: the refresher (tests read `refreshes`). */
  session?: RefreshingSession;
}

function networkOf(spec: EcsProviderConfigSpec): "public" | "vpc" {
  return spec.endpoint?.network ?? "public";
}

async function secretKeys(deps: CredentialsDeps, source: CredentialSource, ref: { namespace: string; name: string }) {
  const data = await deps.readSecret(ref.namespace, ref.name);
  if (!data) throw new CredentialsError(source, `Secret ${ref.namespace}/${ref.name} not found`);
  const id = data[SECRET_KEYS.accessKeyId];
  const secret = data[SECRET_KEYS.accessKeySecret];
  if (!id || !secret) {
    throw new CredentialsError(source, `Secret ${ref.namespace}/${ref.name} lacks ${SECRET_KEYS.accessKeyId} or ${SECRET_KEYS.accessKeySecret}`);
  }
  return { accessKeyId: id, accessKeySecret: secret, securityToken: data[SECRET_KEYS.securityToken] || undefined };
}

function staticProvider(k: { accessKeyId: string; accessKeySecret: string; securityToken: string | undefined }): CredentialsProvider {
  return k.securityToken
    ? StaticSTSCredentialsProvider.builder().withAccessKeyId(k.accessKeyId).withAccessKeySecret(k.accessKeySecret).withSecurityToken(k.securityToken).build()
    : StaticAKCredentialsProvider.builder().withAccessKeyId(k.accessKeyId).withAccessKeySecret(k.accessKeySecret).build();
}

/**
 * The library's default chain without the instance-metadata step unless `allowInstanceMetadata`:
 * the chain reads ALIBABA_CLOUD_ECS_METADATA_DISABLED while it is built (providers/default.js builds
 * each step in its constructor, synchronously), so the variable is set only around construction.
 */
export function defaultChain(allowInstanceMetadata: boolean): CredentialsProvider {
  const VAR = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
  const saved = process.env[VAR];
  if (!allowInstanceMetadata) process.env[VAR] = "true";
  try {
    return DefaultCredentialsProvider.builder().build();
  } finally {
    if (saved === undefined) delete process.env[VAR];
    else process.env[VAR] = saved;
  }
}

function stsHost(spec: EcsProviderConfigSpec, deps: CredentialsDeps): ParsedEndpoint {
  return stsEndpoint({ network: networkOf(spec), region: deps.stsRegion, override: deps.stsEndpointOverride, allowInsecure: deps.allowInsecureSts });
}

async function providerFor(spec: EcsProviderConfigSpec, deps: CredentialsDeps): Promise<{ provider: CredentialsProvider; session?: RefreshingSession }> {
  const c = spec.credentials;
  const sessionName = deps.sessionName ?? "ecs-attributes-controller";
  const onRefreshError = (err: unknown) =>
    deps.log?.warn({ source: c.source, err: errorText(err) }, "credentials refresh failed; the current session is still valid");
  switch (c.source) {
    case "Secret":
      return { provider: staticProvider(await secretKeys(deps, c.source, c.secretRef!)) };
    case "Default":
      return { provider: defaultChain(c.allowInstanceMetadata) };
    case "AssumeRole": {
      const a = c.assumeRole!;
      const base = a.baseCredentialsSecretRef ? staticProvider(await secretKeys(deps, c.source, a.baseCredentialsSecretRef)) : defaultChain(false);
      let b = RAMRoleARNCredentialsProvider.builder()
        .withCredentialsProvider(base)
        .withRoleArn(a.roleArn)
        .withRoleSessionName(sessionName)
        .withDurationSeconds(a.sessionDurationSeconds ?? 3600)
        .withStsEndpoint(stsHost(spec, deps).host)
        .withConnectTimeout(deps.connectTimeoutMs ?? 5000)
        .withReadTimeout(deps.readTimeoutMs ?? 10000);
      if (a.externalId) b = b.withExternalId(a.externalId);
      const session = new RefreshingSession(b.build(), deps.now, onRefreshError);
      return { provider: session, session };
    }
    case "RRSA": {
      const r = c.rrsa!;
      const p = OIDCRoleArnCredentialsProvider.builder()
        .withRoleArn(r.roleArn)
        .withOIDCProviderArn(r.oidcProviderArn)
        .withOIDCTokenFilePath(r.oidcTokenFile)
        .withRoleSessionName(r.roleSessionName ?? sessionName)
        .withStsEndpoint(stsHost(spec, deps).host)
        .withConnectTimeout(deps.connectTimeoutMs ?? 5000)
        .withReadTimeout(deps.readTimeoutMs ?? 10000)
        .build();
      const session = new RefreshingSession(p, deps.now, onRefreshError);
      return { provider: session, session };
    }
  }
}

/** An error's text for a condition or log: the SDK's transport errors embed request URLs, masked here. */
function errorText(err: unknown): string {
  return scrubSecrets(err instanceof Error ? err.message : String(err));
}

/** STS GetCallerIdentity with the given credential (the official core's generic RPC call). */
export async function getCallerIdentity(
  credential: SdkCredential,
  endpoint: ParsedEndpoint,
  timeouts: { connectTimeoutMs?: number | undefined; readTimeoutMs?: number | undefined } = {},
) {
  const client = new OpenApiClient(
    new $OpenApiUtil.Config({
      credential,
      endpoint: endpoint.host,
      protocol: endpoint.protocol,
      connectTimeout: timeouts.connectTimeoutMs ?? 5000,
      readTimeout: timeouts.readTimeoutMs ?? 10000,
    }),
  );
  const params = new $OpenApiUtil.Params({
    action: "GetCallerIdentity",
    version: "2015-04-01",
    protocol: endpoint.protocol.toUpperCase(),
    pathname: "/",
    method: "POST",
    authType: "AK",
    style: "RPC",
    reqBodyType: "formData",
    bodyType: "json",
  });
  const res = await client.callApi(params, new $OpenApiUtil.OpenApiRequest({}), new RuntimeOptions({}));
  const body = (res.body ?? {}) as Record<string, unknown>;
  const str = (k: string): string => (typeof body[k] === "string" ? body[k] : "");
  const accountId = str("AccountId");
  if (!accountId) throw new Error("GetCallerIdentity answered without an AccountId");
  return { accountId, arn: str("Arn"), identityType: str("IdentityType") };
}

/**
 * Resolves a provider config's credentials and checks them with GetCallerIdentity. Throws
 * `CredentialsError` with a one-line, secret-free message (the caller turns it into a condition).
 * Logs `{providerConfig, source, providerName, accountId, arn}` at info.
 */
export async function resolveCredentials(configName: string, spec: EcsProviderConfigSpec, deps: CredentialsDeps): Promise<ResolvedCredentials> {
  const source = spec.credentials.source;
  let built: Awaited<ReturnType<typeof providerFor>>;
  try {
    built = await providerFor(spec, deps);
  } catch (err) {
    if (err instanceof CredentialsError) throw err;
    throw new CredentialsError(source, `credentials source ${source}: ${errorText(err)}`, { cause: err });
  }
  const credential = new Credential(null, built.provider);
  let who: Awaited<ReturnType<typeof getCallerIdentity>>;
  let providerName: string;
  try {
    providerName = (await credential.getCredential()).providerName ?? built.provider.getProviderName();
    who = await getCallerIdentity(credential, stsHost(spec, deps), deps);
  } catch (err) {
    throw new CredentialsError(source, `credentials source ${source}: ${oneLine(errorText(err))}`, { cause: err });
  }
  const identity: CloudIdentity = { source, providerName, ...who };
  deps.log?.info({ providerConfig: configName, ...identity }, "provider config credentials resolved");
  return { source, credential, identity, ...(built.session ? { session: built.session } : {}) };
}

/** First line, without RequestIds (they change per call) — condition-safe. */
function oneLine(text: string): string {
  return text
    .split("\n")[0]!
    .replace(/request id: \S+/gi, "")
    .replace(/"RequestId":"[^"]*",?/g, "")
    .trim()
    .slice(0, 300);
}

/** What EcsCloud targets carry for a resolved config: buckets and clients keyed by the account. */
export function ecsCredentialsOf(resolved: ResolvedCredentials): EcsCredentials {
  return { type: "provider", identity: `acct:${resolved.identity.accountId}`, credential: resolved.credential };
}

/**
 * A config's `rateLimits.perAction` as EcsCloud.setAccountRates takes it; with `ecsCredentialsOf`'s
 * account as the key, configs of one account share the buckets.
 */
export function perActionRates(spec: EcsProviderConfigSpec): Record<string, { qps: number; burst?: number | undefined }> | undefined {
  const list = spec.rateLimits?.perAction;
  if (!list || list.length === 0) return undefined;
  return Object.fromEntries(list.map((r) => [r.action, { qps: r.qps, burst: r.burst }]));
}
