/**
 * Update filters (controller-runtime predicates): decide whether an update event enqueues.
 *
 *   predicate: specOrAnnotationsChanged()                                     // default for primaries
 *   predicate: specOrAnnotationsChanged((k) => k.startsWith("ecs.alicloud.dev/"))  // only some annotations
 *   predicate: anyOf(generationChanged, labelsChanged)
 *
 * A status write bumps resourceVersion but not metadata.generation (for resources with a status
 * subresource), so `generationChanged` drops our own status updates — without it, every status
 * write would wake the controller again and loop.
 */
import type { KubeObject } from "./informer.js";

export type UpdatePredicate<T extends KubeObject = KubeObject> = (oldObj: T, newObj: T) => boolean;

/** metadata.generation changed (the spec changed). Objects without generation fall back to resourceVersion. */
export const generationChanged: UpdatePredicate = (a, b) => {
  const ga = a.metadata?.generation;
  const gb = b.metadata?.generation;
  if (ga === undefined || gb === undefined) return a.metadata?.resourceVersion !== b.metadata?.resourceVersion;
  return ga !== gb;
};

function pick(map: Record<string, string> | undefined, filter: (key: string) => boolean): string {
  const entries = Object.entries(map ?? {})
    .filter(([k]) => filter(k))
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return JSON.stringify(entries);
}

/** Annotations that pass `filter` (default: all but kubectl's last-applied copy) differ. */
export function annotationsChanged(filter: (key: string) => boolean = defaultAnnotationFilter): UpdatePredicate {
  return (a, b) => pick(a.metadata?.annotations, filter) !== pick(b.metadata?.annotations, filter);
}

export const labelsChanged: UpdatePredicate = (a, b) => pick(a.metadata?.labels, () => true) !== pick(b.metadata?.labels, () => true);

/** deletionTimestamp appeared or changed. */
export const deletionChanged: UpdatePredicate = (a, b) => String(a.metadata?.deletionTimestamp ?? "") !== String(b.metadata?.deletionTimestamp ?? "");

/** kubectl's last-applied-configuration mirrors the spec and changes with it; it adds nothing. */
export function defaultAnnotationFilter(key: string): boolean {
  return key !== "kubectl.kubernetes.io/last-applied-configuration";
}

export function anyOf<T extends KubeObject>(...preds: Array<UpdatePredicate<T>>): UpdatePredicate<T> {
  return (a, b) => preds.some((p) => p(a, b));
}

export function allOf<T extends KubeObject>(...preds: Array<UpdatePredicate<T>>): UpdatePredicate<T> {
  return (a, b) => preds.every((p) => p(a, b));
}

/**
 * The default primary filter: the spec (generation), the annotations that matter, or the deletion
 * state changed. Status-only and managed-fields-only updates do not enqueue.
 */
export function specOrAnnotationsChanged(annotationFilter?: (key: string) => boolean): UpdatePredicate {
  return anyOf(generationChanged, annotationsChanged(annotationFilter), deletionChanged);
}

/** For secondary objects without generation (Secrets, ConfigMaps): content changed. */
export const resourceVersionChanged: UpdatePredicate = (a, b) => a.metadata?.resourceVersion !== b.metadata?.resourceVersion;
