/**
 * Provider-config credential sources (src/cloud/credentials.ts) against the emulator's STS and RAM:
 * `@alicloud/credentials` unchanged over https, GetCallerIdentity naming the account, ECS calls with
 * the resolved credentials, one-line secret-free failures.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { providerConfigSpecSchema, type EcsProviderConfigSpecInput } from "../../../src/api/provider-config.js";
import { CredentialsError, ecsCredentialsOf, perActionRates, resolveCredentials, type CredentialsDeps } from "../../../src/cloud/credentials.js";
import { EcsCloud } from "../../../src/cloud/ecs.js";
import { startEmulatorInProcess, type EmulatorHandle, type SeedInput } from "../../../harness/emulator.js";
import { loopbackCertificate, trustInThisProcess } from "../../../harness/tls.js";

const ACCOUNT = "1000000000000001";
const TEAM_ACCOUNT = "3000000000000003";
const OIDC_ARN = `acs:ram::${ACCOUNT}:oidc-provider/ack-rrsa-c1`;
const REGION = "cn-hangzhou";

const SEED: SeedInput = {
  instances: [{ instanceId: "i-1" }],
  identity: {
    users: [
      { accessKeyId: "base-user", accessKeySecret: "base-secret-value", accountId: ACCOUNT, allowedActions: ["sts:AssumeRole"] },
      { accessKeyId: "team-key", accessKeySecret: "team-secret-value", accountId: TEAM_ACCOUNT },
    ],
    roles: [{ roleName: "ecs-writer", accountId: ACCOUNT, allowedActions: ["ecs:*"], oidcProviderArns: [OIDC_ARN], externalId: "ext-1" }],
    oidcProviders: [{ arn: OIDC_ARN }],
  },
};

let emu: EmulatorHandle;
const secrets = new Map<string, Record<string, string>>();
const logLines: string[] = [];
let deps: CredentialsDeps;

beforeAll(async () => {
  const tls = await loopbackCertificate();
  trustInThisProcess(tls.cert);
  emu = await startEmulatorInProcess({ seed: SEED, tls: { cert: tls.cert, key: tls.key } });
  const log = pino({ level: "info" }, { write: (l: string) => void logLines.push(l) });
  deps = {
    readSecret: async (ns, name) => secrets.get(`${ns}/${name}`),
    stsEndpointOverride: emu.httpsEndpoint!,
    log,
  };
});
afterAll(() => emu.stop());
beforeEach(async () => {
  await emu.admin.reset();
  secrets.clear();
  logLines.length = 0;
  secrets.set("ecs-system/base", { ALIBABA_CLOUD_ACCESS_KEY_ID: "base-user", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "base-secret-value" });
  secrets.set("ecs-system/team", { ALIBABA_CLOUD_ACCESS_KEY_ID: "team-key", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "team-secret-value" });
});

const spec = (credentials: EcsProviderConfigSpecInput["credentials"]) => providerConfigSpecSchema.parse({ credentials });

function tokenFile(): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const jwt = `${enc({ alg: "RS256" })}.${enc({ iss: "https://issuer", sub: "system:serviceaccount:ecs-system:ctrl", aud: "sts.aliyuncs.com", exp: Math.floor(Date.now() / 1000) + 3600 })}.c2ln`;
  const file = join(mkdtempSync(join(tmpdir(), "rrsa-")), "token");
  writeFileSync(file, jwt);
  return file;
}

function cloud(): EcsCloud {
  return new EcsCloud({ endpoint: emu.url });
}

describe("credential sources resolve to an identity and work against ECS", () => {
  let c: EcsCloud | undefined;
  afterEach(() => c?.close());

  it("Secret: the AccessKey's account, logged with source and account ID, never the secret", async () => {
    const r = await resolveCredentials("team-a", spec({ source: "Secret", secretRef: { namespace: "ecs-system", name: "team" } }), deps);
    expect(r.identity).toMatchObject({ source: "Secret", accountId: TEAM_ACCOUNT, identityType: "RAMUser", providerName: "static_ak" });
    c = cloud();
    const inst = await c.getInstance({ credentials: ecsCredentialsOf(r), regionId: REGION }, "i-1");
    expect(inst?.instanceId).toBe("i-1");
    const line = logLines.find((l) => l.includes("provider config credentials resolved"))!;
    expect(JSON.parse(line)).toMatchObject({ providerConfig: "team-a", source: "Secret", accountId: TEAM_ACCOUNT });
    expect(logLines.join("\n")).not.toContain("team-secret-value");
  });

  it("AssumeRole with base keys from a Secret and an ExternalId: the role's account, STS keys on the wire", async () => {
    const r = await resolveCredentials(
      "default",
      spec({
        source: "AssumeRole",
        assumeRole: {
          roleArn: `acs:ram::${ACCOUNT}:role/ecs-writer`,
          externalId: "ext-1",
          baseCredentialsSecretRef: { namespace: "ecs-system", name: "base" },
        },
      }),
      deps,
    );
    expect(r.identity).toMatchObject({ source: "AssumeRole", accountId: ACCOUNT, identityType: "AssumedRoleUser", providerName: "ram_role_arn/static_ak" });
    expect(r.identity.arn).toBe(`acs:ram::${ACCOUNT}:assumed-role/ecs-writer/ecs-attributes-controller`);
    c = cloud();
    await c.getInstance({ credentials: ecsCredentialsOf(r), regionId: REGION }, "i-1");
    const [call] = await emu.admin.callLog({ action: "DescribeInstances" });
    expect(call!.accessKeyId).toMatch(/^STS\./);
    expect(logLines.join("\n")).not.toMatch(/base-secret-value|CAIS/);
  });

  it("RRSA: the projected token is exchanged with AssumeRoleWithOIDC", async () => {
    const r = await resolveCredentials(
      "rrsa",
      spec({ source: "RRSA", rrsa: { roleArn: `acs:ram::${ACCOUNT}:role/ecs-writer`, oidcProviderArn: OIDC_ARN, oidcTokenFile: tokenFile() } }),
      deps,
    );
    expect(r.identity).toMatchObject({ source: "RRSA", accountId: ACCOUNT, identityType: "AssumedRoleUser", providerName: "oidc_role_arn" });
    expect((await emu.admin.callLog({ action: "AssumeRoleWithOIDC" })).map((x) => x.code)).toEqual(["OK"]);
  });

  it("Default: the controller's chain (environment keys here); instance metadata is off unless allowed", async () => {
    const saved = { ...process.env };
    process.env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = "team-key";
    process.env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "team-secret-value";
    process.env["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"] = "true";
    delete process.env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"];
    try {
      const r = await resolveCredentials("default", spec({ source: "Default" }), deps);
      expect(r.identity).toMatchObject({ source: "Default", accountId: TEAM_ACCOUNT, providerName: "default/env" });
      // The variable is set only while the chain is built.
      expect(process.env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"]).toBeUndefined();
    } finally {
      process.env = saved;
    }
  });
});

describe("refusals are one secret-free line", () => {
  it("a missing Secret, a key without sts:AssumeRole, a wrong ExternalId", async () => {
    const missing = resolveCredentials("x", spec({ source: "Secret", secretRef: { namespace: "ecs-system", name: "nope" } }), deps);
    await expect(missing).rejects.toThrow(CredentialsError);
    await expect(missing).rejects.toThrow("Secret ecs-system/nope not found");

    const noSts = resolveCredentials(
      "x",
      spec({
        source: "AssumeRole",
        assumeRole: {
          roleArn: `acs:ram::${ACCOUNT}:role/ecs-writer`,
          externalId: "ext-1",
          baseCredentialsSecretRef: { namespace: "ecs-system", name: "team" },
        },
      }),
      deps,
    );
    const err = (await noSts.catch((e: unknown) => e)) as CredentialsError;
    expect(err).toBeInstanceOf(CredentialsError);
    expect(err.message).toContain("NoPermission");
    expect(err.message).not.toContain("\n");
    expect(err.message).not.toMatch(/team-secret-value|RequestId/);

    const wrongExt = (await resolveCredentials(
      "x",
      spec({
        source: "AssumeRole",
        assumeRole: {
          roleArn: `acs:ram::${ACCOUNT}:role/ecs-writer`,
          externalId: "ext-2",
          baseCredentialsSecretRef: { namespace: "ecs-system", name: "base" },
        },
      }),
      deps,
    ).catch((e: unknown) => e)) as CredentialsError;
    expect(wrongExt.message).toContain("trust policy");
  });
});

describe("rateLimits: per-action rates in buckets keyed by the resolved account", () => {
  it("a config's ModifyInstanceAttribute rate applies to its account only; no request is sent beyond it", async () => {
    const limited = providerConfigSpecSchema.parse({
      credentials: { source: "Secret", secretRef: { namespace: "ecs-system", name: "team" } },
      // One write, then one per 1000 s: the second write's wait exceeds the limiter's 15 s cap.
      rateLimits: { perAction: [{ action: "ModifyInstanceAttribute", qps: 0.001, burst: 1 }] },
    });
    const r = await resolveCredentials("team-a", limited, deps);
    const c = cloud();
    try {
      const creds = ecsCredentialsOf(r);
      expect(creds).toMatchObject({ type: "provider", identity: `acct:${TEAM_ACCOUNT}` });
      c.setAccountRates(`acct:${TEAM_ACCOUNT}`, perActionRates(limited));
      const target = { credentials: creds, regionId: REGION };
      await c.modifyInstanceAttribute(target, { instanceId: "i-1", description: "first" });
      const second = await c.modifyInstanceAttribute(target, { instanceId: "i-1", description: "second" }).catch((e: unknown) => e);
      expect((second as Error).message).toContain("client-side rate limit");
      // Another account (the controller's own key) is not limited by it.
      const own = { credentials: { type: "accessKey" as const, accessKeyId: "testid", accessKeySecret: "testsecret" }, regionId: REGION };
      await c.modifyInstanceAttribute(own, { instanceId: "i-1", description: "other account" });
      await c.modifyInstanceAttribute(own, { instanceId: "i-1", description: "other account 2" });
      expect((await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).map((x) => x.accessKeyId)).toEqual(["team-key", "testid", "testid"]);
    } finally {
      c.close();
    }
  });
});
