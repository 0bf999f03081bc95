/**
 * Issue 16's attack scenarios, end to end: a dedicated real API server (EcsProviderConfigs are
 * cluster-scoped, so the shared one would leak them into other files' controllers), the ECS emulator
 * with tagged instances, and the controller running cluster-wide. The namespace user acts through a
 * real ServiceAccount token bound (RoleBindings in team-a and team-c) only to an edit ClusterRole for
 * the resources, labelled to aggregate into `edit` as the chart's opt-in `-edit` role is. The test
 * control plane has no kube-controller-manager, so the aggregation itself does not run here; the role
 * is bound directly. Every denial is checked in the emulator's call log:
 * no ModifyInstanceAttribute for the instance, and for denials before the read no call naming it.
 *
 *   team-a   namespace labelled tenant=team-a; config team-a: that namespace, tag team=team-a,
 *            fields instanceName/description only (no password)
 *   team-b   namespace labelled tenant=team-b; config team-b: that namespace, tag team=team-b
 *   team-c   unlabelled namespace (outside every selector until the test labels it)
 *   legacy   no providerConfigRef and no `default` config: today's behaviour
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { type ControlPlane, startControlPlane } from "../../../harness/controlplane.js";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type CallRecord, type EmulatorHandle, startEmulatorInProcess, TEST_ACCESS_KEY } from "../../../harness/emulator.js";
import { cond, findLeaks, Fleet, REGION, type Resource } from "../../../harness/fleet.js";
import { sleep, waitFor } from "../../../harness/wait.js";

const PASSWORD = "Tenancy-Pw-42!x";
let cp: ControlPlane;
let emu: EmulatorHandle;
let ctl: RunningController;
let tmp = "";
let aliceKubeconfig = "";
const fleets: Record<string, Fleet> = {};
/** Per scenario: what was asserted, printed at the end as the closing note's evidence. */
const evidence: Record<string, unknown> = {};

const teamConfig = (team: string, allowedFields?: string[]) => ({
  apiVersion: "ecs.alicloud.dev/v1alpha1",
  kind: "EcsProviderConfig",
  metadata: { name: team },
  spec: {
    credentials: { source: "Default" },
    constraints: {
      namespaceSelector: { matchLabels: { tenant: team } },
      allowedRegions: [REGION],
      instanceTags: [{ key: "team", value: team }],
      ...(allowedFields ? { allowedFields } : {}),
    },
  },
});

async function kubectlOk(args: string[], input?: string, kubeconfig?: string): Promise<string> {
  const r = await cp.kubectl(args, { ...(input !== undefined ? { input } : {}), ...(kubeconfig ? { kubeconfig } : {}) });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** A kubeconfig holding a real TokenRequest token for ServiceAccount ns/sa. */
async function tokenKubeconfig(sa: string, ns: string): Promise<string> {
  const token = (await kubectlOk(["create", "token", sa, "-n", ns, "--duration=1h"])).trim();
  const admin = parseYaml(await readFile(cp.kubeconfigPath, "utf8")) as { clusters: Array<{ cluster: Record<string, string> }> };
  const path = join(tmp, `${sa}.kubeconfig`);
  const cfg = {
    apiVersion: "v1",
    kind: "Config",
    "current-context": "sa",
    clusters: [{ name: "c", cluster: admin.clusters[0]!.cluster }],
    users: [{ name: "sa", user: { token } }],
    contexts: [{ name: "sa", context: { cluster: "c", user: "sa", namespace: ns } }],
  };
  await writeFile(path, JSON.stringify(cfg));
  return path;
}

/** Creates a resource as alice (the namespace user) with kubectl. */
async function createAsAlice(ns: string, name: string, spec: Record<string, unknown>): Promise<void> {
  const body = { apiVersion: "ecs.alicloud.dev/v1alpha1", kind: "EcsInstanceAttributes", metadata: { name, namespace: ns }, spec };
  await kubectlOk(["create", "-f", "-"], JSON.stringify(body), aliceKubeconfig);
}

async function waitReason(ns: string, name: string, reason: string, timeoutMs = 60_000): Promise<Resource> {
  const f = fleets[ns]!;
  let last: Resource | undefined;
  return waitFor(
    `${ns}/${name} Ready reason ${reason}`,
    async () => {
      last = await f.get(name);
      const c = cond(last, "Ready");
      return c?.reason === reason && last.status?.observedGeneration === last.metadata.generation ? last : undefined;
    },
    { timeoutMs, intervalMs: 250, diag: () => `last status: ${JSON.stringify(last?.status)}\n${ctl.logs().slice(-2000)}` },
  );
}

/** Every call that names the instance (DescribeInstances' InstanceIds list or an InstanceId). */
async function callsNaming(instanceId: string): Promise<CallRecord[]> {
  const calls = await emu.admin.callLog();
  return calls.filter((c) => c.params["InstanceId"] === instanceId || (c.params["InstanceIds"] ?? "").includes(instanceId));
}
const modifies = (calls: CallRecord[]) => calls.filter((c) => c.action === "ModifyInstanceAttribute");

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ecs-attrs-tenancy-"));
  cp = await startControlPlane({ crdsDir: "crds" });
  for (const ns of ["team-a", "team-b", "team-c", "legacy"]) fleets[ns] = await Fleet.open(cp.kubeconfigPath, ns);
  await kubectlOk(["label", "namespace", "team-a", "tenant=team-a"]);
  await kubectlOk(["label", "namespace", "team-b", "tenant=team-b"]);
  await kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: [teamConfig("team-a", ["instanceName", "description"]), teamConfig("team-b")] }),
  );

  // alice: a ServiceAccount in team-a, bound in team-a and team-c to an edit role for the resources
  // only (no EcsProviderConfig rule, as the chart's -edit ClusterRole).
  const editAggregate = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "ecs-attributes-edit-test", labels: { "rbac.authorization.k8s.io/aggregate-to-edit": "true" } },
    rules: [{ apiGroups: ["ecs.alicloud.dev"], resources: ["ecsinstanceattributes"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] }],
  };
  await kubectlOk(["apply", "-f", "-"], JSON.stringify(editAggregate));
  await kubectlOk(["create", "serviceaccount", "alice", "-n", "team-a"]);
  for (const ns of ["team-a", "team-c"]) {
    await kubectlOk(["create", "rolebinding", "alice-edit", "-n", ns, "--clusterrole=ecs-attributes-edit-test", "--serviceaccount=team-a:alice"]);
  }
  aliceKubeconfig = await tokenKubeconfig("alice", "team-a");

  emu = await startEmulatorInProcess({
    seed: {
      instances: [
        // A cluster worker node: the classic target. It carries the cluster's tags, not a team's.
        { instanceId: "i-worker0001", regionId: REGION, instanceName: "worker-1", tags: [{ key: "ack.aliyun.com", value: "c0123" }] },
        { instanceId: "i-teama00001", regionId: REGION, instanceName: "a-1", tags: [{ key: "team", value: "team-a" }] },
        { instanceId: "i-teama00002", regionId: REGION, instanceName: "a-2", tags: [{ key: "team", value: "team-a" }] },
        { instanceId: "i-teama00003", regionId: REGION, instanceName: "a-3", tags: [{ key: "team", value: "team-a" }] },
        { instanceId: "i-legacy0001", regionId: REGION, instanceName: "legacy-old" },
      ],
    },
  });
  ctl = await startController({ kubeconfig: cp.kubeconfigPath, ecsEndpoint: emu.url, namespace: "*", args: ["--resync-period=10m"] });
  await ctl.waitForLog(/workers running/);
}, 240_000);

afterAll(async () => {
  if (ctl) evidence["secretLeaks"] = findLeaks({ controllerLog: ctl.logs() }, [PASSWORD, TEST_ACCESS_KEY.accessKeySecret]).length;
  await ctl?.stop();
  await emu?.stop();
  await cp?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
  process.stderr.write(`[tenancy] attack scenarios: ${JSON.stringify(evidence, null, 1)}\n`);
});

describe("tenancy: attack scenarios (real API server, call-log evidence)", () => {
  it("alice holds only the resources' edit role: she may create resources but not EcsProviderConfigs", async () => {
    const who = await kubectlOk(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"], undefined, aliceKubeconfig);
    expect(who.trim()).toBe("system:serviceaccount:team-a:alice");
    const can = async (verb: string, res: string) => (await cp.kubectl(["auth", "can-i", verb, res], { kubeconfig: aliceKubeconfig })).stdout.trim();
    expect(await can("create", "ecsinstanceattributes.ecs.alicloud.dev")).toBe("yes");
    expect(await can("create", "ecsproviderconfigs.ecs.alicloud.dev")).toBe("no");
    const r = await cp.kubectl(["apply", "-f", "-"], { input: JSON.stringify(teamConfig("alice-own")), kubeconfig: aliceKubeconfig });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/forbidden/i);
  });

  it("the configs resolve and report their identity (status and log), never a secret", async () => {
    const out = await waitFor("team-a config Ready", async () => {
      const s = await kubectlOk(["get", "ecspc", "team-a", "-o", "jsonpath={.status.conditions[0].status} {.status.resolvedSource}"]);
      return s.trim() === "True Default" ? s : undefined;
    });
    evidence["configStatus"] = out.trim();
    expect(ctl.logRecords().some((r) => r["msg"] === "provider config credentials resolved" && r["providerConfig"] === "team-a")).toBe(true);
  });

  it("a namespace user naming an instance without the required tag (a worker node) → Forbidden, 0 writes", async () => {
    await createAsAlice("team-a", "grab-worker", {
      instanceId: "i-worker0001",
      regionId: REGION,
      providerConfigRef: { name: "team-a" },
      instanceName: "pwned",
    });
    const r = await waitReason("team-a", "grab-worker", "Forbidden");
    const msg = cond(r, "Ready")?.message ?? "";
    expect(msg).toContain("EcsProviderConfig team-a (constraints.instanceTags)");
    expect(msg).toContain("instance i-worker0001 lacks the required tag team=team-a");
    expect(cond(r, "Synced")?.reason).toBe("Forbidden");
    // The worker's attributes are not copied into the attacker's status.
    expect(r.status?.atProvider).toBeUndefined();
    const calls = await callsNaming("i-worker0001");
    expect(modifies(calls)).toEqual([]);
    expect((await emu.admin.getInstance("i-worker0001")).instanceName).toBe("worker-1");
    evidence["workerTag"] = { reason: "Forbidden", message: msg, modifyCalls: modifies(calls).length, reads: calls.length };
  });

  it("a namespace outside the config's selector → Forbidden before any ECS call", async () => {
    await createAsAlice("team-c", "outsider", { instanceId: "i-teama00002", regionId: REGION, providerConfigRef: { name: "team-a" }, instanceName: "c-owned" });
    const r = await waitReason("team-c", "outsider", "Forbidden");
    const msg = cond(r, "Ready")?.message ?? "";
    expect(msg).toContain("EcsProviderConfig team-a (constraints.namespaceSelector): namespace team-c may not use this config");
    const calls = await callsNaming("i-teama00002");
    expect(calls).toEqual([]);
    evidence["namespaceSelector"] = { reason: "Forbidden", message: msg, callsNamingInstance: calls.length };
  });

  it("labelling the namespace re-queues its resources: the same resource then applies", async () => {
    await kubectlOk(["label", "namespace", "team-c", "tenant=team-a"]);
    await waitReason("team-c", "outsider", "InSync");
    expect((await emu.admin.getInstance("i-teama00002")).instanceName).toBe("c-owned");
    evidence["namespaceRelabel"] = { reason: "InSync", modifyCalls: modifies(await callsNaming("i-teama00002")).length };
  });

  it("team B's resources (one older, one newer) never take over team A's instance", async () => {
    const b = fleets["team-b"]!;
    await b.create("b-older", { instanceId: "i-teama00001", regionId: REGION, providerConfigRef: { name: "team-b" }, instanceName: "b-older-name" });
    await waitReason("team-b", "b-older", "Forbidden");
    // creationTimestamp has second precision: make b-older really older than team A's resource.
    await sleep(1100);
    await fleets["team-a"]!.create("a-owner", {
      instanceId: "i-teama00001",
      regionId: REGION,
      providerConfigRef: { name: "team-a" },
      instanceName: "a-owner-name",
    });
    await b.create("b-newer", { instanceId: "i-teama00001", regionId: REGION, providerConfigRef: { name: "team-b" }, instanceName: "b-newer-name" });
    const owner = await waitReason("team-a", "a-owner", "InSync");
    // The newer one loses to the owner (Conflict); the older one is Forbidden and so cannot win.
    const newer = await waitReason("team-b", "b-newer", "Conflict");
    const older = await b.get("b-older");
    expect(cond(older, "Ready")?.message).toContain("instance i-teama00001 lacks the required tag team=team-b (it has team=team-a)");
    expect(cond(newer, "Ready")?.message).toContain("already managed by team-a/a-owner");
    expect(cond(owner, "Ready")?.status).toBe("True");
    const writes = modifies(await callsNaming("i-teama00001"));
    expect(writes.map((c) => c.params["InstanceName"])).toEqual(["a-owner-name"]);
    expect((await emu.admin.getInstance("i-teama00001")).instanceName).toBe("a-owner-name");
    evidence["teamBvsA"] = {
      owner: cond(owner, "Ready")?.reason,
      older: cond(older, "Ready")?.reason,
      newer: cond(newer, "Ready")?.reason,
      modifyCalls: writes.length,
      modifyNames: writes.map((c) => c.params["InstanceName"]),
    };
  });

  it("a config that forbids password → passwordSecretRef is Forbidden naming the field; allowing it re-queues and applies", async () => {
    const a = fleets["team-a"]!;
    await a.secret("pw", { password: PASSWORD });
    await a.create("with-password", {
      instanceId: "i-teama00003",
      regionId: REGION,
      providerConfigRef: { name: "team-a" },
      passwordSecretRef: { name: "pw", key: "password" },
    });
    const r = await waitReason("team-a", "with-password", "Forbidden");
    const msg = cond(r, "Ready")?.message ?? "";
    expect(msg).toContain("EcsProviderConfig team-a (constraints.allowedFields): field password (spec.passwordSecretRef) may not be set");
    const before = await callsNaming("i-teama00003");
    expect(before).toEqual([]);
    evidence["allowedFields"] = { reason: "Forbidden", message: msg, callsNamingInstance: before.length };

    // The admin changes the config: the resources that use it are re-queued at once.
    await kubectlOk([
      "patch",
      "ecspc",
      "team-a",
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { constraints: { allowedFields: ["instanceName", "description", "password"] } } }),
    ]);
    await waitReason("team-a", "with-password", "InSync");
    expect(await emu.admin.verifyPassword("i-teama00003", PASSWORD)).toBe(true);
    evidence["configChangeRequeue"] = { reason: "InSync", modifyCalls: modifies(await callsNaming("i-teama00003")).length };
  });

  it("an existing resource without providerConfigRef keeps working (no default config, no flag)", async () => {
    await fleets["legacy"]!.create("legacy", { instanceId: "i-legacy0001", regionId: REGION, instanceName: "legacy-new" });
    await waitReason("legacy", "legacy", "InSync");
    expect((await emu.admin.getInstance("i-legacy0001")).instanceName).toBe("legacy-new");
    evidence["legacy"] = { reason: "InSync", modifyCalls: modifies(await callsNaming("i-legacy0001")).length };
  });

  it("a `default` config with constraints then applies to it: re-queued, Forbidden, no further write", async () => {
    const def = { ...teamConfig("team-a"), metadata: { name: "default" } };
    await kubectlOk(["apply", "-f", "-"], JSON.stringify(def));
    await fleets["legacy"]!.patchSpec("legacy", { instanceName: "legacy-newer" });
    const r = await waitReason("legacy", "legacy", "Forbidden");
    expect(cond(r, "Ready")?.message).toContain("EcsProviderConfig default (constraints.namespaceSelector): namespace legacy may not use this config");
    const writes = modifies(await callsNaming("i-legacy0001"));
    expect(writes.map((c) => c.params["InstanceName"])).toEqual(["legacy-new"]);
    await kubectlOk(["delete", "ecspc", "default"]);
    evidence["defaultConfig"] = { reason: "Forbidden", modifyCalls: writes.length };
  });
});
