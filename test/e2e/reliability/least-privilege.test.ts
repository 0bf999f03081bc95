/**
 * Reliability scenario 9 (issue 9): least privilege. The chart is rendered with
 * `watchNamespace` (its namespace-scoped mode: a Role in that namespace instead of a ClusterRole),
 * applied to the real API server, and the controller runs with the chart's flags as the chart's
 * ServiceAccount (a real TokenRequest token: `system:serviceaccount:<ns>:<sa>`). It reconciles a
 * resource end to end using a password Secret in its namespace, leaves resources elsewhere alone,
 * never hits a 403, and that identity cannot read (or write) Secrets outside the watched namespace.
 * The cluster-wide default is checked too, to document the trade-off: it can read every Secret.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type EmulatorHandle, startEmulatorInProcess, TEST_ACCESS_KEY } from "../../../harness/emulator.js";
import { cond, findLeaks, Fleet, REGION } from "../../../harness/fleet.js";
import { findObject, kubectl, kubectlOk, parseObjects, renderChart, uniqueName } from "../packaging/support.js";

const PASSWORD = "Least-Priv-Pw-42!";
const releaseNs = uniqueName("rel-lp-sys");
const workNs = uniqueName("rel-lp-work");
const otherNs = uniqueName("rel-lp-other");
const release = uniqueName("lp");
let tmp = "";
let saKubeconfig = "";
let saUser = "";
let emu: EmulatorHandle;
let ctl: RunningController;
let work: Fleet;
let other: Fleet;
const report: Record<string, unknown> = {};

async function tokenKubeconfig(sa: string, ns: string, file: string): Promise<string> {
  const token = (await kubectlOk(["create", "token", sa, "-n", ns, "--duration=1h"])).trim();
  const admin = parseYaml(await readFile(inject("kubeconfigPath"), "utf8")) as { clusters: Array<{ cluster: Record<string, string> }> };
  const path = join(tmp, file);
  await writeFile(
    path,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      "current-context": "sa",
      clusters: [{ name: "c", cluster: admin.clusters[0]!.cluster }],
      users: [{ name: "sa", user: { token } }],
      contexts: [{ name: "sa", context: { cluster: "c", user: "sa" } }],
    }),
  );
  return path;
}

async function canI(kubeconfig: string, verb: string, resource: string, ns?: string, subresource?: string): Promise<boolean> {
  const r = await kubectl(["auth", "can-i", verb, resource, ...(subresource ? [`--subresource=${subresource}`] : []), ...(ns ? ["-n", ns] : ["-A"])], {
    kubeconfig,
  });
  return r.stdout.trim() === "yes";
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ecs-attrs-lp-"));
  work = await Fleet.open(inject("kubeconfigPath"), workNs);
  other = await Fleet.open(inject("kubeconfigPath"), otherNs);
  await Fleet.open(inject("kubeconfigPath"), releaseNs);
  const rendered = await renderChart(release, releaseNs, [
    "--set",
    `watchNamespace=${workNs}`,
    "--set",
    `ecs.region=${REGION}`,
    "--set",
    "controller.resyncPeriod=30s",
  ]);
  const objs = parseObjects(rendered);
  // Cluster-wide, the controller is bound only to the /metrics reviews (TokenReview and
  // SubjectAccessReview are cluster-scoped); the chart's other ClusterRoles are for people.
  expect(objs.filter((o) => o.kind === "ClusterRoleBinding").map((o) => o.metadata.name.replace(/^.*-/, ""))).toEqual(["auth"]);
  await kubectlOk(["apply", "-f", "-"], { input: rendered });
  const sa = findObject(objs, "ServiceAccount").metadata.name;
  saUser = `system:serviceaccount:${releaseNs}:${sa}`;
  saKubeconfig = await tokenKubeconfig(sa, releaseNs, "sa.kubeconfig");
  expect((await kubectlOk(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"], { kubeconfig: saKubeconfig })).trim()).toBe(saUser);

  const container = (findObject(objs, "Deployment") as unknown as { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } }).spec.template
    .spec.containers[0]!;
  // The chart's flags, minus the ones the harness sets (loopback ports, debug logs, the namespace).
  const chartArgs = container.args.filter((a) => !/^--(metrics-bind-address|health-probe-bind-address|log-level|namespace)=/.test(a));
  expect(container.args).toContain(`--namespace=${workNs}`);
  report["chartArgs"] = chartArgs;

  emu = await startEmulatorInProcess({
    seed: {
      instances: [
        { instanceId: "i-lpwork", regionId: REGION, instanceName: "before" },
        { instanceId: "i-lpother", regionId: REGION, instanceName: "untouched" },
      ],
    },
  });
  ctl = await startController({
    kubeconfig: saKubeconfig,
    ecsEndpoint: emu.url,
    namespace: workNs,
    args: chartArgs,
    env: { POD_NAME: `${release}-pod`, POD_NAMESPACE: releaseNs },
  });
});

afterAll(async () => {
  if (ctl) report["leaks"] = findLeaks({ controllerLog: ctl.logs() }, [PASSWORD, TEST_ACCESS_KEY.accessKeySecret]).length;
  await ctl?.stop();
  await emu?.stop();
  for (const ns of [workNs, otherNs, releaseNs]) await kubectl(["delete", "namespace", ns, "--wait=false"]);
  if (tmp) await rm(tmp, { recursive: true, force: true });
  process.stderr.write(`[reliability] least-privilege figures: ${JSON.stringify(report)}\n`);
  expect(report["leaks"] ?? 0).toBe(0);
});

describe("reliability: least privilege under the chart's RBAC", () => {
  it("scenario 9: namespace-scoped controller reconciles end to end without a 403", async () => {
    await ctl.waitForLog(/became leader/, 90_000);
    await work.secret("pw", { password: PASSWORD });
    await other.secret("pw", { password: "Other-Ns-Pw-77!" });
    await work.create("lp", { instanceId: "i-lpwork", instanceName: "after", passwordSecretRef: { name: "pw", key: "password" } });
    await other.create("lp", { instanceId: "i-lpother", instanceName: "must-not-apply" });

    const o = await work.waitForCondition("lp", "Ready", "True", { timeoutMs: 90_000, diag: () => ctl.logs().slice(-2000) });
    expect(cond(o, "Ready")?.reason).toBe("InSync");
    expect((await emu.admin.getInstance("i-lpwork")).instanceName).toBe("after");
    expect(await emu.admin.verifyPassword("i-lpwork", PASSWORD)).toBe(true);
    // Events were recorded with the chart's permissions.
    expect((await work.events()).some((e) => e.involvedObject.name === "lp")).toBe(true);

    // Outside its namespace: nothing read, nothing written, no status.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await emu.admin.getInstance("i-lpother")).instanceName).toBe("untouched");
    expect((await other.get("lp")).status).toBeUndefined();
    expect(ctl.logs()).not.toMatch(/\b403\b|forbidden/i);
  });

  it("scenario 9: that identity cannot read Secrets outside the watched namespace", async () => {
    const checks = {
      getSecretWorkNs: await canI(saKubeconfig, "get", "secrets", workNs),
      getSecretOtherNs: await canI(saKubeconfig, "get", "secrets", otherNs),
      listSecretOtherNs: await canI(saKubeconfig, "list", "secrets", otherNs),
      listSecretAllNs: await canI(saKubeconfig, "list", "secrets"),
      getSecretReleaseNs: await canI(saKubeconfig, "get", "secrets", releaseNs),
      createSecretWorkNs: await canI(saKubeconfig, "create", "secrets", workNs),
      updateResourceWorkNs: await canI(saKubeconfig, "update", "ecsinstanceattributes.ecs.alicloud.dev", workNs),
      patchStatusWorkNs: await canI(saKubeconfig, "patch", "ecsinstanceattributes.ecs.alicloud.dev", workNs, "status"),
      listPodsWorkNs: await canI(saKubeconfig, "list", "pods", workNs),
    };
    report["namespaceScoped"] = checks;
    expect(checks).toEqual({
      getSecretWorkNs: true,
      getSecretOtherNs: false,
      listSecretOtherNs: false,
      listSecretAllNs: false,
      getSecretReleaseNs: false,
      createSecretWorkNs: false,
      updateResourceWorkNs: false,
      patchStatusWorkNs: true,
      listPodsWorkNs: false,
    });
    // Not only the access review: the real request is refused.
    const get = await kubectl(["get", "secret", "pw", "-n", otherNs, "-o", "name"], { kubeconfig: saKubeconfig });
    expect(get.code).not.toBe(0);
    expect(get.stderr).toMatch(/forbidden/i);
    expect(get.stdout).not.toContain("pw");
  });

  it("scenario 9: the cluster-wide default can read every Secret (the documented trade-off)", async () => {
    const wideRelease = uniqueName("lpwide");
    const rendered = await renderChart(wideRelease, releaseNs, ["--set", `ecs.region=${REGION}`]);
    const objs = parseObjects(rendered);
    expect(objs.some((o) => o.kind === "ClusterRole")).toBe(true);
    // Only the RBAC objects and the ServiceAccount: no second controller runs.
    const rbacOnly = objs.filter((o) => ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"].includes(o.kind));
    await kubectlOk(["apply", "-f", "-"], { input: rbacOnly.map((o) => JSON.stringify(o)).join("\n") });
    const wide = await tokenKubeconfig(findObject(objs, "ServiceAccount").metadata.name, releaseNs, "wide.kubeconfig");
    const checks = {
      getSecretOtherNs: await canI(wide, "get", "secrets", otherNs),
      listSecretAllNs: await canI(wide, "list", "secrets"),
      createSecretOtherNs: await canI(wide, "create", "secrets", otherNs),
    };
    report["clusterWide"] = checks;
    expect(checks).toEqual({ getSecretOtherNs: true, listSecretAllNs: true, createSecretOtherNs: false });
    for (const o of rbacOnly.filter((x) => x.kind !== "ServiceAccount")) await kubectl(["delete", o.kind.toLowerCase(), o.metadata.name]);
  });
});
