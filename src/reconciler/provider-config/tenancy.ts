/**
 * The reconciler's view of tenancy: for one resource, the EcsProviderConfig it uses, the credentials
 * that config resolves to, and the first constraint it breaks before any ECS call. Reads only
 * caches (the config and Namespace informers, the Secret informer), so it costs no API call.
 *
 * Credentials by source: `credentialsFor` first (credential-cache.ts: RRSA and AssumeRole, and all
 * four sources when the controller can reach STS, resolved asynchronously by src/cloud/credentials.ts);
 * otherwise Default → the controller's chain, Secret → the AccessKey Secret the config names. A
 * config whose credentials are not resolved (yet) reports CredentialsError and no resource uses it:
 * never a silent fall-back to another identity.
 *
 * Endpoints: the config's `endpoint` block (network, the override for the resource's region) goes
 * into the ECS target (`ecsTarget`), which the client pool applies by the precedence written in
 * src/cloud/client.ts. An http:// override without endpoint.allowInsecure fails the config's schema
 * (src/api/provider-config.ts), so policy.ts's chooseConfig refuses its resources before any
 * request; src/cloud/endpoints.ts `ecsEndpointFor` applies the same https rule again here, so a
 * refusal can never turn into a call.
 */
import { ConditionType, type EcsInstanceAttributes, type EcsInstanceAttributesSpec, getCondition, Reason } from "../../api/index.js";
import type { EcsProviderConfigSpec } from "../../api/provider-config.js";
import { DEFAULT_CREDENTIALS, type EcsCredentials, type EndpointChoice } from "../../cloud/client.js";
import type { EcsTarget } from "../../cloud/ecs.js";
import { ecsEndpointFor, EndpointRefused } from "../../cloud/endpoints.js";
import { type ObjectReader, readAccessKeySecret } from "../inputs.js";
import { type CachedConfig, chooseConfig, type ConfigChoice, type Denial, preReadDenial } from "./policy.js";

/** Credentials of a config, or why they cannot be had (a message without any secret). */
export type ConfigCredentials = { credentials: EcsCredentials; identity: string } | { error: string };

/** Resolves a config's credentials; `undefined` means this build has no resolver for the source. */
export type CredentialsFor = (name: string, spec: EcsProviderConfigSpec) => ConfigCredentials | undefined;

export interface TenancyOptions {
  getConfig(name: string): CachedConfig | undefined;
  /** The namespace's labels, or undefined when it is not in the cache. */
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
  objects: ObjectReader;
  /** --require-provider-config: a missing `default` is ProviderConfigNotFound, not today's behaviour. */
  requireConfig: boolean;
  /** RRSA / AssumeRole (and any source it returns a value for); Default and Secret are built in. */
  credentialsFor?: CredentialsFor | undefined;
}

export interface TenancyView {
  choice: ConfigChoice;
  credentials?: EcsCredentials | undefined;
  /** The config's endpoint choice for the resource's region; absent: the controller's endpoints. */
  endpoint?: EndpointChoice | undefined;
  denial?: Denial | undefined;
}

/**
 * The one ECS target builder for a resource (the reconciler's reads and write, the resync sweeper's
 * batched read-ahead, so both land in one batch group): credentials from the resource's own Secret,
 * else its config's, else the controller's chain; the config's endpoint choice whichever credentials
 * are used (the endpoint is the admin's decision, not the credentials').
 */
export function ecsTarget(regionId: string, own: EcsCredentials | undefined, view: Pick<TenancyView, "credentials" | "endpoint"> | undefined): EcsTarget {
  const credentials = own ?? view?.credentials ?? DEFAULT_CREDENTIALS;
  return view?.endpoint ? { credentials, regionId, endpoint: view.endpoint } : { credentials, regionId };
}

/** The config's endpoint choice for a region, or the https rule's refusal as a denial. */
function endpointOf(choice: ConfigChoice, regionId: string): { endpoint?: EndpointChoice | undefined; denial?: Denial | undefined } {
  try {
    return { endpoint: ecsEndpointFor(choice.spec?.endpoint, regionId) };
  } catch (err) {
    if (!(err instanceof EndpointRefused)) throw err;
    return {
      denial: { kind: "Forbidden", rule: "endpoint.regionOverrides", message: `EcsProviderConfig ${choice.name} (endpoint.regionOverrides): ${err.message}` },
    };
  }
}

export class Tenancy {
  constructor(private readonly opts: TenancyOptions) {}

  /** The config, credentials and first pre-read denial for a resource with a valid spec. */
  resolve(namespace: string, spec: EcsInstanceAttributesSpec): TenancyView {
    const choice = chooseConfig(spec.providerConfigRef?.name, (n) => this.opts.getConfig(n), this.opts.requireConfig);
    const denial = preReadDenial(choice, namespace, this.opts.namespaceLabels(namespace), spec);
    if (denial || !choice.spec) return { choice, denial };
    const { endpoint, denial: refused } = endpointOf(choice, spec.regionId);
    if (refused) return { choice, denial: refused };
    const creds = this.credentials(choice.name, choice.spec);
    if ("error" in creds)
      return {
        choice,
        denial: { kind: "CredentialsError", rule: "spec.credentials", message: `EcsProviderConfig ${choice.name} (spec.credentials): ${creds.error}` },
      };
    return { choice, credentials: creds.credentials, ...(endpoint ? { endpoint } : {}) };
  }

  /**
   * False when `obj` may not take part in a conflict over its instance: its config denies it now,
   * or its last reconcile of this generation found it Forbidden (a required tag the instance lacks,
   * which only a read can tell). Such a resource never wins, so it never blocks the instance's owner.
   */
  eligible(obj: EcsInstanceAttributes): boolean {
    if (obj.spec?.instanceId === undefined) return true;
    if (this.resolve(obj.metadata.namespace ?? "", obj.spec).denial) return false;
    const ready = getCondition(obj.status?.conditions, ConditionType.Ready);
    return !(ready?.reason === Reason.Forbidden && ready.observedGeneration === obj.metadata.generation);
  }

  /** The credentials a config resolves to (for its status and the identity log). */
  credentials(name: string, spec: EcsProviderConfigSpec): ConfigCredentials {
    const custom = this.opts.credentialsFor?.(name, spec);
    if (custom) return custom;
    const c = spec.credentials;
    if (c.source === "Default") return { credentials: DEFAULT_CREDENTIALS, identity: "the controller's credential chain" };
    if (c.source === "Secret" && c.secretRef) {
      const r = readAccessKeySecret(this.opts.objects, c.secretRef.namespace, c.secretRef.name, "spec.credentials.secretRef");
      return "error" in r
        ? r
        : { credentials: r, identity: `AccessKey ${r.accessKeyId.slice(0, 8)}… from Secret ${c.secretRef.namespace}/${c.secretRef.name}` };
    }
    return {
      error: `credentials source ${c.source} needs the credentials resolver (credential-cache.ts), which this controller was built without; no ECS call is made with this config`,
    };
  }
}
