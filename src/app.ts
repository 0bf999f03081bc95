/**
 * Wiring: configuration → informers (the resources, Secrets, ConfigMaps), reverse indexes, the ECS
 * cloud layer, the status writer, the reconciler, the controller (with the reconciler's error
 * policy) and the resync sweeper. `run.ts` (called by `main.ts`) builds this with `buildApp` and
 * adds leader election, Events, the metrics/probe servers and shutdown; tests may call `buildApp`
 * in-process.
 */
// Not the package index: it would load every generated API (src/slim-kube-client.ts).
import { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import type { Logger } from "pino";
import { type EcsInstanceAttributes, type EcsInstanceAttributesStatus, GROUP, isPaused, KIND, PAUSED_ANNOTATION, PLURAL, VERSION } from "./api/index.js";
import { EcsCloud, type EcsTarget } from "./cloud/ecs.js";
import { EcsError } from "./cloud/errors.js";
import type { Config } from "./config.js";
import { ResourceIndexes } from "./reconciler/indexes.js";
import { type ObjectReader, resolveCredentials } from "./reconciler/inputs.js";
import { errorPolicy } from "./reconciler/error-policy.js";
import { type EventSink, Reconciler } from "./reconciler/reconciler.js";
import { ecsTarget, type Tenancy } from "./reconciler/provider-config/tenancy.js";
import { Controller, type ErrorPolicy, type ObjectKey } from "./runtime/controller.js";
import { DependencyWaiters } from "./runtime/waiters.js";
import { ResyncSweeper } from "./runtime/resync.js";
import { statusWriter } from "./runtime/status-writer.js";
import { KubeWriteLimiter } from "./runtime/write-limiter.js";
import { Informer, type KubeObject } from "./runtime/informer.js";
import { watchReferencedObjects } from "./referenced-objects.js";
import type { RuntimeMetrics } from "./runtime/metrics.js";
import { annotationsChanged, anyOf, generationChanged, labelsChanged } from "./runtime/predicates.js";
import { registerResourceGauge } from "./resource-metrics.js";
import { buildSetController, type SetObject } from "./sets/controller.js";
import { buildProviderConfigs, type ProviderConfigs } from "./reconciler/provider-config/watch.js";
import { secretDataReader } from "./reconciler/provider-config/credential-cache.js";
import type { CredentialSource, EcsProviderConfigSpec } from "./api/provider-config.js";
import { resolveCredentials as resolveConfigCredentials } from "./cloud/credentials.js";

export const VERSION_STRING = "0.1.0";

const EIA_RESOURCE = { group: GROUP, version: VERSION, plural: PLURAL, kind: KIND };

export interface AppDeps {
  config: Config;
  kubeConfig: KubeConfig;
  log: Logger;
  events: EventSink;
  /** Runtime metrics (work queue, reconciles); its registry also takes the ecs_api_* metrics. */
  metrics?: RuntimeMetrics;
  /**
   * `--sts-endpoint` (run.ts passes it): where provider-config credentials are resolved and checked,
   * e.g. the emulator's https listener in tests; unset: derived from --region by
   * src/cloud/endpoints.ts `stsEndpoint`.
   */
  stsEndpoint?: string | undefined;
}

/** --kubeconfig, else in-cluster / $KUBECONFIG / ~/.kube/config. */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

export interface BuiltApp {
  controller: Controller<EcsInstanceAttributes>;
  informers: Array<Informer<KubeObject>>;
  cloud: EcsCloud;
  sweeper: ResyncSweeper<EcsInstanceAttributes, EcsTarget>;
  /** The EcsInstanceAttributesSet controller (src/sets/) and its informer; started apart so a missing set CRD never holds up the main one. */
  sets: { controller: Controller<SetObject>; informer: Informer<SetObject> };
  /** EcsProviderConfig status (src/reconciler/provider-config/); its informers are in `informers`. */
  providerConfigs: ProviderConfigs["controller"];
}

export function buildApp(deps: AppDeps): BuiltApp {
  const { config, log } = deps;
  const { resources, secrets, configMaps, indexes, objects, refs } = watchResources(deps);
  if (deps.metrics) registerResourceGauge(deps.metrics.registry, () => resources.list());
  const cloud = buildCloud(deps);
  const writeLimiter = new KubeWriteLimiter(config.kubeQps, config.kubeBurst);
  const status = statusWriter<EcsInstanceAttributesStatus, EcsInstanceAttributes>(deps.kubeConfig, EIA_RESOURCE, log, writeLimiter);
  // The read-your-writes copy of a deleted resource would otherwise stay in memory for good.
  resources.addHandler({ delete: (o) => status.forget(`${o.metadata.namespace}/${o.metadata.name}`) });
  const objectsAt = (keys: string[]) => keys.map((k) => resources.getByKey(k)).filter((o): o is EcsInstanceAttributes => o !== undefined);
  const unreachable = new DependencyWaiters();
  const tenancy = buildProviderConfigs({
    kubeConfig: deps.kubeConfig,
    log,
    objects,
    secrets,
    requireConfig: config.requireProviderConfig,
    limiter: writeLimiter,
    usingConfig: (name) => indexes.usingProviderConfig(name),
    inNamespace: (ns) => indexes.inNamespace(ns),
    ...providerCredentials(deps, cloud),
    requeue: (keys) => keys.forEach((k) => controller.enqueue(k)),
    metrics: deps.metrics,
  });
  const reconciler = new Reconciler({
    resources: { get: (ns, name) => status.fresh(resources.get(ns, name)), sameInstance: (obj) => objectsAt(indexes.sameInstance(obj)) },
    objects,
    ecs: cloud,
    events: deps.events,
    writeStatus: status.write,
    resyncPeriodMs: config.resyncPeriod,
    resyncBySweeper: true,
    stateWaitMs: config.statePollInterval,
    tenancy: tenancy.tenancy,
  });

  const controller = new Controller<EcsInstanceAttributes>({
    name: "ecsinstanceattributes",
    informer: resources,
    // Spec (generation), the paused annotation and labels matter; our own status writes do not.
    predicate: anyOf(
      generationChanged,
      annotationsChanged((k) => k === PAUSED_ANNOTATION),
      labelsChanged,
    ),
    watches: [
      { informer: secrets, map: (s: KubeObject) => indexes.referencingSecret(s.metadata?.namespace, s.metadata?.name) },
      { informer: configMaps, map: (c: KubeObject) => indexes.referencingConfigMap(c.metadata?.namespace, c.metadata?.name) },
      // A deleted resource may have been the oldest on its instance: re-evaluate the others.
      { informer: resources, map: (r: EcsInstanceAttributes) => indexes.sameInstance(r) },
      ...tenancy.watches,
    ],
    concurrency: config.concurrency,
    logger: log,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    reconcile: async (key, ctx) => {
      await refs.load(key.namespace ?? "", resources.get(key.namespace ?? "", key.name)?.spec);
      const action = await reconciler.reconcile(key.namespace ?? "", key.name, ctx);
      unreachable.forget(`${key.namespace}/${key.name}`);
      return action;
    },
    // ECS failures come back per the error policy's table (the reconciler recorded them in status);
    // those that could not reach their endpoint also come back as soon as it answers again.
    errorPolicy: waitForEndpoints(errorPolicy(reconciler.cadence), unreachable, (key) => {
      const obj = resources.get(key.namespace ?? "", key.name);
      const endpoint = obj && cloud.endpointOf(obj.spec.regionId, configEndpoint(tenancy.tenancy, obj));
      // Only an open (or probing) circuit announces its recovery; for a closed one the backoff decides.
      return endpoint !== undefined && cloud.breakers.state(endpoint) !== "closed" ? endpoint : undefined;
    }),
  });
  cloud.onEndpointRecovered((endpoint) => {
    for (const key of unreachable.release(endpoint)) controller.enqueue(key);
  });
  const sweeper = buildSweeper(deps, resources, objects, cloud, tenancy.tenancy, (key) => {
    if (!unreachable.isWaiting(key)) controller.enqueueLowPriority(key);
  });
  const sets = buildSetController({
    kubeConfig: deps.kubeConfig,
    namespace: config.namespace,
    log,
    cloud,
    resources,
    events: deps.events,
    limiter: writeLimiter,
    resyncPeriodMs: config.resyncPeriod,
    metrics: deps.metrics,
  });
  const informers = [resources, secrets, configMaps, ...tenancy.informers] as Array<Informer<KubeObject>>;
  return { controller, informers, cloud, sweeper, sets, providerConfigs: tenancy.controller };
}

/**
 * How provider configs resolve their credentials (src/reconciler/provider-config/credential-cache.ts).
 * All four sources go through resolveCredentials (identity checked with STS GetCallerIdentity,
 * Default without instance metadata unless the config allows it) when STS is reachable: an explicit
 * STS endpoint, or real ECS (no --ecs-endpoint). Against an emulator without an STS endpoint only
 * RRSA / AssumeRole do (they need STS anyway); Default and Secret keep the built-in path.
 */
function providerCredentials(deps: AppDeps, cloud: EcsCloud) {
  const readSecret = secretDataReader(deps.kubeConfig);
  const stsReachable = deps.stsEndpoint !== undefined || deps.config.ecsEndpoint === undefined;
  const sources = new Set<CredentialSource>(stsReachable ? ["RRSA", "AssumeRole", "Secret", "Default"] : ["RRSA", "AssumeRole"]);
  return {
    resolveCredentials: (name: string, spec: EcsProviderConfigSpec) =>
      resolveConfigCredentials(name, spec, {
        readSecret,
        stsEndpointOverride: deps.stsEndpoint,
        allowInsecureSts: deps.config.allowInsecureEndpoints,
        stsRegion: process.env["ALIBABA_CLOUD_STS_REGION"] ?? deps.config.region,
        log: deps.log.child({ component: "credentials" }),
      }),
    resolvedSources: sources,
    setAccountRates: (account: string, perAction: Parameters<EcsCloud["setAccountRates"]>[1]) => cloud.setAccountRates(account, perAction),
  };
}

/** The endpoint choice of a resource's provider config (what its target carries), if any. */
function configEndpoint(tenancy: Tenancy, obj: EcsInstanceAttributes) {
  try {
    return tenancy.resolve(obj.metadata.namespace ?? "", obj.spec).endpoint;
  } catch {
    return undefined; // an invalid spec never reaches ECS
  }
}

/** `policy`, plus: a key that could not reach its ECS endpoint waits for it (and is re-queued when it answers). */
function waitForEndpoints(policy: ErrorPolicy, unreachable: DependencyWaiters, endpointOf: (key: ObjectKey) => string | undefined): ErrorPolicy {
  return (err, key, attempt) => {
    const k = `${key.namespace}/${key.name}`;
    const endpoint = err instanceof EcsError && err.connectionFailure ? endpointOf(key) : undefined;
    if (endpoint) unreachable.wait(endpoint, k);
    else unreachable.forget(k);
    return policy(err, key, attempt);
  };
}

/** The informers, the reverse indexes (Secret → resources, instance → resources) and the referenced Secrets/ConfigMaps. */
function watchResources({ config, log, kubeConfig }: AppDeps) {
  const namespace = config.namespace;
  const resources = new Informer<EcsInstanceAttributes>({ kubeConfig, resource: EIA_RESOURCE, namespace, logger: log.child({ informer: PLURAL }) });
  const indexes = new ResourceIndexes();
  resources.addHandler({ add: (o) => indexes.upsert(o), update: (_old, cur) => indexes.upsert(cur), delete: (o) => indexes.remove(o) });
  // Secrets and ConfigMaps are watched (metadata only) so a rotated password re-queues exactly the
  // resources that reference it; only referenced objects are fetched (src/referenced-objects.ts).
  const refs = watchReferencedObjects(kubeConfig, namespace, log, indexes);
  return { resources, secrets: refs.secretEvents, configMaps: refs.configMapEvents, indexes, objects: refs.reader, refs };
}

function buildCloud({ config, log, metrics }: AppDeps): EcsCloud {
  return new EcsCloud({
    endpoint: config.ecsEndpoint,
    regionEndpoints: config.ecsEndpointForRegion,
    version: VERSION_STRING,
    instanceId: process.env["POD_NAME"] ?? `pid-${process.pid}`,
    rateLimit: {
      default: { qps: config.ecsQps, burst: config.ecsBurst },
      perAction: Object.fromEntries(Object.entries(config.ecsActionQps).map(([action, qps]) => [action, { qps }])),
    },
    ...(metrics ? { registry: metrics.registry } : {}),
    logger: log.child({ component: "ecs" }),
  });
}

/** Fleet-wide resync rounds: one batched read per (credentials, region, endpoint) group, then every key at low priority. */
function buildSweeper(
  { config, log }: AppDeps,
  resources: Informer<EcsInstanceAttributes>,
  objects: ObjectReader,
  cloud: EcsCloud,
  tenancy: Tenancy,
  enqueue: (key: string) => void,
): ResyncSweeper<EcsInstanceAttributes, EcsTarget> {
  return new ResyncSweeper<EcsInstanceAttributes, EcsTarget>({
    periodMs: config.resyncPeriod,
    resources: () => resources.list(),
    readAhead: (obj) => {
      if (isPaused(obj.metadata) || !obj.spec?.instanceId) return undefined;
      try {
        // A resource its provider config denies is not read at all, not even in a batch.
        const view = tenancy.resolve(obj.metadata.namespace ?? "", obj.spec);
        if (view.denial) return undefined;
        const target = ecsTarget(obj.spec.regionId, resolveCredentials(objects, obj.metadata.namespace ?? "", obj.spec), view);
        return { group: cloud.groupKey(target), target, id: obj.spec.instanceId };
      } catch {
        return undefined; // the reconcile reports the missing credentials Secret
      }
    },
    prefetch: (target, ids, signal) => cloud.prefetch(target, ids, signal),
    // Low priority: a spec change queued during a round is reconciled before the round's keys. Keys
    // waiting for an unreachable endpoint are left out: its recovery re-queues them, and a round
    // would only add one failed reconcile per key.
    enqueue,
    log: log.child({ component: "resync" }),
  });
}
