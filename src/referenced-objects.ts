/**
 * The Secrets and ConfigMaps that resources reference (passwordSecretRef, userData.secretRef /
 * configMapRef, credentialsSecretRef), read without caching every Secret and ConfigMap in the
 * watched namespaces (issue 15): metadata-only informers (PartialObjectMetadata) see every change and
 * re-queue the referencing resources (the controller's `watches`); the objects themselves are fetched
 * once per version, only when a reconcile of a resource that references them is about to run
 * (src/runtime/fetched-objects.ts), and dropped when nothing references them any more.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { ResourceIndexes } from "./reconciler/indexes.js";
import { type ConfigMapLike, type ObjectReader, referencedObjects, type SecretLike } from "./reconciler/inputs.js";
import type { EcsInstanceAttributesSpec } from "./api/index.js";
import { FetchedObjects } from "./runtime/fetched-objects.js";
import { CoreResources, Informer, type KubeObject } from "./runtime/informer.js";

export interface ReferencedObjects {
  /** Metadata-only informers: their events re-queue the resources referencing the object. */
  secretEvents: Informer<KubeObject>;
  configMapEvents: Informer<KubeObject>;
  /** Synchronous reads of the fetched objects (what resolveInputs reads). */
  reader: ObjectReader;
  /** Fetches what `spec` references in `namespace`, where the cached copy is missing or outdated. */
  load(namespace: string, spec: Partial<EcsInstanceAttributesSpec> | undefined): Promise<void>;
}

export function watchReferencedObjects(kubeConfig: KubeConfig, namespace: string | undefined, log: Logger, indexes: ResourceIndexes): ReferencedObjects {
  const meta = (resource: typeof CoreResources.Secret | typeof CoreResources.ConfigMap, name: string) =>
    new Informer<KubeObject>({ kubeConfig, resource, namespace, metadataOnly: true, logger: log.child({ informer: name }) });
  const secretEvents = meta(CoreResources.Secret, "secrets");
  const configMapEvents = meta(CoreResources.ConfigMap, "configmaps");
  const secrets = new FetchedObjects<SecretLike & KubeObject>({ kubeConfig, resource: CoreResources.Secret, index: secretEvents });
  const configMaps = new FetchedObjects<ConfigMapLike & KubeObject>({ kubeConfig, resource: CoreResources.ConfigMap, index: configMapEvents });
  // A changed object nothing references any more is not kept (it is fetched again if referenced later).
  secretEvents.addHandler({
    update: (_old, o) => {
      if (indexes.referencingSecret(o.metadata?.namespace, o.metadata?.name).length === 0) secrets.forget(o.metadata?.namespace ?? "", o.metadata?.name ?? "");
    },
  });
  configMapEvents.addHandler({
    update: (_old, o) => {
      if (indexes.referencingConfigMap(o.metadata?.namespace, o.metadata?.name).length === 0)
        configMaps.forget(o.metadata?.namespace ?? "", o.metadata?.name ?? "");
    },
  });
  return {
    secretEvents,
    configMapEvents,
    reader: { getSecret: (ns, name) => secrets.get(ns, name), getConfigMap: (ns, name) => configMaps.get(ns, name) },
    load: async (ns, spec) => {
      const refs = referencedObjects(spec);
      await Promise.all([...refs.secrets.map((n) => secrets.ensure(ns, n)), ...refs.configMaps.map((n) => configMaps.ensure(ns, n))]);
    },
  };
}
