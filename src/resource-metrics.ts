/**
 * The domain gauge `ecs_attributes_resources{ready,synced,reason}`: how many EcsInstanceAttributes
 * the informer's cache holds, by the status of their Ready and Synced conditions and the Ready
 * reason. It is computed from the cache at scrape time, so it costs nothing between scrapes and
 * can never drift from what the controller sees. Standbys keep warm caches too and report the same
 * counts; the alerts and dashboard in the Helm chart aggregate with max() for that reason.
 *
 * Labels are bounded: condition statuses are True/False/Unknown and reasons come from the stable
 * vocabulary in src/api/conditions.ts (ECS codes folded by reasonFromEcsCode) — never a name, an
 * instance id or a message.
 */
import { Gauge, type Registry } from "prom-client";
import type { Condition, EcsInstanceAttributes } from "./api/index.js";

export const RESOURCES_METRIC = "ecs_attributes_resources";

type Labels = "ready" | "synced" | "reason";

/** Status of a condition type, "Unknown" when the controller has not written it yet. */
function statusOf(conditions: readonly Condition[], type: string): string {
  return conditions.find((c) => c.type === type)?.status ?? "Unknown";
}

/** The labels one resource is counted under. */
export function resourceLabels(obj: Pick<EcsInstanceAttributes, "status">): Record<Labels, string> {
  const conditions = obj.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === "Ready");
  return { ready: ready?.status ?? "Unknown", synced: statusOf(conditions, "Synced"), reason: ready?.reason ?? "Unknown" };
}

/** Registers the gauge; `list` returns the cached resources (the informer's store). */
export function registerResourceGauge(registry: Registry, list: () => ReadonlyArray<Pick<EcsInstanceAttributes, "status">>): Gauge<Labels> {
  return new Gauge<Labels>({
    name: RESOURCES_METRIC,
    help: "EcsInstanceAttributes resources in the controller's cache, by Ready and Synced condition status and Ready reason.",
    labelNames: ["ready", "synced", "reason"],
    registers: [registry],
    collect() {
      // Recount from scratch: a combination no resource has any more must disappear, not stay at 0.
      this.reset();
      for (const obj of list()) this.inc(resourceLabels(obj));
    },
  });
}
