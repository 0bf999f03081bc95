/**
 * Issue 16, the wiring of provider-config credentials into the controller (src/reconciler/
 * provider-config/credential-cache.ts, watch.ts; src/app.ts): a real API server, the ECS emulator
 * with its STS endpoint over https (harness/tls.ts, as test/e2e/tenancy/sts-expiry.test.ts), and the
 * controller built in-process with `buildApp` (its STS endpoint is an AppDeps value, not a flag).
 *
 *   writer   AssumeRole of role ecs-writer (Describe* + ModifyInstanceAttribute), base keys in a Secret
 *   reader   AssumeRole of role ecs-reader (Describe* only)
 *
 * The emulator's call log is the referee: the writer's Modify is signed with an STS key (not the
 * base key); the reader's resource ends CredentialsError (Forbidden.RAM) with no Modify accepted.
 */
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../../../harness/controlplane.js";
import { type EmulatorHandle, startEmulatorInProcess } from "../../../harness/emulator.js";
import { cond, Fleet, REGION, type Resource } from "../../../harness/fleet.js";
import { loopbackCertificate, trustInThisProcess } from "../../../harness/tls.js";
import { waitFor } from "../../../harness/wait.js";
import { buildApp, type BuiltApp, loadKubeConfig } from "../../../src/app.js";
import { loadConfig, type Config } from "../../../src/config.js";

const ACCOUNT = "1000000000000007";
const BASE = { id: "base-user-7", secret: "base-secret-7-do-not-log" };
const NS = "team-sts";
let cp: ControlPlane;
let emu: EmulatorHandle;
let app: BuiltApp;
let fleet: Fleet;
const logLines: string[] = [];

const assumeRoleConfig = (name: string, role: string) => ({
  apiVersion: "ecs.alicloud.dev/v1alpha1",
  kind: "EcsProviderConfig",
  metadata: { name },
  spec: {
    credentials: {
      source: "AssumeRole",
      assumeRole: { roleArn: `acs:ram::${ACCOUNT}:role/${role}`, baseCredentialsSecretRef: { namespace: "ecs-system", name: "base-keys" } },
    },
    rateLimits: { perAction: [{ action: "ModifyInstanceAttribute", qps: 5 }] },
  },
});

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, input !== undefined ? { input } : {});
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function waitReason(name: string, reason: string, type = "Ready"): Promise<Resource> {
  let last: Resource | undefined;
  return waitFor(
    `${NS}/${name} ${type} reason ${reason}`,
    async () => {
      last = await fleet.get(name);
      return cond(last, type)?.reason === reason && last.status?.observedGeneration === last.metadata.generation ? last : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250, diag: () => `last status: ${JSON.stringify(last?.status)}\n${logLines.slice(-30).join("")}` },
  );
}

beforeAll(async () => {
  const tls = await loopbackCertificate();
  trustInThisProcess(tls.cert);
  cp = await startControlPlane({ crdsDir: "crds" });
  emu = await startEmulatorInProcess({
    tls: { cert: tls.cert, key: tls.key },
    seed: {
      instances: [
        { instanceId: "i-stswrite01", regionId: REGION, instanceName: "before" },
        { instanceId: "i-stsread001", regionId: REGION, instanceName: "before" },
        { instanceId: "i-stslate001", regionId: REGION, instanceName: "before" },
      ],
      identity: {
        users: [{ accessKeyId: BASE.id, accessKeySecret: BASE.secret, accountId: ACCOUNT, allowedActions: ["sts:AssumeRole"] }],
        roles: [
          { roleName: "ecs-writer", accountId: ACCOUNT, allowedActions: ["ecs:Describe*", "ecs:ModifyInstanceAttribute"] },
          { roleName: "ecs-reader", accountId: ACCOUNT, allowedActions: ["ecs:Describe*"] },
        ],
      },
    },
  });
  fleet = await Fleet.open(cp.kubeconfigPath, NS);
  await Fleet.open(cp.kubeconfigPath, "ecs-system");
  await kubectlOk([
    "create",
    "secret",
    "generic",
    "base-keys",
    "-n",
    "ecs-system",
    `--from-literal=ALIBABA_CLOUD_ACCESS_KEY_ID=${BASE.id}`,
    `--from-literal=ALIBABA_CLOUD_ACCESS_KEY_SECRET=${BASE.secret}`,
    "--dry-run=client",
    "-o",
    "json",
  ]).then((json) => kubectlOk(["apply", "-f", "-"], json));
  await kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: [assumeRoleConfig("writer", "ecs-writer"), assumeRoleConfig("reader", "ecs-reader")] }),
  );

  const config = loadConfig([`--kubeconfig=${cp.kubeconfigPath}`, `--ecs-endpoint=${emu.url}`, "--resync-period=10m"], {}) as Config;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  const log = pino({ level: "info" }, sink);
  app = buildApp({ config, kubeConfig: loadKubeConfig(cp.kubeconfigPath), log, events: { record: () => undefined }, stsEndpoint: emu.httpsEndpoint! });
  app.controller.start();
  app.providerConfigs.start();
  for (const inf of app.informers) inf.start();
  await Promise.all(app.informers.map((i) => i.waitForSync()));
  await app.controller.startWorkers();
  await app.providerConfigs.startWorkers();
}, 240_000);

afterAll(async () => {
  await app?.controller.stop(5000);
  await app?.providerConfigs.stop(5000);
  await Promise.all((app?.informers ?? []).map((i) => i.stop()));
  app?.cloud.close();
  await emu?.stop();
  await cp?.stop();
});

describe("AssumeRole provider configs in the controller (real API server, emulator STS over https)", () => {
  it("config status shows the resolved source and account ID; the identity is logged once, never a secret", async () => {
    const out = await waitFor("writer config Ready", async () => {
      const s = await kubectlOk(["get", "ecspc", "writer", "-o", "jsonpath={.status.conditions[0].status} {.status.resolvedSource} {.status.accountId}"]);
      return s.trim() === `True AssumeRole ${ACCOUNT}` ? s : undefined;
    });
    expect(out.trim()).toBe(`True AssumeRole ${ACCOUNT}`);
    const resolvedLogs = logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => r["msg"] === "provider config credentials resolved" && r["providerConfig"] === "writer");
    expect(resolvedLogs.length).toBe(1);
    expect(resolvedLogs[0]!["accountId"]).toBe(ACCOUNT);
    expect(logLines.join("")).not.toContain(BASE.secret);
  });

  it("a resource using the AssumeRole config converges; its Modify is signed with an STS key, not the base key", async () => {
    await fleet.createMany([
      { name: "w", spec: { instanceId: "i-stswrite01", regionId: REGION, providerConfigRef: { name: "writer" }, instanceName: "after" } },
    ]);
    await waitReason("w", "InSync");
    expect((await emu.admin.getInstance("i-stswrite01")).instanceName).toBe("after");
    const modifies = (await emu.admin.callLog()).filter((c) => c.action === "ModifyInstanceAttribute" && c.params["InstanceId"] === "i-stswrite01");
    expect(modifies.filter((c) => c.code === "OK").length).toBe(1);
    for (const c of modifies) {
      expect(c.accessKeyId).toMatch(/^STS\./);
      expect(c.accessKeyId).not.toBe(BASE.id);
    }
    process.stdout.write(
      `[assume-role-config] writer: ${JSON.stringify({ modifyCalls: modifies.length, keys: modifies.map((c) => c.accessKeyId.slice(0, 6)) })}\n`,
    );
  });

  it("a config whose role lacks ModifyInstanceAttribute → CredentialsError naming Forbidden.RAM, 0 Modify accepted", async () => {
    await waitFor("reader config Ready", async () => {
      const s = await kubectlOk(["get", "ecspc", "reader", "-o", "jsonpath={.status.conditions[0].status}"]);
      return s.trim() === "True" ? s : undefined;
    });
    await fleet.createMany([
      { name: "r", spec: { instanceId: "i-stsread001", regionId: REGION, providerConfigRef: { name: "reader" }, instanceName: "after" } },
    ]);
    // Synced carries the error class (CredentialsError), Ready the code (src/reconciler/error-policy.ts).
    const r = await waitReason("r", "CredentialsError", "Synced");
    expect(cond(r, "Synced")?.message ?? "").toContain("Forbidden.RAM");
    expect(cond(r, "Ready")?.status).toBe("False");
    const modifies = (await emu.admin.callLog()).filter((c) => c.action === "ModifyInstanceAttribute" && c.params["InstanceId"] === "i-stsread001");
    expect(modifies.filter((c) => c.code === "OK")).toEqual([]);
    expect(modifies.every((c) => c.code === "Forbidden.RAM" && c.accessKeyId.startsWith("STS."))).toBe(true);
    expect((await emu.admin.getInstance("i-stsread001")).instanceName).toBe("before");
    process.stdout.write(`[assume-role-config] reader: ${JSON.stringify({ modifyCalls: modifies.length, accepted: 0, codes: modifies.map((c) => c.code) })}\n`);
  });

  it("a resource created before its config: refused while the config resolves, re-queued and converged once it has", async () => {
    await kubectlOk(
      ["create", "-f", "-"],
      JSON.stringify({
        apiVersion: "ecs.alicloud.dev/v1alpha1",
        kind: "EcsInstanceAttributes",
        metadata: { name: "early", namespace: NS },
        spec: { instanceId: "i-stslate001", regionId: REGION, providerConfigRef: { name: "late" }, instanceName: "after" },
      }),
    );
    await waitReason("early", "ProviderConfigNotFound");
    await kubectlOk(["apply", "-f", "-"], JSON.stringify(assumeRoleConfig("late", "ecs-writer")));
    await waitReason("early", "InSync");
    expect((await emu.admin.getInstance("i-stslate001")).instanceName).toBe("after");
    const modifies = (await emu.admin.callLog()).filter((c) => c.action === "ModifyInstanceAttribute" && c.params["InstanceId"] === "i-stslate001");
    expect(modifies.map((c) => c.code)).toEqual(["OK"]);
    expect(modifies[0]!.accessKeyId).toMatch(/^STS\./);
  });
});
