// EcsProviderConfig constraints, pure: which config a resource uses, what it may do, and how the
// GUARDS rows turn a denial into conditions with no ECS read or write.
import { describe, expect, it } from "vitest";
import { type EcsInstanceAttributes, validateSpec } from "../../../../src/api/index.js";
import { decide, type World } from "../../../../src/reconciler/decide.js";
import { type CachedConfig, chooseConfig, preReadDenial, selectorMatches, tagDenial } from "../../../../src/reconciler/provider-config/policy.js";
import { ecsTarget, Tenancy } from "../../../../src/reconciler/provider-config/tenancy.js";
import { observedInstance } from "../fixtures.js";

const now = new Date("2026-12-03T10:00:00Z");
const teamA = {
  credentials: { source: "Default" },
  constraints: {
    namespaceSelector: { matchLabels: { tenant: "team-a" } },
    allowedRegions: ["cn-hangzhou"],
    instanceTags: [{ key: "team", value: "team-a" }],
    allowedFields: ["instanceName", "description"],
  },
};
const configs: Record<string, CachedConfig> = { "team-a": { metadata: { name: "team-a" }, spec: teamA } };
const labels: Record<string, Record<string, string>> = { a: { tenant: "team-a" }, b: { tenant: "team-b" } };
const objects = { getSecret: () => undefined, getConfigMap: () => undefined };

function tenancy(requireConfig = false, extra: Record<string, CachedConfig> = {}) {
  const all = { ...configs, ...extra };
  return new Tenancy({ getConfig: (n) => all[n], namespaceLabels: (ns) => labels[ns], objects, requireConfig });
}

function spec(over: Record<string, unknown> = {}) {
  const r = validateSpec({ instanceId: "i-bp1abc", regionId: "cn-hangzhou", providerConfigRef: { name: "team-a" }, instanceName: "web-x", ...over });
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe("chooseConfig", () => {
  const get = (n: string) => configs[n];
  it("an omitted ref with no default config is today's behaviour (no constraints) unless required", () => {
    expect(chooseConfig(undefined, get, false)).toEqual({ name: "default" });
    expect(chooseConfig(undefined, get, true).denial).toMatchObject({ kind: "ProviderConfigNotFound", rule: "spec.providerConfigRef" });
  });
  it("any other missing name is ProviderConfigNotFound, naming it", () => {
    expect(chooseConfig("team-z", get, false).denial?.message).toContain("EcsProviderConfig team-z not found");
  });
  it("a config that does not parse denies everything", () => {
    const d = chooseConfig("bad", () => ({ spec: { credentials: { source: "RRSA" } } }), false).denial;
    expect(d).toMatchObject({ kind: "Forbidden", rule: "spec" });
  });
});

describe("selectorMatches", () => {
  it.each([
    [{}, {}, true],
    [{ matchLabels: { a: "1" } }, { a: "1", b: "2" }, true],
    [{ matchLabels: { a: "1" } }, { a: "2" }, false],
    [{ matchExpressions: [{ key: "a", operator: "In" as const, values: ["1", "2"] }] }, { a: "2" }, true],
    [{ matchExpressions: [{ key: "a", operator: "NotIn" as const, values: ["1"] }] }, { a: "1" }, false],
    [{ matchExpressions: [{ key: "a", operator: "NotIn" as const, values: ["1"] }] }, {}, true],
    [{ matchExpressions: [{ key: "a", operator: "Exists" as const }] }, {}, false],
    [{ matchExpressions: [{ key: "a", operator: "DoesNotExist" as const }] }, {}, true],
  ])("%j on %j → %s", (sel, l, want) => expect(selectorMatches(sel, l)).toBe(want));
});

describe("preReadDenial and tagDenial", () => {
  const choice = chooseConfig("team-a", (n) => configs[n], false);
  it("allows a resource that keeps every rule", () => {
    expect(preReadDenial(choice, "a", labels["a"], spec())).toBeUndefined();
    expect(tagDenial(choice, { instanceId: "i-1", tags: [{ key: "team", value: "team-a" }] })).toBeUndefined();
  });
  it.each([
    ["namespace outside the selector", "b", spec(), "constraints.namespaceSelector", "namespace b may not use this config"],
    ["namespace not in the cache", "zz", spec(), "constraints.namespaceSelector", "its labels are not known"],
    ["region not allowed", "a", spec({ regionId: "cn-beijing" }), "constraints.allowedRegions", "region cn-beijing is not allowed"],
    ["password not allowed", "a", spec({ passwordSecretRef: { name: "pw", key: "p" } }), "constraints.allowedFields", "password (spec.passwordSecretRef)"],
    ["group member not allowed", "a", spec({ cpuOptions: { core: 2 } }), "constraints.allowedFields", "cpuOptions.core"],
  ])("%s → Forbidden naming the config and the rule", (_n, ns, s, rule, text) => {
    const d = preReadDenial(choice, ns, labels[ns], s);
    expect(d).toMatchObject({ kind: "Forbidden", rule });
    expect(d?.message).toContain("EcsProviderConfig team-a");
    expect(d?.message).toContain(text);
  });
  it("a missing or different tag names the instance and the tag", () => {
    expect(tagDenial(choice, { instanceId: "i-worker", tags: [] })?.message).toContain("instance i-worker lacks the required tag team=team-a");
    expect(tagDenial(choice, { instanceId: "i-b", tags: [{ key: "team", value: "team-b" }] })?.message).toContain("(it has team=team-b)");
    expect(tagDenial(choice, { instanceId: "i-u" })?.rule).toBe("constraints.instanceTags");
  });
});

/** The decision, failing the test when decide asks for a read instead. */
function decided(w: World) {
  const d = decide(w);
  if ("read" in d) throw new Error(`expected a decision, got a read of ${d.read.instanceId}`);
  return d;
}

describe("GUARDS rows", () => {
  const obj = (ns: string, s: Record<string, unknown>, status?: EcsInstanceAttributes["status"]) =>
    ({ metadata: { namespace: ns, name: "r", uid: "u", generation: 2 }, spec: s, status }) as unknown as EcsInstanceAttributes;
  const worldFor = (ns: string, s: ReturnType<typeof spec>, instance?: World["instance"]): World => {
    const o = obj(ns, s);
    return { obj: o, spec: { ok: true, value: s }, inputs: {}, tenancy: tenancy().resolve(ns, s), now, ...(instance ? { instance } : {}) };
  };

  it("a pre-read denial decides before any read: no read request, no Modify", () => {
    const d = decide(worldFor("b", spec()));
    expect("read" in d).toBe(false);
    if ("read" in d) return;
    expect(d.by).toBe("providerConfig");
    expect(d.modify).toBeUndefined();
    expect(d.status?.ready).toMatchObject({ status: "False", reason: "Forbidden" });
    expect(d.status?.synced?.reason).toBe("Forbidden");
  });

  it("ProviderConfigNotFound under --require-provider-config", () => {
    const s = spec({ providerConfigRef: undefined });
    const d = decide({ obj: obj("a", s), spec: { ok: true, value: s }, inputs: {}, tenancy: tenancy(true).resolve("a", s), now });
    expect("read" in d ? undefined : d.status?.ready.reason).toBe("ProviderConfigNotFound");
  });

  it("an allowed resource is read, and the tag guard stops the write when the instance lacks the tag", () => {
    const s = spec();
    expect("read" in decide(worldFor("a", s))).toBe(true);
    const d = decided(worldFor("a", s, { observed: observedInstance({ instanceId: "i-bp1abc", tags: [{ key: "team", value: "team-b" }] }) }));
    expect(d.by).toBe("instanceTags");
    expect(d.modify).toBeUndefined();
    expect(d.status?.ready.message).toContain("instance i-bp1abc lacks the required tag team=team-a");
    // Another team's instance: its attributes are not copied into this resource's status.
    expect(d.status?.observed).toBeUndefined();
  });

  it("with the tag, the plan's Modify goes out with the config's credentials", () => {
    const d = decided(worldFor("a", spec(), { observed: observedInstance({ instanceId: "i-bp1abc", tags: [{ key: "team", value: "team-a" }] }) }));
    expect(d.by).toBe("plan");
    expect(d.modify?.request.instanceName).toBe("web-x");
    expect(d.modify?.target.credentials).toEqual({ type: "default" });
  });

  it("a resource its config denies, or last found Forbidden at this generation, is not eligible in a conflict", () => {
    const t = tenancy();
    expect(t.eligible(obj("b", spec()))).toBe(false);
    expect(t.eligible(obj("a", spec()))).toBe(true);
    const forbidden = { conditions: [{ type: "Ready", status: "False", reason: "Forbidden", message: "", lastTransitionTime: "", observedGeneration: 2 }] };
    expect(t.eligible(obj("a", spec(), forbidden as never))).toBe(false);
    const stale = { conditions: [{ ...forbidden.conditions[0], observedGeneration: 1 }] };
    expect(t.eligible(obj("a", spec(), stale as never))).toBe(true);
  });

  it("a config with a source this build cannot resolve stops its resources with CredentialsError, never another identity", () => {
    const rrsa = { credentials: { source: "RRSA", rrsa: { roleArn: "acs:ram::1:role/a", oidcProviderArn: "acs:ram::1:oidc-provider/b" } } };
    const v = tenancy(false, { r: { spec: rrsa } }).resolve("a", spec({ providerConfigRef: { name: "r" } }));
    expect(v.denial?.kind).toBe("CredentialsError");
    expect(v.credentials).toBeUndefined();
  });
});

describe("a config's endpoint choice reaches the ECS target", () => {
  const teamB = {
    credentials: { source: "Default" },
    endpoint: {
      network: "vpc",
      allowInsecure: true,
      regionOverrides: [{ regionId: "cn-hangzhou", endpoint: "http://127.0.0.1:18081" }],
    },
  };
  const t = () => tenancy(false, { "team-b": { metadata: { name: "team-b" }, spec: teamB } });
  const s = (regionId: string) => spec({ providerConfigRef: { name: "team-b" }, regionId });
  const world = (regionId: string, instance?: World["instance"]): World => ({
    obj: { metadata: { namespace: "a", name: "r", uid: "u", generation: 1 }, spec: s(regionId) } as unknown as EcsInstanceAttributes,
    spec: { ok: true, value: s(regionId) },
    inputs: {},
    tenancy: t().resolve("a", s(regionId)),
    now,
    ...(instance ? { instance } : {}),
  });

  it("the read and the Modify go to the config's override for the region", () => {
    const read = decide(world("cn-hangzhou"));
    if (!("read" in read)) throw new Error(`expected a read, got ${read.by}`);
    const url = { host: "127.0.0.1:18081", protocol: "http" };
    expect(read.read.target).toEqual({ credentials: { type: "default" }, regionId: "cn-hangzhou", endpoint: { url, network: "vpc" } });
    const d = decided(world("cn-hangzhou", { observed: observedInstance({ instanceId: "i-bp1abc" }) }));
    expect(d.modify?.target.endpoint).toEqual({ url, network: "vpc" });
  });

  it("a region without an override carries only the config's network; a config without an endpoint block carries nothing", () => {
    expect(t().resolve("a", s("cn-beijing")).endpoint).toEqual({ network: "vpc" });
    expect(tenancy().resolve("a", spec()).endpoint).toBeUndefined();
  });

  it("ecsTarget: the resource's own credentials win, the config's endpoint applies either way", () => {
    const own = { type: "accessKey", accessKeyId: "LTAIown", accessKeySecret: "s" } as const;
    const view = { credentials: { type: "default" } as const, endpoint: { network: "vpc" as const } };
    expect(ecsTarget("cn-hangzhou", own, view)).toEqual({ credentials: own, regionId: "cn-hangzhou", endpoint: { network: "vpc" } });
    expect(ecsTarget("cn-hangzhou", undefined, undefined)).toEqual({ credentials: { type: "default" }, regionId: "cn-hangzhou" });
  });
});
