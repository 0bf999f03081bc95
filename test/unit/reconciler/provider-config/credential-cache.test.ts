// Provider-config credentials resolved asynchronously and cached per version (credential-cache.ts),
// and the endpoint https rule (src/api/provider-config.ts) refusing a config's resources before any request.
import { describe, expect, it } from "vitest";
import { validateSpec } from "../../../../src/api/index.js";
import { type CredentialSource, providerConfigSpecSchema } from "../../../../src/api/provider-config.js";
import type { ResolvedCredentials, SdkCredential } from "../../../../src/cloud/credentials.js";
import { ConfigCredentialCache } from "../../../../src/reconciler/provider-config/credential-cache.js";
import { Tenancy } from "../../../../src/reconciler/provider-config/tenancy.js";
import { configStatus, type ProviderConfigDeps, resolveInto } from "../../../../src/reconciler/provider-config/watch.js";

const ACCOUNT = "1000000000000009";
const assumeRole = providerConfigSpecSchema.parse({
  credentials: {
    source: "AssumeRole",
    assumeRole: { roleArn: `acs:ram::${ACCOUNT}:role/w`, baseCredentialsSecretRef: { namespace: "ecs-system", name: "base" } },
  },
});

function resolved(): ResolvedCredentials {
  return {
    source: "AssumeRole",
    credential: {} as SdkCredential,
    identity: {
      source: "AssumeRole",
      providerName: "ram_role_arn/static_ak",
      accountId: ACCOUNT,
      arn: `acs:ram::${ACCOUNT}:assumed-role/w/s`,
      identityType: "AssumedRoleUser",
    },
  };
}

function setup(opts: { fail?: string; sources?: CredentialSource[] } = {}) {
  const versions: Record<string, string> = { "ecs-system/base": "1" };
  let calls = 0;
  const cache = new ConfigCredentialCache({
    resolve: async () => {
      calls++;
      if (opts.fail) throw new Error(opts.fail);
      return resolved();
    },
    secretVersion: (ns, name) => versions[`${ns}/${name}`],
    sources: new Set(opts.sources ?? ["RRSA", "AssumeRole"]),
  });
  return { cache, versions, calls: () => calls };
}

describe("ConfigCredentialCache", () => {
  it("answers 'being resolved' (no credentials) before resolution, then the resolved account", async () => {
    const { cache } = setup();
    expect(cache.credentialsFor("w", assumeRole)).toEqual({ error: expect.stringContaining("being resolved") });
    const { entry, changed } = await cache.resolve("w", assumeRole);
    expect(changed).toBe(true);
    expect(entry).toMatchObject({ accountId: ACCOUNT, credentials: { type: "provider", identity: `acct:${ACCOUNT}` } });
    expect(cache.credentialsFor("w", assumeRole)).toMatchObject({ credentials: { identity: `acct:${ACCOUNT}` } });
  });

  it("resolves once per version: a changed Secret version resolves again; the same version does not", async () => {
    const { cache, versions, calls } = setup();
    await cache.resolve("w", assumeRole);
    expect((await cache.resolve("w", assumeRole)).changed).toBe(false);
    expect(calls()).toBe(1);
    versions["ecs-system/base"] = "2";
    expect(cache.credentialsFor("w", assumeRole)).toEqual({ error: expect.stringContaining("being resolved") });
    expect((await cache.resolve("w", assumeRole)).changed).toBe(true);
    expect(calls()).toBe(2);
  });

  it("a failed resolution is the one-line error the config condition and its resources show", async () => {
    const { cache } = setup({ fail: "credentials source AssumeRole: Forbidden.RAM" });
    const { entry } = await cache.resolve("w", assumeRole);
    expect(entry).toMatchObject({ error: "credentials source AssumeRole: Forbidden.RAM" });
    expect(cache.credentialsFor("w", assumeRole)).toMatchObject({ error: "credentials source AssumeRole: Forbidden.RAM" });
  });

  it("a failure is resolved again on the next try (a repeat of the same failure is not news); a success then sticks", async () => {
    let fail = true;
    let calls = 0;
    const cache = new ConfigCredentialCache({
      resolve: async () => {
        calls++;
        if (fail) throw new Error("credentials source AssumeRole: STS unreachable");
        return resolved();
      },
      secretVersion: () => "1",
      sources: new Set<CredentialSource>(["AssumeRole"]),
    });
    expect((await cache.resolve("w", assumeRole)).changed).toBe(true);
    expect((await cache.resolve("w", assumeRole)).changed).toBe(false);
    expect(calls).toBe(2);
    fail = false;
    const { entry, changed } = await cache.resolve("w", assumeRole);
    expect(changed).toBe(true);
    expect(entry).toMatchObject({ accountId: ACCOUNT });
    await cache.resolve("w", assumeRole);
    expect(calls).toBe(3);
  });

  it("leaves sources it does not handle to tenancy's built-in path", () => {
    const { cache } = setup();
    expect(cache.credentialsFor("d", providerConfigSpecSchema.parse({ credentials: { source: "Default" } }))).toBeUndefined();
  });
});

describe("endpoint https rule: an http:// override without endpoint.allowInsecure", () => {
  const spec = validateSpec({ instanceId: "i-bp1abc", regionId: "cn-hangzhou", providerConfigRef: { name: "plain" }, instanceName: "web-x" });
  if (!spec.ok) throw new Error(spec.message);
  // Admission refuses this shape; a config written around it (or by an older CRD) must still be refused.
  const plain = (allowInsecure: boolean) => ({
    credentials: { source: "Default" },
    endpoint: { allowInsecure, regionOverrides: [{ regionId: "cn-hangzhou", endpoint: "http://10.0.0.1:80" }] },
  });
  const tenancy = (allowInsecure: boolean) =>
    new Tenancy({
      getConfig: (n) => (n === "plain" ? { metadata: { name: "plain" }, spec: plain(allowInsecure) } : undefined),
      namespaceLabels: () => ({}),
      objects: { getSecret: () => undefined, getConfigMap: () => undefined },
      requireConfig: false,
    });

  it("refuses the config's resources before any request, naming the rule", () => {
    const view = tenancy(false).resolve("a", spec.value);
    expect(view.denial).toMatchObject({ kind: "Forbidden", rule: "spec" });
    expect(view.denial?.message).toContain("endpoint.regionOverrides must use https:// unless endpoint.allowInsecure is true");
    expect(view.credentials).toBeUndefined();
  });

  it("config status: Ready=False InvalidConfig naming the problem", () => {
    const obj = { metadata: { name: "plain", generation: 1 }, spec: plain(false) };
    const { status } = configStatus(obj, tenancy(false), new Date("2026-12-03T10:00:00Z"));
    expect(status.conditions?.[0]).toMatchObject({ type: "Ready", status: "False", reason: "InvalidConfig" });
    expect(status.conditions?.[0]?.message).toContain("must use https://");
  });

  it("config status of a usable endpoint block is Ready with no caveat (the choice is applied per config)", () => {
    const obj = { metadata: { name: "plain", generation: 1 }, spec: plain(true) };
    const { status } = configStatus(obj, tenancy(true), new Date("2026-12-03T10:00:00Z"));
    expect(status.conditions?.[0]).toMatchObject({ type: "Ready", status: "True", reason: "CredentialsResolved" });
    expect(status.conditions?.[0]?.message).toBe("credentials source Default: the controller's credential chain");
  });

  it("an override no client can use (port above 65535, past the schema's pattern): config not Ready, resources Forbidden naming the override", () => {
    const badPort = { credentials: { source: "Default" }, endpoint: { regionOverrides: [{ regionId: "cn-hangzhou", endpoint: "https://ecs.example:99999" }] } };
    const t = new Tenancy({
      getConfig: (n) => (n === "plain" ? { metadata: { name: "plain" }, spec: badPort } : undefined),
      namespaceLabels: () => ({}),
      objects: { getSecret: () => undefined, getConfigMap: () => undefined },
      requireConfig: false,
    });
    const view = t.resolve("a", spec.value);
    expect(view.denial).toMatchObject({ kind: "Forbidden", rule: "endpoint.regionOverrides" });
    expect(view.denial?.message).toMatch(/^EcsProviderConfig plain \(endpoint\.regionOverrides\): endpoint\.regionOverrides\[cn-hangzhou\]: /);
    expect(view.endpoint).toBeUndefined();
    expect(view.credentials).toBeUndefined();
    const { status } = configStatus({ metadata: { name: "plain", generation: 1 }, spec: badPort }, t, new Date("2026-12-03T10:00:00Z"));
    expect(status.conditions?.[0]).toMatchObject({ type: "Ready", status: "False", reason: "InvalidConfig" });
    expect(status.conditions?.[0]?.message).toContain("endpoint.regionOverrides[cn-hangzhou]");
  });

  it("endpoint.allowInsecure lets it through (a local emulator), and the resource's target carries the override", () => {
    const view = tenancy(true).resolve("a", spec.value);
    expect(view.denial).toBeUndefined();
    // (URL drops the scheme's default port.)
    expect(view.endpoint).toEqual({ url: { host: "10.0.0.1", protocol: "http" }, network: "public" });
  });
});

describe("resolveInto (config-status controller): rate limits and re-queues", () => {
  const withRates = providerConfigSpecSchema.parse({
    ...assumeRole,
    rateLimits: { perAction: [{ action: "ModifyInstanceAttribute", qps: 2, burst: 3 }] },
  });
  function deps() {
    const rates: Array<[string, unknown]> = [];
    const requeued: string[][] = [];
    const d = {
      setAccountRates: (account: string, perAction: unknown) => rates.push([account, perAction]),
      requeue: (keys: string[]) => requeued.push(keys),
      usingConfig: () => ["ns/a", "ns/b"],
    } as unknown as ProviderConfigDeps;
    return { d, rates, requeued };
  }
  const obj = (spec: unknown) => ({ metadata: { name: "w", generation: 1 }, spec });

  it("applies the config's rateLimits to the resolved account and re-queues its resources once per new answer", async () => {
    const { cache } = setup();
    const { d, rates, requeued } = deps();
    expect(await resolveInto(cache, d, "w", obj(withRates))).toBe(false);
    expect(rates).toEqual([[`acct:${ACCOUNT}`, { ModifyInstanceAttribute: { qps: 2, burst: 3 } }]]);
    expect(requeued).toEqual([["ns/a", "ns/b"]]);
    await resolveInto(cache, d, "w", obj(withRates));
    expect(requeued).toHaveLength(1);
    expect(rates).toHaveLength(2);
  });

  it("a failed resolution asks for a retry and sets no rates", async () => {
    const { cache } = setup({ fail: "credentials source AssumeRole: STS unreachable" });
    const { d, rates, requeued } = deps();
    expect(await resolveInto(cache, d, "w", obj(withRates))).toBe(true);
    expect(rates).toEqual([]);
    expect(requeued).toEqual([["ns/a", "ns/b"]]);
  });
});
