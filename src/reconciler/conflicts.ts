/**
 * Two resources naming the same (region, instance) would fight over it. The oldest resource wins
 * (creationTimestamp, then namespace/name for a stable tie-break at second precision); the others
 * report Conflict and never write.
 */
import type { EcsInstanceAttributes } from "../api/index.js";

export function instanceKey(spec: { regionId?: string; instanceId?: string }): string {
  return `${spec.regionId ?? ""}/${spec.instanceId ?? ""}`;
}

function objectKey(o: EcsInstanceAttributes): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;
}

function olderThan(a: EcsInstanceAttributes, b: EcsInstanceAttributes): boolean {
  const ta = new Date(a.metadata.creationTimestamp ?? 0).getTime();
  const tb = new Date(b.metadata.creationTimestamp ?? 0).getTime();
  return ta !== tb ? ta < tb : objectKey(a) < objectKey(b);
}

/**
 * The namespace/name of the resource that owns `obj`'s instance, or undefined when `obj` does.
 * `candidates` may be the whole fleet or just the resources on the same instance (an index lookup).
 */
export function conflictWinner(candidates: readonly EcsInstanceAttributes[], obj: EcsInstanceAttributes): string | undefined {
  const key = instanceKey(obj.spec);
  let winner = obj;
  for (const other of candidates) {
    if (other.metadata.uid === obj.metadata.uid || instanceKey(other.spec) !== key) continue;
    if (olderThan(other, winner)) winner = other;
  }
  return winner === obj ? undefined : objectKey(winner);
}
