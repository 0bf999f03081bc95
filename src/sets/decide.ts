/**
 * The set controller's decision (pure): from the set, the instances discovery found, the children
 * that exist and the standalone resources, which children to create, update and delete, and the
 * set's counts. Rollout: at most `maxInFlight` children have a change pending at once (a create or
 * an update counts until the child settles: Ready for its generation, or failed terminally).
 */
import { isDeepStrictEqual } from "node:util";
import { API_VERSION, KIND } from "../api/constants.js";
import { type MaxInFlight, RESTART_DEFAULT_MAX_IN_FLIGHT, SET_LABEL, type SetSpec } from "../api/set.js";
import { validateSpec } from "../api/validate.js";
import { globToRegExp, renderTemplate, type TemplateVars } from "./template.js";

/** An instance discovery found (its identity and the template's variables). */
export type Discovered = TemplateVars;

/** A child as the decision needs it (see childView in observe.ts). */
export interface ChildView {
  name: string;
  instanceId: string;
  spec: unknown;
  /** Settled: Ready for its current generation, or failed in a way retrying alone cannot fix. */
  settled: boolean;
  ready: boolean;
  /** Ready=False for its generation with a terminal error or Synced=False: reported as failing. */
  failing?: { reason: string; code?: string | undefined; message?: string | undefined } | undefined;
}

export interface SetView {
  namespace: string;
  name: string;
  uid: string;
  spec: SetSpec;
}

export interface ChildBody {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    ownerReferences: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller: true }>;
  };
  spec: Record<string, unknown>;
}

export interface FailingEntry {
  name: string;
  instanceId: string;
  reason: string;
  code?: string | undefined;
  message?: string | undefined;
}

export interface SetPlan {
  creates: ChildBody[];
  updates: ChildBody[];
  /** Children to delete, and why (their instance is left as it is). */
  deletes: Array<{ name: string; instanceId: string; why: "unmatched" | "standalone" }>;
  matched: number;
  ready: number;
  updating: number;
  waiting: number;
  failing: FailingEntry[];
  skipped: Array<{ instanceId: string; resource: string }>;
  maxInFlight: number;
  paused: boolean;
}

/** Child name: `<set>-<instanceId>`. */
export const childName = (setName: string, instanceId: string): string => `${setName}-${instanceId}`;

/** Template fields whose change needs a restart, or that carry a password or user data. */
const CAUTIOUS_FIELDS = ["hostName", "passwordSecretRef", "userData"] as const;

/** The rollout's limit for `matched` instances: a count, a percentage (rounded up, ≥ 1), or everything at once. */
export function resolveMaxInFlight(spec: SetSpec, matched: number): number {
  const cautious = CAUTIOUS_FIELDS.some((f) => spec.template[f] !== undefined);
  const given: MaxInFlight | undefined = spec.rollout?.maxInFlight ?? (cautious ? RESTART_DEFAULT_MAX_IN_FLIGHT : undefined);
  if (given === undefined) return Math.max(1, matched);
  if (typeof given === "number") return given;
  return Math.max(1, Math.ceil((Number(given.slice(0, -1)) * matched) / 100));
}

/** Applies the selector's client-side part (the glob on the current name); ECS filtered the rest. */
export function selectInstances(spec: SetSpec, found: readonly Discovered[]): Discovered[] {
  const pattern = spec.selector.instanceNamePattern;
  const re = pattern === undefined ? undefined : globToRegExp(pattern);
  return found.filter((i) => !re || re.test(i.instanceName)).sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
}

function childBody(set: SetView, instanceId: string, attributes: Record<string, unknown>): ChildBody {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      name: childName(set.name, instanceId),
      namespace: set.namespace,
      labels: { [SET_LABEL]: set.name },
      ownerReferences: [{ apiVersion: API_VERSION, kind: "EcsInstanceAttributesSet", name: set.name, uid: set.uid, controller: true }],
    },
    spec: { instanceId, regionId: set.spec.regionId, managementPolicy: set.spec.managementPolicy, ...attributes },
  };
}

/** The child's spec for one instance, or why the template cannot make a valid one (InvalidSpec naming the field). */
function desiredChild(set: SetView, inst: Discovered): { ok: true; body: ChildBody } | { ok: false; message: string } {
  const rendered = renderTemplate(set.spec.template, inst);
  if (!rendered.ok) return rendered;
  const body = childBody(set, inst.instanceId, rendered.spec);
  const valid = validateSpec(body.spec);
  // Messages name spec.<field>; in a set that field is spec.template.<field>.
  if (!valid.ok) return { ok: false, message: valid.message.replaceAll("spec.", "spec.template.") };
  return { ok: true, body };
}

/**
 * The plan. `standalone` maps an instance ID to the standalone resource managing it (namespace/name):
 * a standalone resource wins, so the set neither creates nor keeps a child for that instance.
 * Creates and updates beyond `maxWrites` wait for the next pass (counted in `waiting`).
 */
export function decideSet(
  set: SetView,
  matchedInstances: readonly Discovered[],
  children: readonly ChildView[],
  standalone: ReadonlyMap<string, string>,
  maxWrites = Number.POSITIVE_INFINITY,
): SetPlan {
  const byInstance = new Map(children.map((c) => [c.instanceId, c]));
  const matchedIds = new Set(matchedInstances.map((i) => i.instanceId));
  const plan: SetPlan = {
    creates: [],
    updates: [],
    deletes: [],
    matched: matchedInstances.length,
    ready: 0,
    updating: 0,
    waiting: 0,
    failing: [],
    skipped: [],
    maxInFlight: resolveMaxInFlight(set.spec, matchedInstances.length),
    paused: set.spec.rollout?.paused === true,
  };
  for (const c of children) {
    const owner = standalone.get(c.instanceId);
    if (!matchedIds.has(c.instanceId)) plan.deletes.push({ name: c.name, instanceId: c.instanceId, why: "unmatched" });
    else if (owner !== undefined) plan.deletes.push({ name: c.name, instanceId: c.instanceId, why: "standalone" });
  }
  const kept = children.filter((c) => matchedIds.has(c.instanceId) && !standalone.has(c.instanceId));
  plan.updating = kept.filter((c) => !c.settled).length;
  const changes: ChildBody[] = [];
  for (const inst of matchedInstances) {
    const owner = standalone.get(inst.instanceId);
    if (owner !== undefined) {
      plan.skipped.push({ instanceId: inst.instanceId, resource: owner });
      continue;
    }
    const child = byInstance.get(inst.instanceId);
    const desired = desiredChild(set, inst);
    if (!desired.ok) {
      plan.failing.push({ name: child?.name ?? "", instanceId: inst.instanceId, reason: "InvalidSpec", message: desired.message });
      continue;
    }
    if (child?.ready && child.settled) plan.ready++;
    if (child?.failing) plan.failing.push({ name: child.name, instanceId: inst.instanceId, ...child.failing });
    if (child && isDeepStrictEqual(child.spec, desired.body.spec)) continue;
    // A child already counted as in flight takes the newer spec at once, without another slot.
    if (child && !child.settled) plan.updates.push(desired.body);
    else changes.push(desired.body);
  }
  // `maxWrites` bounds one pass (the status then shows progress while a large fleet is created).
  const budget = plan.paused ? 0 : Math.max(0, Math.min(plan.maxInFlight - plan.updating, maxWrites - plan.updates.length));
  for (const body of changes.slice(0, budget)) (byInstance.has(String(body.spec["instanceId"])) ? plan.updates : plan.creates).push(body);
  plan.updating += Math.min(budget, changes.length);
  plan.waiting = changes.length - Math.min(budget, changes.length);
  return plan;
}
