// The Helm chart as users install it, running the image built from the Dockerfile on a real
// one-node cluster (harness/node/), against the ECS emulator on this machine (Pods reach it by the
// node IP). One release goes through the lifecycle in order; each step asserts what a user sees:
// Pods and their status, the Lease, /readyz, Kubernetes objects, and the emulator's call log.
//   a install (defaults but image + endpoint) · m /metrics protection and people's roles ·
//   g credentials from an existing Secret ·
//   c upgrade to a new image tag · d leader Pod deleted · f uninstall.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type NodeOperator, nodeOperator, type PodReachableEmulator, startEmulatorForPods, type PodInfo } from "../../../harness/node/operator.js";
import type { CallRecord, EmulatorHandle } from "../../../harness/emulator.js";
import { Fleet, fleetInstances, fleetSpecs, findLeaks, isConverged } from "../../../harness/fleet.js";
import { waitFor } from "../../../harness/wait.js";
import { CHART_DIR } from "../../../harness/helm.js";

const skip = inject("nodeSkipReason");
const NS = "eac-helm";
const RELEASE = "eac";
const SELECTOR = `app.kubernetes.io/instance=${RELEASE}`;
const LEASE = "ecs-attributes-controller";
const N = 30;
const PREFIX = "hlm";
// Credentials only this test knows: the emulator accepts nothing else.
const KEY = { accessKeyId: "LTAInodeSuiteKeyId", accessKeySecret: "node-suite-secret-Zq81xK" };

/** The Pod name the controller puts in its ECS user agent ("instance/<POD_NAME>"). */
const writerOf = (c: CallRecord): string => /\binstance\/(\S+)/.exec(c.userAgent)?.[1] ?? "?";

/** Writers in call order, collapsed: ["a", "b"] when a's calls all precede b's. */
function writerBlocks(calls: readonly CallRecord[]): string[] {
  const blocks: string[] = [];
  for (const c of [...calls].sort((x, y) => x.seq - y.seq)) if (blocks.at(-1) !== writerOf(c)) blocks.push(writerOf(c));
  return blocks;
}

function windows(calls: readonly CallRecord[]): Record<string, { first: string; last: string; calls: number }> {
  const out: Record<string, { first: string; last: string; calls: number }> = {};
  for (const c of calls) {
    const w = (out[writerOf(c)] ??= { first: c.time, last: c.time, calls: 0 });
    w.last = c.time;
    w.calls++;
  }
  return out;
}

describe.skipIf(skip !== "")("Helm chart on a one-node cluster", () => {
  let op: NodeOperator;
  let emu: EmulatorHandle;
  let pe: PodReachableEmulator;
  let fleet: Fleet;
  let endpoint: string;

  const releasePods = (): Promise<PodInfo[]> => op.waitPodsReady(NS, SELECTOR, 2);
  const allConverged = () => fleet.waitConverged({ count: N, timeoutMs: 180_000 });

  beforeAll(async () => {
    op = nodeOperator(inject);
    pe = await startEmulatorForPods(inject("nodeIp"), { accessKeys: [KEY], seed: { instances: fleetInstances(PREFIX, N) }, callLogCapacity: 100_000 });
    emu = pe.emu;
    endpoint = pe.endpoint;
    fleet = await Fleet.open(inject("nodeKubeconfigPath"), NS);
  });

  afterAll(async () => {
    await op?.helm(["uninstall", RELEASE, "-n", NS, "--wait", "--timeout=120s"]);
    await fleet?.deleteNamespace();
    await pe?.stop();
  });

  it("a: helm install with default values except image and endpoint → 2 Pods Ready, one leader, /readyz of both", async () => {
    const out = await op.mustHelm([
      "install",
      RELEASE,
      CHART_DIR,
      "-n",
      NS,
      ...op.imageValues(),
      "--set",
      `ecs.endpoint=${endpoint}`,
      "--wait",
      "--timeout=300s",
    ]);
    expect(out).toContain(`is installed in namespace ${NS}`); // NOTES.txt
    expect(out).toContain("rollout status deployment/");
    const pods = await releasePods();
    expect(pods.map((p) => p.image)).toEqual([inject("controllerImage"), inject("controllerImage")]);
    const holder = await waitFor("a Lease holder", async () => (await op.leaseHolder(NS, LEASE)) || undefined, 60_000);
    expect(pods.map((p) => p.name)).toContain(holder);
    const probes = await Promise.all(pods.map((p) => op.readyz(p)));
    expect(probes.map((r) => r.status)).toEqual([200, 200]);
    const roles = probes.map((r) => /leader-election ok \((\w+)\)/.exec(r.body)?.[1]).sort();
    expect(roles).toEqual(["leader", "standby"]);
  });

  it("m: /metrics of each Pod is HTTPS for callers RBAC allows (no token 401, no grant 403, metrics-reader 200); view aggregates the chart's view role, edit does not (opt-in)", async () => {
    const pods = await releasePods();
    const rbac = (kind: string, name: string, role: string, sa: string) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind,
      metadata: { name, ...(kind === "RoleBinding" ? { namespace: NS } : {}) },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      subjects: [{ kind: "ServiceAccount", name: sa, namespace: NS }],
    });
    const sa = (name: string) => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: NS } });
    const objects = [
      sa("outsider"),
      sa("scraper"),
      rbac("ClusterRoleBinding", `${NS}-scraper`, `${RELEASE}-ecs-attributes-controller-metrics-reader`, "scraper"),
      rbac("RoleBinding", "outsider-view", "view", "outsider"),
      rbac("RoleBinding", "outsider-edit", "edit", "outsider"),
    ];
    await op.mustKubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
    const [outsider, scraper] = [await op.token(NS, "outsider"), await op.token(NS, "scraper")];
    const results = [];
    for (const pod of pods) {
      const r = { none: await op.metrics(pod), outsider: await op.metrics(pod, outsider), scraper: await op.metrics(pod, scraper) };
      results.push({ pod: pod.name, none: r.none.status, outsider: r.outsider.status, scraper: r.scraper.status, bytes: r.scraper.body.length });
      expect([r.none.status, r.outsider.status, r.scraper.status]).toEqual([401, 403, 200]);
      expect(r.scraper.body).toMatch(/^leader_election_master_status\{/m);
    }
    // "outsider" holds the built-in view and edit in NS (neither grants /metrics: still 403 above).
    // kube-controller-manager's clusterrole-aggregation controller folds the chart's roles into them.
    const as = `--as=system:serviceaccount:${NS}:outsider`;
    const canI = async (verb: string, resource: string) => (await op.kubectl(["auth", "can-i", verb, resource, "-n", NS, as])).stdout.trim();
    const list = await waitFor(
      "view aggregates the chart's view role",
      async () => ((await canI("list", "ecsinstanceattributes.ecs.alicloud.dev")) === "yes" ? "yes" : undefined),
      60_000,
    );
    const create = await canI("create", "ecsinstanceattributes.ecs.alicloud.dev");
    process.stderr.write(`[node metrics-auth] ${JSON.stringify(results)}; as view+edit holder: list ecsattrs ${list}, create ecsattrs ${create}\n`);
    expect(create).toBe("no");
    await op.mustKubectl(["delete", "clusterrolebinding", `${NS}-scraper`]);
  });

  it("g: credentials from an existing Secret reach the Pod and work; the Secret's values never appear in its logs", async () => {
    await fleet.secret("ecs-creds", { ALIBABA_CLOUD_ACCESS_KEY_ID: KEY.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY.accessKeySecret });
    await op.mustHelm(["upgrade", RELEASE, CHART_DIR, "-n", NS, "--reuse-values", "--set", "credentials.existingSecret=ecs-creds", "--wait", "--timeout=300s"]);
    const pods = await releasePods();
    await fleet.createMany(fleetSpecs(PREFIX, N, (i) => ({ instanceName: `web-${i}` })));
    await allConverged();
    const instances = await Promise.all(fleetInstances(PREFIX, N).map((i) => emu.admin.getInstance(i.instanceId)));
    expect(instances.map((i) => i.instanceName)).toEqual(fleetInstances(PREFIX, N).map((_, i) => `web-${i}`));
    const modifies = await emu.admin.callLog({ action: "ModifyInstanceAttribute" });
    expect(modifies.length).toBeGreaterThanOrEqual(N);
    expect(new Set(modifies.map((c) => c.accessKeyId))).toEqual(new Set([KEY.accessKeyId]));
    const logs: Record<string, string> = {};
    for (const p of pods) logs[p.name] = await op.logs(NS, p.name);
    expect(Object.values(logs).join("").length).toBeGreaterThan(0);
    expect(findLeaks(logs, [KEY.accessKeySecret])).toEqual([]);
  });

  it("c: helm upgrade to a new image tag rolls the Pods with never two writers and no Modify for resources in sync", async () => {
    const before = await releasePods();
    const since = (await emu.admin.callLog()).at(-1)?.seq ?? 0;
    // The same image under a new tag: the Deployment's Pod template changes, as in a real upgrade.
    const [repo] = inject("controllerImage").split(/:(?=[^:/]+$)/);
    execFileSync("ctr", ["--address", inject("nodeContainerdSock"), "-n", "k8s.io", "images", "tag", "--force", inject("controllerImage"), `${repo}:e2e-next`]);
    // One resource changes every second through the rollout, so both the old and the new leader
    // write: the call log then shows whether their writes ever interleave.
    const churn = fleetSpecs(PREFIX, N, () => ({}))[0]!;
    let stopChurn = false;
    let churned = 0;
    const churning = (async () => {
      while (!stopChurn) {
        await fleet.patchSpec(churn.name, { instanceName: `churn-${++churned}` });
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    try {
      await op.mustHelm(["upgrade", RELEASE, CHART_DIR, "-n", NS, "--reuse-values", "--set", "image.tag=e2e-next", "--wait", "--timeout=300s"]);
    } finally {
      stopChurn = true;
      await churning;
    }
    const after = await releasePods();
    expect(after.map((p) => p.image)).toEqual([`${repo}:e2e-next`, `${repo}:e2e-next`]);
    expect(after.map((p) => p.name).filter((n) => before.some((b) => b.name === n))).toEqual([]);
    const holder = await waitFor(
      "the new leader",
      async () => {
        const h = await op.leaseHolder(NS, LEASE);
        return after.some((p) => p.name === h) ? h : undefined;
      },
      60_000,
    );
    // The new leader re-reads everything at start: wait until it has, then look at the log.
    await waitFor("the new leader's first reads", async () => (await emu.admin.callLog({ since })).some((c) => writerOf(c) === holder), 120_000);
    const { items } = await allConverged();
    expect(items.every(isConverged)).toBe(true);
    const calls = await emu.admin.callLog({ since });
    const blocks = writerBlocks(calls);
    process.stderr.write(`[node-suite] c: writers in call order ${JSON.stringify(blocks)}; windows ${JSON.stringify(windows(calls))}\n`);
    expect(new Set(blocks).size).toBe(blocks.length); // each writer's calls are one contiguous block
    expect(blocks.at(-1)).toBe(holder);
    expect(blocks.length).toBeGreaterThanOrEqual(2); // the handover happened under load
    const modified = new Set(calls.filter((c) => c.action === "ModifyInstanceAttribute").map((c) => c.params["InstanceId"]));
    expect([...modified]).toEqual([churn.spec["instanceId"]]); // nothing for resources in sync
    expect((await emu.admin.getInstance(String(churn.spec["instanceId"]))).instanceName).toBe(`churn-${churned}`);
  });

  it("d: deleting the leader Pod → another replica (the standby or the Pod replacing the deleted one) takes over within the lease duration; changes made meanwhile converge", async () => {
    const pods = await releasePods();
    const leader = await op.leaseHolder(NS, LEASE);
    const standby = pods.find((p) => p.name !== leader)!;
    expect(standby).toBeDefined();
    const since = (await emu.admin.callLog()).at(-1)?.seq ?? 0;
    const deletedAt = Date.now();
    await op.mustKubectl(["delete", "pod", leader, "-n", NS, "--wait=false"]);
    for (let i = 0; i < 5; i++) await fleet.patchSpec(fleetSpecs(PREFIX, N, () => ({}))[i]!.name, { instanceName: `moved-${i}` });
    const successor = await op.waitNewLeaseHolder(NS, LEASE, leader, SELECTOR);
    const takeoverMs = Date.now() - deletedAt;
    const role = successor === standby.name ? "the standby" : "the replacement Pod";
    process.stderr.write(`[node-suite] d: ${successor} (${role}) took over ${takeoverMs} ms after ${leader} was deleted (lease duration 15 s)\n`);
    expect(takeoverMs).toBeLessThan(15_000);
    await allConverged();
    for (let i = 0; i < 5; i++) expect((await emu.admin.getInstance(fleetInstances(PREFIX, N)[i]!.instanceId)).instanceName).toBe(`moved-${i}`);
    const modifies = (await emu.admin.callLog({ since, action: "ModifyInstanceAttribute" })).filter((c) => c.code === "OK");
    expect(new Set(modifies.map(writerOf))).toEqual(new Set([successor]));
    const blocks = writerBlocks(await emu.admin.callLog({ since }));
    process.stderr.write(`[node-suite] d: writers in call order ${JSON.stringify(blocks)}\n`);
    expect(new Set(blocks).size).toBe(blocks.length);
    await releasePods(); // the Deployment replaced the deleted Pod
  });

  it("f: helm uninstall removes Pods, RBAC and Service, keeps the CRD and the resources, and touches no instance", async () => {
    const since = (await emu.admin.callLog()).at(-1)?.seq ?? 0;
    const namesBefore = (await emu.admin.listInstances()).map((i) => `${i.instanceId}=${i.instanceName}`).sort();
    await op.mustHelm(["uninstall", RELEASE, "-n", NS, "--wait", "--timeout=120s"]);
    await waitFor("Pods gone", async () => (await op.pods(NS, SELECTOR)).length === 0, 120_000);
    const left = await op.mustKubectl(["get", "deploy,rs,svc,sa,role,rolebinding", "-n", NS, "-l", SELECTOR, "-o", "name"]);
    expect(left.trim()).toBe("");
    const cluster = await op.mustKubectl(["get", "clusterrole,clusterrolebinding", "-l", SELECTOR, "-o", "name"]);
    expect(cluster.trim()).toBe("");
    await op.mustKubectl(["get", "crd", "ecsinstanceattributes.ecs.alicloud.dev"]);
    expect(await fleet.list()).toHaveLength(N);
    // Nothing reached ECS after the uninstall began, and every instance is as it was.
    expect(await emu.admin.callLog({ since })).toEqual([]);
    expect((await emu.admin.listInstances()).map((i) => `${i.instanceId}=${i.instanceName}`).sort()).toEqual(namesBefore);
  });
});
