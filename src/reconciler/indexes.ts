/**
 * Reverse indexes over the resource cache, kept current from the resource informer's events:
 * which resources reference a Secret or ConfigMap, and which resources name the same instance.
 * They turn "a Secret changed → which resources?" from a scan of the fleet into a lookup, which
 * matters at startup when the informers replay every Secret and resource of the cluster.
 */
import type { EcsInstanceAttributes } from "../api/index.js";
import { DEFAULT_PROVIDER_CONFIG_NAME } from "../api/provider-config.js";
import { instanceKey } from "./conflicts.js";
import { referencedObjects } from "./inputs.js";

type Indexed = Pick<EcsInstanceAttributes, "metadata"> & { spec?: Partial<EcsInstanceAttributes["spec"]> };

/** A multimap from index key to resource keys ("ns/name"), with the reverse kept for updates. */
class MultiIndex {
  private readonly byIndex = new Map<string, Set<string>>();
  private readonly byResource = new Map<string, string[]>();

  set(resource: string, indexKeys: string[]): void {
    this.remove(resource);
    if (indexKeys.length === 0) return;
    this.byResource.set(resource, indexKeys);
    for (const k of indexKeys) {
      let set = this.byIndex.get(k);
      if (!set) this.byIndex.set(k, (set = new Set()));
      set.add(resource);
    }
  }

  remove(resource: string): void {
    for (const k of this.byResource.get(resource) ?? []) {
      const set = this.byIndex.get(k);
      set?.delete(resource);
      if (set?.size === 0) this.byIndex.delete(k);
    }
    this.byResource.delete(resource);
  }

  get(indexKey: string): string[] {
    return [...(this.byIndex.get(indexKey) ?? [])];
  }
}

export class ResourceIndexes {
  private readonly secrets = new MultiIndex();
  private readonly configMaps = new MultiIndex();
  private readonly instances = new MultiIndex();
  private readonly providerConfigs = new MultiIndex();
  private readonly namespaces = new MultiIndex();

  /** Call on add and update. */
  upsert(obj: Indexed): void {
    const ns = obj.metadata.namespace ?? "";
    const key = `${ns}/${obj.metadata.name}`;
    const refs = referencedObjects(obj.spec);
    this.secrets.set(
      key,
      refs.secrets.map((n) => `${ns}/${n}`),
    );
    this.configMaps.set(
      key,
      refs.configMaps.map((n) => `${ns}/${n}`),
    );
    this.instances.set(key, obj.spec?.instanceId ? [instanceKey(obj.spec)] : []);
    this.providerConfigs.set(key, [obj.spec?.providerConfigRef?.name ?? DEFAULT_PROVIDER_CONFIG_NAME]);
    this.namespaces.set(key, [ns]);
  }

  /** Call on delete. */
  remove(obj: Indexed): void {
    const key = `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
    this.secrets.remove(key);
    this.configMaps.remove(key);
    this.instances.remove(key);
    this.providerConfigs.remove(key);
    this.namespaces.remove(key);
  }

  /** Resources naming the EcsProviderConfig (omitted providerConfigRef counts as `default`). */
  usingProviderConfig(name: string): string[] {
    return this.providerConfigs.get(name);
  }

  /** Resources in a namespace (re-queued when its labels change: constraints.namespaceSelector). */
  inNamespace(namespace: string): string[] {
    return this.namespaces.get(namespace);
  }

  /** Resources referencing the Secret namespace/name. */
  referencingSecret(namespace: string | undefined, name: string | undefined): string[] {
    return this.secrets.get(`${namespace ?? ""}/${name ?? ""}`);
  }

  referencingConfigMap(namespace: string | undefined, name: string | undefined): string[] {
    return this.configMaps.get(`${namespace ?? ""}/${name ?? ""}`);
  }

  /** Other resources naming the same (region, instance) as `obj`. */
  sameInstance(obj: Indexed): string[] {
    const self = `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
    return obj.spec?.instanceId ? this.instances.get(instanceKey(obj.spec)).filter((k) => k !== self) : [];
  }
}
