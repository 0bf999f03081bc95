/**
 * The emulator's STS endpoint and RAM model, driven by the official clients unchanged:
 * `@alicloud/credentials` (RAMRoleARN / OIDCRoleArn providers, https to the emulator's TLS listener,
 * only the STS endpoint configured) and `@alicloud/ecs20140526` with the issued credentials.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as $Ecs from "@alicloud/ecs20140526";
import CredentialsModule, { OIDCRoleArnCredentialsProvider, RAMRoleARNCredentialsProvider, StaticAKCredentialsProvider } from "@alicloud/credentials";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ecsClient, startEmulatorInProcess, type EmulatorHandle, type SeedInput } from "../../../harness/emulator.js";
import { loopbackCertificate, trustInThisProcess } from "../../../harness/tls.js";
import { expectEcsError, REGION } from "./fixtures.js";

// CommonJS interop (as src/cloud/client.ts): the class itself under vitest, on `.default` under native ESM.
type CredentialClass = typeof CredentialsModule.default;
const Credential: CredentialClass = typeof CredentialsModule === "function" ? CredentialsModule : (CredentialsModule as { default: CredentialClass }).default;
type Provider = RAMRoleARNCredentialsProvider | OIDCRoleArnCredentialsProvider;

const ACCOUNT = "1000000000000001";
const OTHER_ACCOUNT = "2000000000000002";
const OIDC_ARN = `acs:ram::${ACCOUNT}:oidc-provider/ack-rrsa-c1`;
const ISSUER = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1";

const SEED: SeedInput = {
  instances: [{ instanceId: "i-1", tags: [{ key: "team", value: "a" }] }],
  identity: {
    users: [
      { accessKeyId: "base-user", accessKeySecret: "base-secret", accountId: ACCOUNT, allowedActions: ["sts:AssumeRole"] },
      { accessKeyId: "root-key", accessKeySecret: "root-secret", accountId: ACCOUNT, root: true },
      { accessKeyId: "no-sts", accessKeySecret: "no-sts-secret", accountId: ACCOUNT, allowedActions: ["ecs:*"] },
      { accessKeyId: "other-acct", accessKeySecret: "other-secret", accountId: OTHER_ACCOUNT, allowedActions: ["*"] },
      { accessKeyId: "off", accessKeySecret: "off-secret", disabled: true },
    ],
    roles: [
      { roleName: "ecs-writer", accountId: ACCOUNT, allowedActions: ["ecs:Describe*", "ecs:ModifyInstanceAttribute"], oidcProviderArns: [OIDC_ARN] },
      { roleName: "ecs-reader", accountId: ACCOUNT, allowedActions: ["ecs:DescribeInstanceAttribute"] },
      { roleName: "guarded", accountId: ACCOUNT, externalId: "abc-123", maxSessionDurationSeconds: 7200 },
    ],
    oidcProviders: [{ arn: OIDC_ARN, issuer: ISSUER }],
  },
};

let emu: EmulatorHandle;
let sts: string;
beforeAll(async () => {
  const tls = await loopbackCertificate();
  trustInThisProcess(tls.cert);
  emu = await startEmulatorInProcess({ seed: SEED, tls: { cert: tls.cert, key: tls.key } });
  sts = emu.httpsEndpoint!;
});
afterAll(() => emu.stop());
beforeEach(() => emu.admin.reset());

function base(id = "base-user", secret = "base-secret") {
  return StaticAKCredentialsProvider.builder().withAccessKeyId(id).withAccessKeySecret(secret).build();
}

function assumeRole(roleName: string, opts: { baseKey?: [string, string]; externalId?: string; duration?: number } = {}) {
  let b = RAMRoleARNCredentialsProvider.builder()
    .withCredentialsProvider(base(...(opts.baseKey ?? ["base-user", "base-secret"])))
    .withRoleArn(`acs:ram::${ACCOUNT}:role/${roleName}`)
    .withRoleSessionName("ecs-attrs-test")
    .withStsEndpoint(sts);
  if (opts.externalId) b = b.withExternalId(opts.externalId);
  if (opts.duration) b = b.withDurationSeconds(opts.duration);
  return b.build();
}

function jwt(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${enc({ alg: "RS256", kid: "k1" })}.${enc(claims)}.c2lnbmF0dXJl`;
}

function tokenFile(claims: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), "rrsa-")), "token");
  writeFileSync(file, jwt(claims));
  return file;
}

const nowS = () => Math.floor(Date.now() / 1000);
const GOOD_CLAIMS = { iss: ISSUER, sub: "system:serviceaccount:ecs-attrs:controller", aud: "sts.aliyuncs.com", exp: nowS() + 3600 };

function oidc(file: string, roleName = "ecs-writer") {
  return OIDCRoleArnCredentialsProvider.builder()
    .withRoleArn(`acs:ram::${ACCOUNT}:role/${roleName}`)
    .withOIDCProviderArn(OIDC_ARN)
    .withOIDCTokenFilePath(file)
    .withRoleSessionName("ecs-attrs")
    .withStsEndpoint(sts)
    .build();
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected a failure");
}

function ecsWith(provider: Provider) {
  return ecsClient(emu, { credential: new Credential(null, provider) });
}

describe("AssumeRole through @alicloud/credentials (https, only the STS endpoint configured)", () => {
  it("issues STS.* keys + token the ECS endpoint accepts; the call log never shows the token", async () => {
    const creds = await assumeRole("ecs-writer").getCredentials();
    expect(creds.accessKeyId).toMatch(/^STS\./);
    expect(creds.securityToken).toBeTruthy();
    expect(creds.providerName).toBe("ram_role_arn/static_ak");
    const ecs = ecsWith(assumeRole("ecs-writer"));
    const res = await ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION }));
    expect(res.body!.instances!.instance!.map((i) => i.instanceId)).toEqual(["i-1"]);
    const [call] = await emu.admin.callLog({ action: "DescribeInstances" });
    expect(call!.accessKeyId).toMatch(/^STS\./);
    expect(JSON.stringify(await emu.admin.callLog({ action: "AssumeRole" }))).not.toContain(creds.securityToken);
  });

  it("a call outside the role's policy is Forbidden.RAM (403); DescribeInstances without permission is an empty list", async () => {
    const ecs = ecsWith(assumeRole("ecs-reader"));
    await expectEcsError(ecs.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-1", description: "x" })), "Forbidden.RAM", 403);
    const list = await ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION }));
    expect(list.body!.instances!.instance).toEqual([]);
    expect((await emu.admin.getInstance("i-1")).description).toBe("");
  });

  it("refusals carry the STS codes: root key, no sts:AssumeRole, untrusted account, ExternalId, unknown role, duration", async () => {
    expect(await errorOf(assumeRole("ecs-writer", { baseKey: ["root-key", "root-secret"] }).getCredentials())).toContain('"Code":"NoPermission"');
    expect(await errorOf(assumeRole("ecs-writer", { baseKey: ["root-key", "root-secret"] }).getCredentials())).toContain(
      "Roles may not be assumed by root accounts",
    );
    expect(await errorOf(assumeRole("ecs-writer", { baseKey: ["no-sts", "no-sts-secret"] }).getCredentials())).toContain("You should be authorized by RAM");
    expect(await errorOf(assumeRole("ecs-writer", { baseKey: ["other-acct", "other-secret"] }).getCredentials())).toContain("trust policy");
    expect(await errorOf(assumeRole("guarded").getCredentials())).toContain("trust policy");
    expect((await assumeRole("guarded", { externalId: "abc-123", duration: 7200 }).getCredentials()).accessKeyId).toMatch(/^STS\./);
    expect(await errorOf(assumeRole("nope").getCredentials())).toContain('"Code":"EntityNotExist.Role"');
    expect(await errorOf(assumeRole("ecs-writer", { duration: 7200 }).getCredentials())).toContain('"Code":"InvalidParameter.DurationSeconds"');
    expect(await errorOf(assumeRole("ecs-writer", { baseKey: ["off", "off-secret"] }).getCredentials())).toContain('"Code":"InvalidAccessKeyId.Inactive"');
    expect(await errorOf(assumeRole("ecs-writer", { baseKey: ["base-user", "wrong"] }).getCredentials())).toContain("SignatureDoesNotMatch");
  });
});

describe("AssumeRoleWithOIDC (RRSA) through @alicloud/credentials", () => {
  it("exchanges the projected token for role credentials the ECS endpoint accepts", async () => {
    const ecs = ecsWith(oidc(tokenFile(GOOD_CLAIMS)));
    await ecs.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-1", description: "via rrsa" }));
    expect((await emu.admin.getInstance("i-1")).description).toBe("via rrsa");
    const [call] = await emu.admin.callLog({ action: "AssumeRoleWithOIDC" });
    expect(call!.code).toBe("OK");
    expect(call!.params["OIDCToken"]).not.toContain(".");
  });

  it("an expired, foreign-issuer or wrong-audience token, or a role that does not trust the provider, is refused", async () => {
    expect(await errorOf(oidc(tokenFile({ ...GOOD_CLAIMS, exp: nowS() - 10 })).getCredentials())).toContain('"Code":"AuthenticationFail.OIDCToken.Expired"');
    expect(await errorOf(oidc(tokenFile({ ...GOOD_CLAIMS, iss: "https://evil" })).getCredentials())).toContain('"Code":"AuthenticationFail.OIDCToken.Invalid"');
    expect(await errorOf(oidc(tokenFile({ ...GOOD_CLAIMS, aud: "other" })).getCredentials())).toContain('"Code":"AuthenticationFail.OIDCToken.Invalid"');
    expect(await errorOf(oidc(tokenFile(GOOD_CLAIMS), "ecs-reader").getCredentials())).toContain('"Code":"NoPermission"');
  });
});

describe("expiry and token checks on the ECS endpoint", () => {
  it("an expired session gets InvalidSecurityToken.Expired, a wrong token InvalidSecurityToken.MismatchWithAccessKey", async () => {
    const creds = await assumeRole("ecs-writer").getCredentials();
    const ecs = ecsClient(emu, { accessKeyId: creds.accessKeyId, accessKeySecret: creds.accessKeySecret, securityToken: creds.securityToken });
    await ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION }));
    const wrong = ecsClient(emu, { accessKeyId: creds.accessKeyId, accessKeySecret: creds.accessKeySecret, securityToken: "CAISforged" });
    await expectEcsError(wrong.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION })), "InvalidSecurityToken.MismatchWithAccessKey", 400);
    const res = await fetch(`${emu.url}/_emulator/sts-sessions-expire`, { method: "POST", body: "{}" });
    expect(await res.json()).toEqual({ expired: 1 });
    await expectEcsError(ecs.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION })), "InvalidSecurityToken.Expired", 400);
  });

  it("the lifetime knob caps issued credentials (PATCH /_emulator/sts), whatever DurationSeconds asked", async () => {
    await fetch(`${emu.url}/_emulator/sts`, { method: "PATCH", body: JSON.stringify({ lifetimeSeconds: 60 }) });
    const t0 = Date.now();
    await assumeRole("ecs-writer").getCredentials();
    const [session] = (await (await fetch(`${emu.url}/_emulator/sts-sessions`)).json()) as Array<{ expiration: string }>;
    const lifetime = Date.parse(session!.expiration) - t0;
    expect(lifetime).toBeGreaterThan(58_000);
    expect(lifetime).toBeLessThanOrEqual(61_000);
  });
});
