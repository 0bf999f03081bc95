/**
 * RBAC proof with the real controller: the chart's objects are applied, the controller runs as a
 * process authenticated with a real token of the chart's ServiceAccount (TokenRequest API), with
 * the flags the chart's Deployment passes, against the ECS emulator. It must reconcile a resource
 * end to end (spec → ECS → status), hold its Lease, serve the probe and metrics endpoints the
 * Deployment uses, and never hit a 403; a second replica must stand by Ready without taking the
 * Lease; the same identity must be refused Pods and writes to ConfigMaps and Deployments.
 *
 * The chart's default install watches every namespace, so this file runs on a control plane of its
 * own: on the shared one it would reconcile the other test files' resources against this file's
 * emulator (where their instances do not exist) and overwrite their statuses with InstanceNotFound.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { type ControlPlane, startControlPlane } from "../../../harness/controlplane.js";
import { jsonLines } from "../../../harness/controller.js";
import { scrapeMetrics, serviceAccountToken } from "../../../harness/metrics.js";
import { type EmulatorHandle, TEST_ACCESS_KEY, startEmulatorInProcess } from "../../../harness/emulator.js";
import { WaitAborted, waitFor } from "../../../harness/wait.js";
import { findObject, kubectl, kubectlOk, parseObjects, renderChart, repoRoot, uniqueName } from "./support.js";

interface Replica {
  proc: ChildProcessByStdio<null, Readable, Readable>;
  logs: string;
}

/** An endpoint URL from the replica's "http endpoints listening" log line (it binds port 0). */
function endpoint(r: Replica, kind: "metrics" | "probes"): string {
  const line = jsonLines(r.logs).find((l) => l["msg"] === "http endpoints listening");
  return typeof line?.[kind] === "string" ? line[kind] : "http://127.0.0.1:1"; // not listening yet
}

describe("controller running as the chart's ServiceAccount", () => {
  const ns = uniqueName("sa-ctl");
  const workNs = uniqueName("sa-work");
  const release = uniqueName("sarbac");
  const instanceId = "i-rbacproof000001";
  let tmp = "";
  let tokenKubeconfig = "";
  let emu: EmulatorHandle | undefined;
  let chartArgs: string[] = [];
  let leaseName = "";
  let readerRole = "";
  let leader: Replica | undefined;
  const replicas: Replica[] = [];
  let cp: ControlPlane | undefined;
  /** kubectl as admin of this file's own control plane. */
  const asAdmin = (args: string[], opts: { input?: string } = {}) => kubectlOk(args, { ...opts, kubeconfig: cp!.kubeconfigPath });

  beforeAll(async () => {
    expect(existsSync(join(repoRoot, "src/main.ts")), "src/main.ts (the controller entry point) does not exist yet").toBe(true);
    tmp = await mkdtemp(join(tmpdir(), "ecs-attrs-sa-"));
    cp = await startControlPlane({ crdsDir: join(repoRoot, "crds") });
    for (const n of [ns, workNs]) await asAdmin(["create", "namespace", n]);
    const rendered = await renderChart(release, ns, ["--set", "ecs.region=cn-hangzhou", "--set", "controller.resyncPeriod=1m"]);
    await asAdmin(["apply", "-f", "-"], { input: rendered });
    const objs = parseObjects(rendered);
    const sa = findObject(objs, "ServiceAccount").metadata.name;
    const container = (
      findObject(objs, "Deployment") as unknown as {
        spec: { template: { spec: { containers: { args: string[] }[] } } };
      }
    ).spec.template.spec.containers[0]!;

    // A real ServiceAccount token, as the kubelet would project it.
    const token = (await asAdmin(["create", "token", sa, "-n", ns, "--duration=1h"])).trim();
    const admin = parseYaml(await readFile(cp.kubeconfigPath, "utf8")) as {
      clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
    };
    const cluster = admin.clusters[0]!.cluster;
    tokenKubeconfig = join(tmp, "sa.kubeconfig");
    await writeFile(
      tokenKubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        "current-context": "sa",
        clusters: [{ name: "c", cluster }],
        users: [{ name: "sa", user: { token } }],
        contexts: [{ name: "sa", context: { cluster: "c", user: "sa" } }],
      }),
    );
    const whoami = await kubectlOk(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"], { kubeconfig: tokenKubeconfig });
    expect(whoami).toBe(`system:serviceaccount:${ns}:${sa}`);

    emu = await startEmulatorInProcess({ seed: { instances: [{ instanceId, regionId: "cn-hangzhou", instanceName: "before" }] } });

    readerRole = objs.find((o) => o.kind === "ClusterRole" && o.metadata.name.endsWith("-metrics-reader"))?.metadata.name ?? "";
    chartArgs = container.args;
    leaseName = (chartArgs.find((a) => a.startsWith("--leader-election-id=")) ?? "").replace(/^[^=]*=/, "");
    expect(chartArgs).toContain("--leader-elect");
    leader = await startReplica(`${release}-pod-a`);
  });

  /** Starts one controller process the way the chart's pod runs it, as the ServiceAccount. */
  async function startReplica(podName: string): Promise<Replica> {
    // The chart's own flags, with free loopback ports (port 0) and the emulator as the ECS endpoint.
    const args = chartArgs.map((a) =>
      a.startsWith("--metrics-bind-address=")
        ? "--metrics-bind-address=127.0.0.1:0"
        : a.startsWith("--health-probe-bind-address=")
          ? "--health-probe-bind-address=127.0.0.1:0"
          : a,
    );
    const env: NodeJS.ProcessEnv = {
      PATH: process.env["PATH"],
      HOME: process.env["HOME"],
      POD_NAME: podName,
      POD_NAMESPACE: ns,
      ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_ACCESS_KEY.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_ACCESS_KEY.accessKeySecret,
    };
    const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args, `--kubeconfig=${tokenKubeconfig}`, `--ecs-endpoint=${emu!.url}`], {
      cwd: repoRoot,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const replica: Replica = { proc, logs: "" };
    proc.stdout.setEncoding("utf8").on("data", (d: string) => (replica.logs += d));
    proc.stderr.setEncoding("utf8").on("data", (d: string) => (replica.logs += d));
    replicas.push(replica);
    return replica;
  }

  const diag = (r: Replica | undefined) => () => `controller output:\n${(r?.logs ?? "").split("\n").slice(-40).join("\n")}`;

  async function httpStatus(url: string): Promise<number | undefined> {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    return res?.status;
  }

  afterAll(async () => {
    await Promise.all(
      replicas.map(async (r) => {
        if (r.proc.exitCode !== null || r.proc.signalCode !== null) return;
        const exited = new Promise((res) => r.proc.once("exit", res));
        r.proc.kill("SIGTERM");
        const timer = setTimeout(() => r.proc.kill("SIGKILL"), 40_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await emu?.stop();
    await cp?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("reconciles a resource end to end with only the chart's permissions", async () => {
    const resource = {
      apiVersion: "ecs.alicloud.dev/v1alpha1",
      kind: "EcsInstanceAttributes",
      metadata: { name: "rbac-proof", namespace: workNs },
      spec: { instanceId, regionId: "cn-hangzhou", instanceName: "after-rbac-proof" },
    };
    await asAdmin(["apply", "-f", "-"], { input: JSON.stringify(resource) });
    await waitFor(
      "Ready=True",
      async () => {
        if (leader?.proc.exitCode !== null) throw new WaitAborted(`controller exited with ${leader?.proc.exitCode}\n${diag(leader)()}`);
        const r = await kubectl(["get", "ecsattrs", "rbac-proof", "-n", workNs, "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], {
          kubeconfig: cp!.kubeconfigPath,
        });
        return r.stdout === "True";
      },
      { timeoutMs: 120_000, intervalMs: 500, diag: diag(leader) },
    );
    expect((await emu!.admin.getInstance(instanceId)).instanceName).toBe("after-rbac-proof");
    const holder = await asAdmin(["get", "lease", leaseName, "-n", ns, "-o", "jsonpath={.spec.holderIdentity}"]);
    // Identity: the pod name, optionally with a per-process suffix.
    expect(holder).toMatch(new RegExp(`^${release}-pod-a(_|$)`));
    // Nothing it did was refused: no 403 anywhere in its logs.
    expect(leader!.logs).not.toMatch(/forbidden|\b403\b/i);
  });

  it("serves the probes and metrics the chart's Deployment points at", async () => {
    const r = leader!;
    expect(await httpStatus(`${endpoint(r, "probes")}/healthz`)).toBe(200);
    expect(await httpStatus(`${endpoint(r, "probes")}/readyz`)).toBe(200);
    // /metrics: HTTPS, each caller reviewed with the API server under the chart's RBAC (the
    // controller's own identity makes the TokenReview and SubjectAccessReview). Real tokens from the
    // TokenRequest API: "outsider" has no bindings, "scraper" is bound to the chart's metrics-reader.
    const url = `${endpoint(r, "metrics")}/metrics`;
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(readerRole).toMatch(/-metrics-reader$/);
    for (const sa of ["outsider", "scraper"]) await asAdmin(["create", "serviceaccount", sa, "-n", workNs]);
    await asAdmin(["create", "clusterrolebinding", `${release}-scraper`, `--clusterrole=${readerRole}`, `--serviceaccount=${workNs}:scraper`]);
    const token = (sa: string) => serviceAccountToken((args) => kubectl(args, { kubeconfig: cp!.kubeconfigPath }), workNs, sa);
    const none = await scrapeMetrics(url);
    const outsider = await scrapeMetrics(url, { token: await token("outsider") });
    const garbage = await scrapeMetrics(url, { token: "not-a-token" });
    const scraper = await scrapeMetrics(url, { token: await token("scraper") });
    process.stderr.write(
      `[metrics-auth] no token → ${none.status} ${none.body.trim()}; invalid token → ${garbage.status}; outsider → ${outsider.status} ${outsider.body.trim()}; metrics-reader → ${scraper.status} (${scraper.body.length} bytes)\n`,
    );
    expect(none).toEqual({ status: 401, body: "Unauthorized: a bearer token is required\n" });
    expect(garbage.status).toBe(401);
    expect(outsider).toEqual({ status: 403, body: `Forbidden: user "system:serviceaccount:${workNs}:outsider" cannot get path "/metrics"\n` });
    expect(scraper.status).toBe(200);
    expect(scraper.body).toMatch(/^# HELP /m);
    expect(scraper.body).toMatch(/^workqueue_depth\{/m);
    expect(r.logs).not.toMatch(/review failed/);
  });

  it("a second replica stands by Ready (so a surge rollout can finish) without taking the Lease", async () => {
    const standby = await startReplica(`${release}-pod-b`);
    await waitFor(
      "standby /readyz 200",
      async () => {
        if (standby.proc.exitCode !== null) throw new WaitAborted(`standby exited with ${standby.proc.exitCode}\n${diag(standby)()}`);
        return (await httpStatus(`${endpoint(standby, "probes")}/readyz`)) === 200;
      },
      { timeoutMs: 60_000, intervalMs: 500, diag: diag(standby) },
    );
    const holder = await asAdmin(["get", "lease", leaseName, "-n", ns, "-o", "jsonpath={.spec.holderIdentity}"]);
    // Identity: the pod name, optionally with a per-process suffix.
    expect(holder).toMatch(new RegExp(`^${release}-pod-a(_|$)`));
    expect(standby.logs).not.toMatch(/forbidden|\b403\b/i);
  });

  it("the same identity cannot list Pods or write ConfigMaps", async () => {
    const pods = await kubectl(["get", "pods", "-n", workNs], { kubeconfig: tokenKubeconfig });
    expect(pods.code).not.toBe(0);
    expect(pods.stderr).toMatch(/forbidden/i);
    const cm = await kubectl(["create", "configmap", "nope", "-n", workNs, "--from-literal=a=b"], { kubeconfig: tokenKubeconfig });
    expect(cm.code).not.toBe(0);
    expect(cm.stderr).toMatch(/forbidden/i);
    const deploy = await kubectl(["create", "deployment", "nope", "-n", workNs, "--image=x"], { kubeconfig: tokenKubeconfig });
    expect(deploy.code).not.toBe(0);
    expect(deploy.stderr).toMatch(/forbidden/i);
  });
});
