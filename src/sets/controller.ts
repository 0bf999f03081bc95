/**
 * The EcsInstanceAttributesSet controller: a second controller in the same runtime (src/app.ts wires
 * it). Reconcile = observe (the set, discovery, children from the EcsInstanceAttributes informer)
 * → decide (decide.ts, pure) → execute (child writes) → one status write. Children reconcile as any
 * EcsInstanceAttributes does; their status changes re-queue their set (rollout progress).
 *
 * Discovery (DescribeInstances with the selector's filters, ceil(matched/100) calls) runs when the
 * set's spec changed and once per resync period; reconciles in between (child progress) reuse it.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { isDeepStrictEqual } from "node:util";
import { GROUP, VERSION } from "../api/constants.js";
import { formatIssues, type EcsInstanceAttributes } from "../api/validate.js";
import { SET_KIND, SET_PLURAL, setSpecSchema, type SetSpec, type SetStatus } from "../api/set.js";
import { DEFAULT_CREDENTIALS } from "../cloud/client.js";
import type { EcsCloud } from "../cloud/ecs.js";
import { EcsError } from "../cloud/errors.js";
import { Action, Controller, type ObjectKey } from "../runtime/controller.js";
import { Informer, type KubeObject } from "../runtime/informer.js";
import type { RuntimeMetrics } from "../runtime/metrics.js";
import { statusWriter } from "../runtime/status-writer.js";
import type { KubeWriteLimiter } from "../runtime/write-limiter.js";
import { decideSet, type Discovered, type SetPlan, selectInstances } from "./decide.js";
import { executePlan, kubeChildWriter } from "./execute.js";
import { childView, owningSet } from "./observe.js";
import { errorStatus, planStatus } from "./status.js";

export const SET_RESOURCE = { group: GROUP, version: VERSION, plural: SET_PLURAL, kind: SET_KIND };

export interface SetObject extends KubeObject {
  metadata: NonNullable<KubeObject["metadata"]>;
  spec: unknown;
  status?: SetStatus;
}

export interface SetEventSink {
  record(obj: KubeObject, type: "Normal" | "Warning", reason: string, message: string): void;
}

export interface SetControllerDeps {
  kubeConfig: KubeConfig;
  namespace: string | undefined;
  log: Logger;
  cloud: EcsCloud;
  /** The EcsInstanceAttributes informer the main controller uses (children and standalone resources). */
  resources: Informer<EcsInstanceAttributes>;
  events: SetEventSink;
  limiter: KubeWriteLimiter;
  resyncPeriodMs: number;
  metrics?: RuntimeMetrics | undefined;
}

interface Discovery {
  generation: number;
  at: number;
  atText: string;
  instances: Discovered[];
}

/**
 * Least time between two full reconciles of one set. Every child's status change re-queues its set,
 * and a full reconcile is O(children); without this a converging fleet of thousands re-plans the set
 * after every child write and takes the event loop from the children's reconciles.
 */
const MIN_REPLAN_MS = 1_000;
/** Child creates/updates per pass; the rest follow in the next pass, a second later, after a status write. */
const MAX_WRITES_PER_PASS = 2_000;

/** Up to five IDs and a count, for Event text. */
const sample = (ids: readonly string[]) => `${ids.slice(0, 5).join(", ")}${ids.length > 5 ? ` and ${ids.length - 5} more` : ""}`;

export function buildSetController(deps: SetControllerDeps): { controller: Controller<SetObject>; informer: Informer<SetObject> } {
  const { log, resources } = deps;
  const sets = new Informer<SetObject>({
    kubeConfig: deps.kubeConfig,
    resource: SET_RESOURCE,
    namespace: deps.namespace,
    logger: log.child({ informer: SET_PLURAL }),
  });
  const status = statusWriter<SetStatus, SetObject>(deps.kubeConfig, SET_RESOURCE, log, deps.limiter);
  const writer = kubeChildWriter(deps.kubeConfig, deps.limiter);
  const discoveries = new Map<string, Discovery>();
  /** When each set was last planned, and for which generation (MIN_REPLAN_MS). */
  const planned = new Map<string, { at: number; generation: number }>();
  sets.addHandler({
    delete: (o) => {
      discoveries.delete(`${o.metadata.namespace}/${o.metadata.name}`);
      planned.delete(`${o.metadata.namespace}/${o.metadata.name}`);
    },
  });

  const discover = async (key: string, spec: SetSpec, generation: number, signal: AbortSignal): Promise<Discovery> => {
    const cached = discoveries.get(key);
    if (cached && cached.generation === generation && Date.now() - cached.at < deps.resyncPeriodMs) return cached;
    const { tags, vpcId, instanceIds } = spec.selector;
    const found = await deps.cloud.findInstances({ credentials: DEFAULT_CREDENTIALS, regionId: spec.regionId }, { tags, vpcId, instanceIds }, signal);
    const at = Date.now();
    const d: Discovery = {
      generation,
      at,
      atText: new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z"),
      instances: found.map((f) => ({ instanceId: f.observed.instanceId, zoneId: f.observed.zoneId, instanceName: f.observed.instanceName, tags: f.tags })),
    };
    discoveries.set(key, d);
    return d;
  };

  /** instanceId → namespace/name of a resource in the region that no set owns. */
  const standaloneIn = (regionId: string): Map<string, string> => {
    const out = new Map<string, string>();
    for (const r of resources.list()) {
      if (r.spec?.regionId === regionId && owningSet(r) === undefined && !r.metadata.deletionTimestamp)
        out.set(r.spec.instanceId, `${r.metadata.namespace}/${r.metadata.name}`);
    }
    return out;
  };

  const announce = (set: SetObject, plan: SetPlan, hadChild: ReadonlySet<string>) => {
    const matched = plan.creates.map((b) => String(b.spec["instanceId"])).filter((id) => !hadChild.has(id));
    const unmatched = plan.deletes.filter((d) => d.why === "unmatched").map((d) => d.instanceId);
    const yielded = plan.deletes.filter((d) => d.why === "standalone").map((d) => d.instanceId);
    if (matched.length > 0)
      deps.events.record(set, "Normal", "InstancesMatched", `${matched.length} instances now match; children created: ${sample(matched)}`);
    if (unmatched.length > 0)
      deps.events.record(
        set,
        "Normal",
        "InstancesUnmatched",
        `${unmatched.length} instances no longer match; children deleted, instances left as they are: ${sample(unmatched)}`,
      );
    if (yielded.length > 0)
      deps.events.record(
        set,
        "Warning",
        "StandaloneWins",
        `${yielded.length} instances are managed by a standalone resource; children deleted: ${sample(yielded)}`,
      );
  };

  const writeStatus = async (set: SetObject, next: SetStatus) => {
    if (!isDeepStrictEqual(set.status, next)) await status.write(set, next);
  };

  const reconcile = async (key: ObjectKey, signal: AbortSignal) => {
    const k = `${key.namespace}/${key.name}`;
    const set = status.fresh(sets.get(key.namespace, key.name));
    if (!set || set.metadata.deletionTimestamp) return Action.awaitChange();
    const generation = set.metadata.generation ?? 0;
    const last = planned.get(k);
    if (last && last.generation === generation && Date.now() - last.at < MIN_REPLAN_MS) return Action.requeueAfter(last.at + MIN_REPLAN_MS - Date.now());
    planned.set(k, { at: Date.now(), generation });
    const parsed = setSpecSchema.safeParse(set.spec);
    if (!parsed.success) {
      await writeStatus(set, errorStatus(set.status, generation, "InvalidSpec", formatIssues(parsed.error.issues, "spec"), new Date()));
      return Action.awaitChange();
    }
    let discovery: Discovery;
    try {
      discovery = await discover(k, parsed.data, generation, signal);
    } catch (err) {
      const message = err instanceof EcsError ? `DescribeInstances failed: ${err.code}: ${err.message}` : `discovery failed: ${String(err)}`;
      await writeStatus(set, errorStatus(set.status, generation, "DiscoveryFailed", message.slice(0, 1024), new Date()));
      throw err;
    }
    const view = { namespace: key.namespace ?? "", name: key.name, uid: set.metadata.uid ?? "", spec: parsed.data };
    const children = resources.list().filter((r) => r.metadata.namespace === view.namespace && owningSet(r) === view.name);
    const plan = decideSet(
      view,
      selectInstances(parsed.data, discovery.instances),
      children.map(childView),
      standaloneIn(parsed.data.regionId),
      MAX_WRITES_PER_PASS,
    );
    announce(set, plan, new Set(children.map((c) => c.spec.instanceId)));
    await executePlan(plan, view.namespace, writer, signal);
    await writeStatus(set, planStatus(set.status, plan, generation, discovery.atText, new Date()));
    const nextDiscovery = discovery.at + deps.resyncPeriodMs - Date.now();
    return Action.requeueAfter(plan.waiting > 0 && !plan.paused ? MIN_REPLAN_MS : Math.max(MIN_REPLAN_MS, nextDiscovery));
  };

  const setsIn = (ns: string | undefined) => sets.list().filter((s) => ns === undefined || s.metadata.namespace === ns);
  const controller = new Controller<SetObject>({
    name: SET_PLURAL,
    informer: sets,
    watches: [
      {
        informer: resources,
        // A child's progress re-queues its set; a standalone resource coming or going re-queues every set.
        map: (r: EcsInstanceAttributes) => {
          const owner = owningSet(r);
          return owner !== undefined
            ? [{ namespace: r.metadata.namespace, name: owner }]
            : setsIn(undefined).map((s) => ({ namespace: s.metadata.namespace, name: s.metadata.name ?? "" }));
        },
      },
    ],
    concurrency: 2,
    logger: log,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    reconcile: (key, ctx) => reconcile(key, ctx.signal),
  });
  return { controller, informer: sets };
}
