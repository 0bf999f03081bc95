/**
 * What the set controller reads from its caches: a child's progress (from its status) and which
 * instances standalone resources manage. Pure functions over informer objects.
 */
import type { EcsInstanceAttributes } from "../api/validate.js";
import { SET_LABEL } from "../api/set.js";
import type { ChildView } from "./decide.js";

/** Ready=False reasons that retrying alone will not change (the child waits for a spec or world change). */
const TERMINAL_REASONS = new Set(["InvalidSpec", "Conflict", "InstanceNotFound", "CredentialsError", "DriftDetected"]);

/** The set (name) a resource belongs to, from its label and controller ownerReference; undefined for a standalone one. */
export function owningSet(obj: Pick<EcsInstanceAttributes, "metadata">): string | undefined {
  const label = obj.metadata.labels?.[SET_LABEL];
  const owner = obj.metadata.ownerReferences?.find((r) => r.controller === true && r.kind === "EcsInstanceAttributesSet");
  return label !== undefined && owner?.name === label ? label : undefined;
}

/** A child's progress for the rollout. */
export function childView(obj: EcsInstanceAttributes): ChildView {
  const status = obj.status;
  const current = status?.observedGeneration !== undefined && status.observedGeneration === obj.metadata.generation;
  const ready = status?.conditions?.find((c) => c.type === "Ready");
  const synced = status?.conditions?.find((c) => c.type === "Synced");
  const isReady = current && ready?.status === "True";
  const terminal = current && ready?.status === "False" && (status?.error?.retryable === false || TERMINAL_REASONS.has(ready.reason));
  const failed = current && ready?.status === "False" && (terminal || synced?.status === "False");
  return {
    name: obj.metadata.name ?? "",
    instanceId: obj.spec.instanceId,
    spec: obj.spec,
    ready: isReady,
    settled: isReady || terminal,
    failing: failed ? { reason: ready.reason, code: status?.error?.code, message: ready.message.slice(0, 1024) } : undefined,
  };
}
