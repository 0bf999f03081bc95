import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { setSpecSchema, TEMPLATE_TEXT_PATTERN, type SetSpec } from "../../../src/api/set.js";
import { type ChildView, decideSet, type Discovered, resolveMaxInFlight, selectInstances, type SetPlan } from "../../../src/sets/decide.js";
import { planStatus } from "../../../src/sets/status.js";
import { globToRegExp, renderText } from "../../../src/sets/template.js";

const spec = (over: Record<string, unknown> = {}): SetSpec =>
  setSpecSchema.parse({ regionId: "cn-hangzhou", selector: { tags: { team: "pay" } }, template: { instanceName: "pay-{{ .InstanceId }}" }, ...over });
const inst = (n: number, tags: Record<string, string> = { team: "pay" }): Discovered => ({
  instanceId: `i-x${String(n).padStart(3, "0")}`,
  zoneId: "cn-hangzhou-h",
  instanceName: `seed-${n}`,
  tags,
});
const set = (s: SetSpec) => ({ namespace: "ns", name: "pay", uid: "u1", spec: s });
/** A child already in line with the template (ready) or still on its way (not settled). */
const child = (n: number, s: SetSpec, state: Partial<ChildView> = {}): ChildView => ({
  name: `pay-i-x${String(n).padStart(3, "0")}`,
  instanceId: inst(n).instanceId,
  spec: { instanceId: inst(n).instanceId, regionId: "cn-hangzhou", managementPolicy: s.managementPolicy, instanceName: `pay-${inst(n).instanceId}` },
  ready: true,
  settled: true,
  ...state,
});
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("template text", () => {
  const re = new RegExp(TEMPLATE_TEXT_PATTERN);
  it.each(["plain", "a-{{ .InstanceId }}", "{{.ZoneId}}-{{ .Tags.app }}", "{ not a var }", "x{"])("admits %s", (t) => expect(re.test(t)).toBe(true));
  it.each(["{{ .Nope }}", "{{ InstanceId }}", "{{ .InstanceId }", "{{{ .InstanceId }}", "{{ .Tags. }}"])("rejects %s", (t) => expect(re.test(t)).toBe(false));

  it("renders the variables and names the field of a missing tag", () => {
    const vars = { instanceId: "i-1", zoneId: "z", instanceName: "n", tags: { app: "web" } };
    expect(renderText("{{ .InstanceName }}/{{.Tags.app}}@{{ .ZoneId }}#{{ .InstanceId }}", vars, "description")).toEqual({ ok: true, value: "n/web@z#i-1" });
    expect(renderText("{{ .Tags.owner }}", vars, "instanceName")).toEqual({
      ok: false,
      message: "spec.template.instanceName: the instance has no tag 'owner'",
    });
  });

  it("globs: * and ? only, everything else literal", () => {
    expect(globToRegExp("web-*").test("web-01")).toBe(true);
    expect(globToRegExp("web-?").test("web-01")).toBe(false);
    expect(globToRegExp("a.b*").test("axb")).toBe(false);
  });
});

describe("selector admission rule (zod side)", () => {
  it("rejects an empty selector unless matchAll is true", () => {
    expect(setSpecSchema.safeParse({ regionId: "cn-hangzhou", selector: {}, template: {} }).success).toBe(false);
    expect(setSpecSchema.safeParse({ regionId: "cn-hangzhou", selector: { tags: {} }, template: {} }).success).toBe(false);
    expect(setSpecSchema.safeParse({ regionId: "cn-hangzhou", selector: { matchAll: true }, template: {} }).success).toBe(true);
  });
});

describe("resolveMaxInFlight", () => {
  it("counts, percentages rounded up, and the 10% default for restart-needing templates", () => {
    expect(resolveMaxInFlight(spec({ rollout: { maxInFlight: 3 } }), 100)).toBe(3);
    expect(resolveMaxInFlight(spec({ rollout: { maxInFlight: "25%" } }), 10)).toBe(3);
    expect(resolveMaxInFlight(spec({ rollout: { maxInFlight: "1%" } }), 5)).toBe(1);
    expect(resolveMaxInFlight(spec(), 40)).toBe(40);
    expect(resolveMaxInFlight(spec({ template: { hostName: "h-{{ .InstanceId }}" } }), 40)).toBe(4);
    expect(resolveMaxInFlight(spec({ template: { passwordSecretRef: { name: "s", key: "k" } } }), 5)).toBe(1);
  });
});

describe("decideSet", () => {
  it("creates a child per matched instance, all at once by default", () => {
    const s = spec();
    const p = decideSet(
      set(s),
      range(5).map((n) => inst(n)),
      [],
      new Map(),
    );
    expect(p.creates.map((c) => c.metadata.name)).toEqual(range(5).map((n) => `pay-i-x00${n}`));
    expect(p.creates[0]).toMatchObject({
      metadata: {
        labels: { "ecs.alicloud.dev/set": "pay" },
        ownerReferences: [{ kind: "EcsInstanceAttributesSet", name: "pay", uid: "u1", controller: true }],
      },
      spec: { instanceId: "i-x000", regionId: "cn-hangzhou", managementPolicy: "Apply", instanceName: "pay-i-x000" },
    });
    expect(p).toMatchObject({ updating: 5, waiting: 0, matched: 5 });
  });

  it("keeps at most maxInFlight children in flight, counting those not yet settled", () => {
    const old = spec();
    const next = spec({ template: { instanceName: "new-{{ .InstanceId }}" }, rollout: { maxInFlight: 3 } });
    const children = range(10).map((n) => child(n, old, n === 0 ? { ready: false, settled: false } : {}));
    const p = decideSet(
      set(next),
      range(10).map((n) => inst(n)),
      children,
      new Map(),
    );
    // child 0 is in flight (takes the new spec without a slot); two more slots.
    expect(p.updates.map((u) => u.metadata.name)).toEqual(["pay-i-x000", "pay-i-x001", "pay-i-x002"]);
    expect(p).toMatchObject({ updating: 3, waiting: 7, ready: 9 });
  });

  it("bounds one pass to maxWrites creates/updates; the rest waits for the next pass", () => {
    const p = decideSet(
      set(spec()),
      range(5).map((n) => inst(n)),
      [],
      new Map(),
      2,
    );
    expect(p.creates).toHaveLength(2);
    expect(p).toMatchObject({ updating: 2, waiting: 3 });
  });

  it("paused: no creates or updates, the rest waits", () => {
    const p = decideSet(
      set(spec({ rollout: { paused: true } })),
      range(4).map((n) => inst(n)),
      [],
      new Map(),
    );
    expect(p.creates).toEqual([]);
    expect(p).toMatchObject({ waiting: 4, paused: true });
  });

  it("deletes children whose instance stopped matching or belongs to a standalone resource, and reports the skip", () => {
    const s = spec();
    const children = [child(0, s), child(1, s), child(2, s)];
    const p = decideSet(set(s), [inst(0), inst(2)], children, new Map([[inst(2).instanceId, "ns/mine"]]));
    expect(p.deletes).toEqual([
      { name: "pay-i-x001", instanceId: "i-x001", why: "unmatched" },
      { name: "pay-i-x002", instanceId: "i-x002", why: "standalone" },
    ]);
    expect(p.skipped).toEqual([{ instanceId: "i-x002", resource: "ns/mine" }]);
    expect(p).toMatchObject({ ready: 1, creates: [], updates: [] });
  });

  it("fails only the instance whose rendered spec is invalid, naming the template field", () => {
    const s = spec({ template: { instanceName: "{{ .Tags.app }}" } });
    const p = decideSet(set(s), [inst(0, { app: "good" }), inst(1, { app: "9bad" })], [], new Map());
    expect(p.creates.map((c) => c.spec["instanceName"])).toEqual(["good"]);
    expect(p.failing).toEqual([{ name: "", instanceId: "i-x001", reason: "InvalidSpec", message: expect.stringMatching(/^spec\.template\.instanceName/) }]);
  });

  it("selects by the name glob after ECS filtered the rest", () => {
    const s = spec({ selector: { tags: { team: "pay" }, instanceNamePattern: "seed-1*" } });
    expect(selectInstances(s, [inst(1), inst(2), inst(10)]).map((i) => i.instanceName)).toEqual(["seed-1", "seed-10"]);
  });
});

describe("planStatus", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const plan = (over: Partial<SetPlan>): SetPlan => ({
    creates: [],
    updates: [],
    deletes: [],
    matched: 3,
    ready: 3,
    updating: 0,
    waiting: 0,
    failing: [],
    skipped: [],
    maxInFlight: 3,
    paused: false,
    ...over,
  });
  const conds = (p: SetPlan) => Object.fromEntries((planStatus(undefined, p, 2, "t", now).conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));

  it("Ready only when every child is Ready and nothing is left to roll out", () => {
    expect(conds(plan({}))).toEqual({ Ready: "True/AllReady", Synced: "True/DiscoverySucceeded", Reconciling: "False/AllReady", Stalled: "False/AllReady" });
    expect(conds(plan({ ready: 1, updating: 1, waiting: 1 }))).toMatchObject({ Ready: "False/RolloutInProgress", Reconciling: "True/RolloutInProgress" });
    expect(conds(plan({ ready: 1, waiting: 2, paused: true }))).toMatchObject({ Ready: "False/RolloutPaused", Reconciling: "False/RolloutPaused" });
    expect(conds(plan({ ready: 2, failing: [{ name: "a", instanceId: "i-a", reason: "InvalidSpec" }] }))).toMatchObject({
      Ready: "False/ChildrenFailing",
      Stalled: "True/ChildrenFailing",
    });
  });

  it("an unchanged plan gives an identical status (no write)", () => {
    const first = planStatus(undefined, plan({}), 2, "t", now);
    expect(planStatus(first, plan({}), 2, "t", new Date("2026-01-02T00:00:00Z"))).toEqual(first);
  });
});

describe("examples/set.yaml", () => {
  it("passes the set schema and renders a valid child for a tagged instance", () => {
    const doc = parse(readFileSync(join(import.meta.dirname, "../../../examples/set.yaml"), "utf8")) as { kind: string; spec: unknown };
    expect(doc.kind).toBe("EcsInstanceAttributesSet");
    const s = setSpecSchema.parse(doc.spec);
    const p = decideSet({ namespace: "pay", name: "pay-fleet", uid: "u", spec: s }, [inst(1)], [], new Map());
    expect(p.failing).toEqual([]);
    expect(p.creates[0]?.spec).toMatchObject({ instanceName: "pay-i-x001", description: "pay service in cn-hangzhou-h, owner pay" });
  });
});
