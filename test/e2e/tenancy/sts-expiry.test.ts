/**
 * Issue 16 attack/reliability scenario: temporary credentials with a 60 s lifetime, minutes of
 * changes across their expiries → no CredentialsError, no failed call from expiry.
 *
 * The emulator issues AssumeRole credentials that live 60 s (its lifetime knob; real STS's minimum is
 * 900 s). The controller's ECS facade (EcsCloud) runs a Modify + read-back every second with the
 * credentials src/cloud/credentials.ts resolves (AssumeRole, base keys from a Secret,
 * `@alicloud/credentials` over https to the emulator's STS). The emulator's call log is the referee:
 * no call may be answered `InvalidSecurityToken.*`, and every write must land.
 *
 * Duration: ECS_ATTRS_STS_SCENARIO_SECONDS (default 190 s: three expiries of the first sessions);
 * the 10-minute run is `ECS_ATTRS_STS_SCENARIO_SECONDS=600`. Figures go to stdout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerConfigSpecSchema } from "../../../src/api/provider-config.js";
import { CredentialsError, ecsCredentialsOf, resolveCredentials, type ResolvedCredentials } from "../../../src/cloud/credentials.js";
import { EcsCloud, type EcsTarget } from "../../../src/cloud/ecs.js";
import { startEmulatorInProcess, type EmulatorHandle } from "../../../harness/emulator.js";
import { loopbackCertificate, trustInThisProcess } from "../../../harness/tls.js";
import { sleep } from "../../../harness/wait.js";

const LIFETIME_S = 60;
const DURATION_S = Number(process.env["ECS_ATTRS_STS_SCENARIO_SECONDS"] ?? 190);
const ACCOUNT = "1000000000000001";
const REGION = "cn-hangzhou";
const IDS = ["i-sts-1", "i-sts-2", "i-sts-3"];

let emu: EmulatorHandle;
let cloud: EcsCloud;
let resolved: ResolvedCredentials;

beforeAll(async () => {
  const tls = await loopbackCertificate();
  trustInThisProcess(tls.cert);
  emu = await startEmulatorInProcess({
    tls: { cert: tls.cert, key: tls.key },
    stsLifetimeSeconds: LIFETIME_S,
    seed: {
      instances: IDS.map((instanceId) => ({ instanceId })),
      identity: {
        users: [{ accessKeyId: "base-user", accessKeySecret: "base-secret", accountId: ACCOUNT, allowedActions: ["sts:AssumeRole"] }],
        roles: [{ roleName: "ecs-writer", accountId: ACCOUNT, allowedActions: ["ecs:Describe*", "ecs:ModifyInstanceAttribute"] }],
      },
    },
  });
  const spec = providerConfigSpecSchema.parse({
    credentials: {
      source: "AssumeRole",
      assumeRole: { roleArn: `acs:ram::${ACCOUNT}:role/ecs-writer`, baseCredentialsSecretRef: { namespace: "ecs-system", name: "base" } },
    },
  });
  resolved = await resolveCredentials("default", spec, {
    readSecret: async () => ({ ALIBABA_CLOUD_ACCESS_KEY_ID: "base-user", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "base-secret" }),
    stsEndpointOverride: emu.httpsEndpoint!,
  });
  cloud = new EcsCloud({ endpoint: emu.url });
});
afterAll(async () => {
  cloud?.close();
  await emu?.stop();
});

describe(`temporary credentials with a ${LIFETIME_S} s lifetime`, () => {
  it(
    `${DURATION_S} s of changes across expiries: no CredentialsError, no call failed from expiry`,
    async () => {
      const target: EcsTarget = { credentials: ecsCredentialsOf(resolved), regionId: REGION };
      const failures: Array<{ t: number; code: string }> = [];
      let credentialsErrors = 0;
      let writes = 0;
      let verified = 0;
      const started = Date.now();
      for (let tick = 0; Date.now() - started < DURATION_S * 1000; tick++) {
        const id = IDS[tick % IDS.length]!;
        const description = `tick-${tick}`;
        try {
          await cloud.modifyInstanceAttribute(target, { instanceId: id, description });
          writes++;
          const seen = await cloud.getInstance(target, id);
          if (seen?.description === description) verified++;
        } catch (err) {
          if (err instanceof CredentialsError) credentialsErrors++;
          failures.push({ t: Date.now() - started, code: (err as { code?: string }).code ?? String(err) });
        }
        await sleep(1000);
      }
      const calls = await emu.admin.callLog({ limit: 100_000 });
      const byAction = (a: string) => calls.filter((c) => c.action === a);
      const tokenErrors = calls.filter((c) => c.code.startsWith("InvalidSecurityToken"));
      const stsCalls = byAction("AssumeRole");
      const keysUsed = new Set(byAction("ModifyInstanceAttribute").map((c) => c.accessKeyId));
      const figures = {
        durationS: Math.round((Date.now() - started) / 1000),
        lifetimeS: LIFETIME_S,
        writes,
        verified,
        failures: failures.length,
        credentialsErrors,
        tokenErrors: tokenErrors.length,
        assumeRoleCalls: stsCalls.length,
        assumeRoleFailures: stsCalls.filter((c) => c.code !== "OK").length,
        stsKeysUsedForModify: keysUsed.size,
        ecsCalls: calls.filter((c) => !["AssumeRole", "GetCallerIdentity"].includes(c.action)).length,
      };
      process.stdout.write(`[sts-expiry] ${JSON.stringify(figures)}\n`);
      expect(failures).toEqual([]);
      expect(credentialsErrors).toBe(0);
      expect(tokenErrors).toEqual([]);
      expect(verified).toBe(writes);
      // The run crossed expiries: sessions were replaced, each used before it expired.
      expect(keysUsed.size).toBeGreaterThanOrEqual(Math.floor(DURATION_S / LIFETIME_S));
      // Refreshed per session, not per call.
      expect(stsCalls.length).toBeLessThanOrEqual(Math.ceil(DURATION_S / ((LIFETIME_S * 2) / 3)) + 2);
    },
    (DURATION_S + 120) * 1000,
  );
});
