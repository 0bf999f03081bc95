import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { Condition, EcsInstanceAttributes } from "../../../src/api/index.js";
import { registerResourceGauge, resourceLabels } from "../../../src/resource-metrics.js";

type Obj = Pick<EcsInstanceAttributes, "status">;
const cond = (type: string, status: "True" | "False" | "Unknown", reason: string): Condition => ({
  type,
  status,
  reason,
  message: "",
  lastTransitionTime: "2026-01-01T00:00:00Z",
});
const obj = (...conditions: Condition[]): Obj => ({ status: { conditions } });

describe("ecs_attributes_resources", () => {
  it("labels a resource by its Ready and Synced status and the Ready reason", () => {
    expect(resourceLabels(obj(cond("Ready", "True", "InSync"), cond("Synced", "True", "ReconcileSuccess")))).toEqual({
      ready: "True",
      synced: "True",
      reason: "InSync",
    });
    expect(resourceLabels(obj(cond("Synced", "False", "Throttling"), cond("Ready", "False", "InvalidHostNameMalformed")))).toEqual({
      ready: "False",
      synced: "False",
      reason: "InvalidHostNameMalformed",
    });
    expect(resourceLabels({})).toEqual({ ready: "Unknown", synced: "Unknown", reason: "Unknown" });
  });

  it("recounts the store on every scrape, dropping combinations nobody has any more", async () => {
    const registry = new Registry();
    let store: Obj[] = [
      obj(cond("Ready", "True", "InSync"), cond("Synced", "True", "ReconcileSuccess")),
      obj(cond("Ready", "True", "InSync"), cond("Synced", "True", "ReconcileSuccess")),
      obj(cond("Ready", "False", "InstanceNotFound"), cond("Synced", "False", "InstanceNotFound")),
    ];
    registerResourceGauge(registry, () => store);
    let text = await registry.metrics();
    expect(text).toContain('ecs_attributes_resources{ready="True",synced="True",reason="InSync"} 2');
    expect(text).toContain('ecs_attributes_resources{ready="False",synced="False",reason="InstanceNotFound"} 1');

    store = [store[0]!];
    text = await registry.metrics();
    expect(text).toContain('ecs_attributes_resources{ready="True",synced="True",reason="InSync"} 1');
    expect(text).not.toContain("InstanceNotFound");
  });
});
