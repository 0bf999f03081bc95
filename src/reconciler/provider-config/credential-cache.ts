/**
 * Each EcsProviderConfig's credentials, resolved asynchronously by the cloud layer
 * (src/cloud/credentials.ts `resolveCredentials`: the STS calls, the refresh, the identity check) and
 * kept per *version* of what they depend on: the config's credentials block and network, plus the
 * resourceVersion of the Secret it names. The reconciler reads them synchronously (`credentialsFor`,
 * the seam in tenancy.ts); the config-status controller (watch.ts) calls `resolve` and re-queues the
 * config's resources when the answer changes. Nothing here holds or logs a secret beyond the
 * resolved credential object itself; resolveCredentials logs the identity once per resolution.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { CredentialSource, EcsProviderConfigSpec } from "../../api/provider-config.js";
import { ecsCredentialsOf, type ResolvedCredentials } from "../../cloud/credentials.js";
import { KubeApiError, kubeRequest } from "../../runtime/kube-http.js";
import type { ConfigCredentials, CredentialsFor } from "./tenancy.js";

/** A config's resolution: credentials + who they are, or a one-line, secret-free error. */
export type CachedCredentials = (ConfigCredentials & { accountId?: string; resolved?: ResolvedCredentials }) & { version: string };

export interface CredentialCacheDeps {
  /** resolveCredentials with the controller's deps bound. */
  resolve(name: string, spec: EcsProviderConfigSpec): Promise<ResolvedCredentials>;
  /** resourceVersion of a Secret (from the metadata informer), undefined when it does not exist. */
  secretVersion(namespace: string, name: string): string | undefined;
  /** Which sources go through `resolve`; the others stay on tenancy.ts's built-in path. */
  sources: ReadonlySet<CredentialSource>;
}

/** The Secret a config's credentials read (Secret's secretRef, AssumeRole's base keys), "ns/name". */
export function credentialsSecretOf(spec: Partial<EcsProviderConfigSpec> | undefined): { namespace: string; name: string } | undefined {
  const c = spec?.credentials;
  return c?.secretRef ?? c?.assumeRole?.baseCredentialsSecretRef;
}

export class ConfigCredentialCache {
  private readonly entries = new Map<string, CachedCredentials>();
  private readonly inflight = new Map<string, Promise<CachedCredentials>>();

  constructor(private readonly deps: CredentialCacheDeps) {}

  /** Whether this cache answers for the config's source. */
  handles(spec: EcsProviderConfigSpec): boolean {
    return this.deps.sources.has(spec.credentials.source);
  }

  /** What the credentials of `spec` depend on, as one string (no secret in it). */
  version(spec: EcsProviderConfigSpec): string {
    const ref = credentialsSecretOf(spec);
    const rv = ref ? (this.deps.secretVersion(ref.namespace, ref.name) ?? "absent") : "";
    return `${JSON.stringify(spec.credentials)}|${spec.endpoint?.network ?? "public"}|${rv}`;
  }

  /** The tenancy seam: the cached answer for the current version, a "resolving" error before it. */
  readonly credentialsFor: CredentialsFor = (name, spec) => {
    if (!this.handles(spec)) return undefined;
    const hit = this.current(name, spec);
    return hit ?? { error: `credentials source ${spec.credentials.source} are being resolved; no ECS call is made until they are` };
  };

  /** The cached entry when it is for the config's current version. */
  current(name: string, spec: EcsProviderConfigSpec): CachedCredentials | undefined {
    const e = this.entries.get(name);
    return e && e.version === this.version(spec) ? e : undefined;
  }

  /**
   * Resolves the config's current version, or returns its cached success. `changed` is true when the
   * answer differs from what was cached before (the caller re-queues the resources).
   */
  async resolve(name: string, spec: EcsProviderConfigSpec): Promise<{ entry: CachedCredentials; changed: boolean }> {
    const version = this.version(spec);
    const hit = this.current(name, spec);
    // A failed resolution is tried again (STS down, a role not yet assumable); a success is kept.
    if (hit && !("error" in hit)) return { entry: hit, changed: false };
    const flight = `${name}@${version}`;
    let p = this.inflight.get(flight);
    if (!p) {
      p = this.resolveOnce(name, spec, version).finally(() => this.inflight.delete(flight));
      this.inflight.set(flight, p);
    }
    const entry = await p;
    this.entries.set(name, entry);
    // The same failure again is no news: its resources already show it.
    const sameFailure = hit !== undefined && "error" in hit && "error" in entry && hit.error === entry.error;
    return { entry, changed: !sameFailure };
  }

  /** A deleted config. */
  forget(name: string): void {
    this.entries.delete(name);
  }

  private async resolveOnce(name: string, spec: EcsProviderConfigSpec, version: string): Promise<CachedCredentials> {
    try {
      const resolved = await this.deps.resolve(name, spec);
      const id = resolved.identity;
      return {
        version,
        credentials: ecsCredentialsOf(resolved),
        identity: `${id.arn || id.providerName} (account ${id.accountId}, ${id.providerName})`,
        accountId: id.accountId,
        resolved,
      };
    } catch (err) {
      return { version, error: err instanceof Error ? err.message : String(err) };
    }
  }
}

/**
 * A Secret's decoded data with one GET (the controller caches only Secret metadata; a config's
 * Secret is read once per resolution). undefined when it does not exist.
 */
export function secretDataReader(kc: KubeConfig): (namespace: string, name: string) => Promise<Readonly<Record<string, string>> | undefined> {
  return async (namespace, name) => {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`;
    const r = await kubeRequest(kc, { method: "GET", path, timeoutMs: 10_000 });
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw KubeApiError.from(r, `get secrets ${namespace}/${name}`);
    const data = (r.body as { data?: Record<string, string> }).data ?? {};
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
  };
}
