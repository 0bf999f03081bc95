/**
 * EcsProviderConfigs and Namespaces in the controller: their informers, what re-queues which
 * resources, and a small controller that keeps each config's status (Ready, resolved source,
 * identity) and logs the identity a config resolves to when it first resolves and whenever it
 * changes (never a secret).
 *
 * Re-queues: a config change → the resources naming it (ResourceIndexes.usingProviderConfig); a
 * Namespace label change → the resources in that namespace; a Secret change → the configs whose
 * credentials.secretRef names it (and, through them, their resources).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import { type Condition, GROUP, setCondition, VERSION } from "../../api/index.js";
import {
  type EcsProviderConfigSpec,
  type EcsProviderConfigStatus,
  parseProviderConfigSpec,
  PROVIDER_CONFIG_KIND,
  PROVIDER_CONFIG_PLURAL,
  ProviderConfigReason,
} from "../../api/provider-config.js";
import { Action, Controller, type SecondaryWatch } from "../../runtime/controller.js";
import { CoreResources, Informer, type KubeObject } from "../../runtime/informer.js";
import type { RuntimeMetrics } from "../../runtime/metrics.js";
import { generationChanged, labelsChanged } from "../../runtime/predicates.js";
import { statusWriter } from "../../runtime/status-writer.js";
import type { KubeWriteLimiter } from "../../runtime/write-limiter.js";
import type { ObjectReader } from "../inputs.js";
import type { CredentialSource } from "../../api/provider-config.js";
import { type ResolvedCredentials, perActionRates } from "../../cloud/credentials.js";
import { endpointProblems } from "../../cloud/endpoints.js";
import { ConfigCredentialCache, credentialsSecretOf } from "./credential-cache.js";
import { type CredentialsFor, Tenancy } from "./tenancy.js";

export const PROVIDER_CONFIG_RESOURCE = { group: GROUP, version: VERSION, plural: PROVIDER_CONFIG_PLURAL, kind: PROVIDER_CONFIG_KIND, namespaced: false };

type ConfigObject = KubeObject & { metadata: NonNullable<KubeObject["metadata"]>; spec?: unknown; status?: EcsProviderConfigStatus };
type NamespaceObject = KubeObject & { metadata?: { name?: string; labels?: Record<string, string> } };

export interface ProviderConfigDeps {
  kubeConfig: KubeConfig;
  log: Logger;
  objects: ObjectReader;
  /** The Secret informer: a config's AccessKey Secret changing re-checks the config. */
  secrets: Informer<KubeObject>;
  requireConfig: boolean;
  limiter: KubeWriteLimiter;
  /** The resources naming a config ("ns/name" keys). */
  usingConfig(name: string): string[];
  /** The resources in a namespace ("ns/name" keys). */
  inNamespace(namespace: string): string[];
  credentialsFor?: CredentialsFor | undefined;
  /** resolveCredentials (src/cloud/credentials.ts) with the controller's STS endpoint and Secret reads bound. */
  resolveCredentials?: ((name: string, spec: EcsProviderConfigSpec) => Promise<ResolvedCredentials>) | undefined;
  /** The sources resolved through `resolveCredentials` (default RRSA and AssumeRole). */
  resolvedSources?: ReadonlySet<CredentialSource> | undefined;
  /** EcsCloud.setAccountRates: a config's rateLimits for its resolved account. */
  setAccountRates?: ((account: string, perAction: ReturnType<typeof perActionRates>) => void) | undefined;
  /** Re-queues resources of the main controller ("ns/name" keys) once a config's credentials (re)resolve. */
  requeue?: ((keys: string[]) => void) | undefined;
  metrics?: RuntimeMetrics | undefined;
}

export interface ProviderConfigs {
  tenancy: Tenancy;
  informers: Array<Informer<KubeObject>>;
  /** Secondary watches for the EcsInstanceAttributes controller. */
  watches: SecondaryWatch[];
  /** Keeps EcsProviderConfig status; started like the main controller (leader only runs workers). */
  controller: Controller<ConfigObject>;
}

export function buildProviderConfigs(deps: ProviderConfigDeps): ProviderConfigs {
  const { kubeConfig, log } = deps;
  const configs = new Informer<ConfigObject>({ kubeConfig, resource: PROVIDER_CONFIG_RESOURCE, logger: log.child({ informer: PROVIDER_CONFIG_PLURAL }) });
  // Namespaces are watched for their labels (constraints.namespaceSelector); they are small objects.
  const namespaces = new Informer<NamespaceObject>({ kubeConfig, resource: CoreResources.Namespace, logger: log.child({ informer: "namespaces" }) });
  const cache = deps.resolveCredentials
    ? new ConfigCredentialCache({
        resolve: deps.resolveCredentials,
        secretVersion: (ns, name) => deps.secrets.get(ns, name)?.metadata?.resourceVersion,
        sources: deps.resolvedSources ?? new Set<CredentialSource>(["RRSA", "AssumeRole"]),
      })
    : undefined;
  const tenancy = new Tenancy({
    getConfig: (name) => configs.get(undefined, name),
    namespaceLabels: (ns) => {
      const o = namespaces.get(undefined, ns);
      return o ? (o.metadata?.labels ?? {}) : undefined;
    },
    objects: deps.objects,
    requireConfig: deps.requireConfig,
    credentialsFor: cache?.credentialsFor ?? deps.credentialsFor,
  });
  const watches: SecondaryWatch[] = [
    { informer: configs, map: (c: KubeObject) => deps.usingConfig(c.metadata?.name ?? ""), predicate: generationChanged },
    { informer: namespaces, map: (n: KubeObject) => deps.inNamespace(n.metadata?.name ?? ""), predicate: labelsChanged },
    // A config's AccessKey Secret changed: the resources using the config get the new credentials.
    { informer: deps.secrets, map: (s: KubeObject) => configsUsingSecret(configs, s).flatMap((c) => deps.usingConfig(c)) },
  ];
  const controller = configStatusController(deps, configs, tenancy, cache);
  return { tenancy, informers: [configs, namespaces] as Array<Informer<KubeObject>>, watches, controller };
}

/** Names of the configs whose credentials.secretRef is the Secret `s` (few configs: a scan). */
function configsUsingSecret(configs: Informer<ConfigObject>, s: KubeObject): string[] {
  const key = `${s.metadata?.namespace}/${s.metadata?.name}`;
  return configs
    .list()
    .filter((c) => secretRefOf(c) === key)
    .map((c) => c.metadata.name ?? "");
}

function secretRefOf(c: ConfigObject): string | undefined {
  const ref = credentialsSecretOf(c.spec as Partial<EcsProviderConfigSpec> | undefined);
  return ref ? `${ref.namespace}/${ref.name}` : undefined;
}

/** The status a config should have now, and the identity to log. */
export function configStatus(
  obj: ConfigObject,
  tenancy: Tenancy,
  now: Date,
): { status: EcsProviderConfigStatus; identity: string | undefined; source: string | undefined } {
  const prev = obj.status;
  const cond = (status: Condition["status"], reason: string, message: string) =>
    setCondition(prev?.conditions, { type: "Ready", status, reason, message, observedGeneration: obj.metadata.generation ?? 0 }, now);
  const base = { observedGeneration: obj.metadata.generation ?? 0 };
  const parsed = parseProviderConfigSpec(obj.spec);
  if (!parsed.ok) {
    return { status: { ...base, conditions: cond("False", ProviderConfigReason.InvalidConfig, parsed.message) }, identity: undefined, source: undefined };
  }
  const source = parsed.spec.credentials.source;
  // What the schema's pattern lets through but no client could use (e.g. a port above 65535): the
  // config's resources are Forbidden by tenancy.ts for the same reason, so the config is not Ready.
  const refused = endpointProblems(parsed.spec.endpoint);
  if (refused.length > 0) {
    return { status: { ...base, conditions: cond("False", ProviderConfigReason.InvalidConfig, refused.join("; ")) }, identity: undefined, source };
  }
  const creds = tenancy.credentials(obj.metadata.name ?? "", parsed.spec);
  if ("error" in creds) {
    return { status: { ...base, conditions: cond("False", ProviderConfigReason.CredentialsUnavailable, creds.error) }, identity: undefined, source };
  }
  const status: EcsProviderConfigStatus = {
    ...base,
    conditions: cond("True", ProviderConfigReason.CredentialsResolved, `credentials source ${source}: ${creds.identity}`),
    resolvedSource: source,
    identity: creds.identity,
    ...("accountId" in creds && typeof creds.accountId === "string" ? { accountId: creds.accountId } : {}),
  };
  return { status, identity: creds.identity, source };
}

function configStatusController(
  deps: ProviderConfigDeps,
  configs: Informer<ConfigObject>,
  tenancy: Tenancy,
  cache: ConfigCredentialCache | undefined,
): Controller<ConfigObject> {
  const log = deps.log.child({ component: "provider-config" });
  const writer = statusWriter<EcsProviderConfigStatus, ConfigObject>(deps.kubeConfig, PROVIDER_CONFIG_RESOURCE, log, deps.limiter);
  const logged = new Map<string, string>();
  return new Controller<ConfigObject>({
    name: PROVIDER_CONFIG_PLURAL,
    informer: configs,
    predicate: generationChanged,
    watches: [
      {
        informer: deps.secrets,
        map: (s: KubeObject) => configsUsingSecret(configs, s),
      },
    ],
    logger: deps.log,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    reconcile: async (key) => {
      const obj = writer.fresh(configs.get(undefined, key.name));
      if (!obj) {
        logged.delete(key.name);
        cache?.forget(key.name);
        return Action.awaitChange();
      }
      const retry = cache ? await resolveInto(cache, deps, key.name, obj) : false;
      const { status, identity, source } = configStatus(obj, tenancy, new Date());
      const said = `${source}|${identity ?? ""}`;
      if (logged.get(key.name) !== said) {
        // Which identity a config uses, at startup and on every change: the account behind the calls.
        // A cache-resolved identity was logged by resolveCredentials (with its account ID) already.
        const spec = parseSpec(obj);
        const selfLogged = identity !== undefined && spec !== undefined && cache?.handles(spec) === true;
        if (identity && !selfLogged) log.info({ providerConfig: key.name, source, identity }, "provider config credentials resolved");
        else if (!identity) log.warn({ providerConfig: key.name, source, reason: status.conditions?.[0]?.message }, "provider config credentials not resolved");
        logged.set(key.name, said);
      }
      if (!isDeepStrictEqual(obj.status, status)) await writer.write(obj, status);
      // A failed resolution (STS down, role not assumable yet) is retried; a Secret change also re-queues.
      return retry ? Action.requeueAfter(RESOLVE_RETRY_MS) : Action.awaitChange();
    },
  });
}

/** How soon a config whose credentials failed to resolve is tried again. */
const RESOLVE_RETRY_MS = 30_000;

function parseSpec(obj: ConfigObject): EcsProviderConfigSpec | undefined {
  const parsed = parseProviderConfigSpec(obj.spec);
  return parsed.ok ? parsed.spec : undefined;
}

/**
 * Resolves the config's credentials into the cache, applies its rate limits to the resolved account
 * and, on a new answer, re-queues the config's resources. True when resolution failed (retry later).
 */
export async function resolveInto(cache: ConfigCredentialCache, deps: ProviderConfigDeps, name: string, obj: ConfigObject): Promise<boolean> {
  const spec = parseSpec(obj);
  if (!spec || !cache.handles(spec)) return false;
  const { entry, changed } = await cache.resolve(name, spec);
  // Every reconcile (a new generation may change only rateLimits): buckets keyed like ecsCredentialsOf's identity.
  if ("credentials" in entry && entry.accountId) deps.setAccountRates?.(`acct:${entry.accountId}`, perActionRates(spec));
  if (changed) deps.requeue?.(deps.usingConfig(name));
  return "error" in entry;
}
