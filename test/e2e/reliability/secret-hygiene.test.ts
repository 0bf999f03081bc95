/**
 * Reliability scenario 8 (issue 9): secret hygiene. The controller (debug logs) applies passwords and
 * user data from Secrets, uses per-resource credentials, and goes through error paths that carry
 * those values in the request (ECS failures on a password write, a password that breaks the rules,
 * wrong per-resource credentials, a missing Secret and a missing key). Afterwards everything
 * captured — controller log, Events, statuses, /metrics, the emulator's call log and counters — is
 * searched for every password, user-data string and access key secret (and their base64 forms):
 * zero hits. A missing Secret gives a clear SecretNotFound condition naming it, no crash, and
 * converges once the Secret exists.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type EmulatorHandle, startEmulatorInProcess, TEST_ACCESS_KEY } from "../../../harness/emulator.js";
import { cond, fetchText, findLeaks, Fleet, type Resource } from "../../../harness/fleet.js";
import { waitFor } from "../../../harness/wait.js";

const ns = `rel-secrets-${Date.now().toString(36)}`;
const PW_GOOD = "Hyg1ene-Good-Pw!";
const PW_RULEBREAK = "onlylowercaseletters";
const PW_LATE = "Late-Secret-Pw9#";
const USER_DATA = "#!/bin/sh\necho hygiene-user-data-marker-7f3a\n";
const INLINE_USER_DATA = "#!/bin/sh\necho hygiene-inline-marker-c41d\n";
const CRED_ID = "LTAIhygieneRelCred";
const CRED_SECRET = "hygieneCredSecretValue0123456789";
const WRONG_SECRET = "hygieneWrongSecretValue987654321";
const SECRETS = [
  PW_GOOD,
  PW_RULEBREAK,
  PW_LATE,
  USER_DATA,
  "hygiene-user-data-marker-7f3a",
  "hygiene-inline-marker-c41d",
  CRED_SECRET,
  WRONG_SECRET,
  TEST_ACCESS_KEY.accessKeySecret,
];

const ids = {
  pw: "i-hygpw",
  rule: "i-hygrule",
  ud: "i-hygud",
  inline: "i-hyginline",
  cred: "i-hygcred",
  wrong: "i-hygwrong",
  missing: "i-hygmissing",
  nokey: "i-hygnokey",
};

let fleet: Fleet;
let emu: EmulatorHandle;
let ctl: RunningController;
const report: Record<string, unknown> = {};

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
  emu = await startEmulatorInProcess({
    seed: {
      instances: Object.values(ids).map((instanceId) => ({
        instanceId,
        regionId: "cn-hangzhou",
        // All Running: the emulator's default reading (the current docs) takes user data in any state.
        status: "Running" as const,
      })),
    },
  });
  await emu.admin.addAccessKey({ accessKeyId: CRED_ID, accessKeySecret: CRED_SECRET });
  ctl = await startController({
    kubeconfig: inject("kubeconfigPath"),
    ecsEndpoint: emu.url,
    namespace: ns,
    args: ["--resync-period=20s", "--log-level=trace"],
  });
  await ctl.waitForLog(/workers running/);
});

afterAll(async () => {
  await ctl?.stop();
  await emu?.stop();
  await fleet?.deleteNamespace();
  process.stderr.write(`[reliability] secret-hygiene figures: ${JSON.stringify(report)}\n`);
});

const waitCond = (name: string, type: string, status: string, reason?: string, timeoutMs = 60_000): Promise<Resource> =>
  fleet.waitForCondition(name, type, status, { ...(reason ? { reason } : {}), timeoutMs, intervalMs: 500, diag: () => ctl.logs().slice(-1500) });

describe("reliability: secret hygiene", () => {
  it("scenario 8: no password, user data or access key secret reaches any output; missing Secrets give clear conditions", async () => {
    await fleet.secret("pw", { password: PW_GOOD });
    await fleet.secret("pw-rule", { password: PW_RULEBREAK });
    await fleet.secret("ud", { script: USER_DATA });
    await fleet.secret("cred", { ALIBABA_CLOUD_ACCESS_KEY_ID: CRED_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET: CRED_SECRET });
    await fleet.secret("cred-wrong", { ALIBABA_CLOUD_ACCESS_KEY_ID: CRED_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET: WRONG_SECRET });
    await fleet.secret("nokey", { other: "not-the-password-key" });
    // The password write fails twice before it succeeds: the error path carries the Password parameter.
    await emu.admin.addFault({ action: "ModifyInstanceAttribute", code: "InternalError", count: 2 });

    await fleet.create("pw", { instanceId: ids.pw, passwordSecretRef: { name: "pw", key: "password" } });
    await fleet.create("rule", { instanceId: ids.rule, passwordSecretRef: { name: "pw-rule", key: "password" } });
    await fleet.create("ud", { instanceId: ids.ud, userData: { secretRef: { name: "ud", key: "script" } } });
    await fleet.create("inline", { instanceId: ids.inline, userData: { inlineBase64: Buffer.from(INLINE_USER_DATA).toString("base64") } });
    await fleet.create("cred", { instanceId: ids.cred, instanceName: "with-own-creds", credentialsSecretRef: { name: "cred" } });
    await fleet.create("wrong", { instanceId: ids.wrong, instanceName: "wrong-creds", credentialsSecretRef: { name: "cred-wrong" } });
    await fleet.create("missing", { instanceId: ids.missing, passwordSecretRef: { name: "absent", key: "password" } });
    await fleet.create("nokey", { instanceId: ids.nokey, passwordSecretRef: { name: "nokey", key: "password" } });

    await waitCond("pw", "Ready", "True", "InSync");
    expect(await emu.admin.verifyPassword(ids.pw, PW_GOOD)).toBe(true);
    await waitCond("ud", "Ready", "True", "InSync");
    await waitCond("inline", "Ready", "True", "InSync");
    await waitCond("cred", "Ready", "True", "InSync");
    expect((await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).some((c) => c.accessKeyId === CRED_ID && c.code === "OK")).toBe(true);

    const rule = await waitCond("rule", "Ready", "False", "InvalidSpec");
    expect(cond(rule, "Ready")?.message).toMatch(/password/);
    const wrong = await waitCond("wrong", "Synced", "False");
    report["wrongCredentials"] = { reason: cond(wrong, "Synced")?.reason, code: wrong.status?.error?.code };
    expect(cond(wrong, "Synced")?.reason).toBe("CredentialsError");

    const missing = await waitCond("missing", "Ready", "False", "SecretNotFound");
    expect(cond(missing, "Ready")?.message).toMatch(/absent/);
    const nokey = await waitCond("nokey", "Ready", "False", "SecretNotFound");
    expect(cond(nokey, "Ready")?.message).toMatch(/password/);
    report["missingMessages"] = [cond(missing, "Ready")?.message, cond(nokey, "Ready")?.message];
    // No ECS write was attempted for them.
    const writes = await emu.admin.callLog({ action: "ModifyInstanceAttribute" });
    expect(writes.filter((c) => c.params["InstanceId"] === ids.missing || c.params["InstanceId"] === ids.nokey)).toEqual([]);

    // The missing Secret appears → the resource converges without a restart.
    await fleet.secret("absent", { password: PW_LATE });
    await waitCond("missing", "Ready", "True", "InSync");
    expect(await emu.admin.verifyPassword(ids.missing, PW_LATE)).toBe(true);
    expect(ctl.logs()).not.toMatch(/uncaught|unhandled/i);

    // Another resync round through all the error paths before looking.
    const before = (await emu.admin.callLog({ action: "DescribeInstances" })).length;
    await waitFor("one more resync", async () => (await emu.admin.callLog({ action: "DescribeInstances" })).length > before, 40_000);

    const statuses = (await fleet.list()).map((o) => o.status);
    const captured = {
      controllerLog: ctl.logs(),
      events: JSON.stringify(await fleet.events()),
      statuses: JSON.stringify(statuses),
      metrics: (await fetchText(ctl.metricsUrl))?.body ?? "",
      callLog: JSON.stringify(await emu.admin.callLog()),
      counters: JSON.stringify(await emu.admin.counters()),
    };
    for (const [k, v] of Object.entries(captured)) expect(v.length, `${k} captured something`).toBeGreaterThan(10);
    expect(ctl.logRecords().filter((r) => r["level"] === "trace" || r["level"] === "debug").length, "trace/debug lines were captured").toBeGreaterThan(20);
    report["capturedBytes"] = Object.fromEntries(Object.entries(captured).map(([k, v]) => [k, v.length]));
    const leaks = findLeaks(captured, SECRETS);
    report["leaks"] = leaks.length;
    expect(leaks).toEqual([]);
  });
});
