/**
 * The Helm chart: helm lint, helm template with default values and with a values file that sets
 * every option, both accepted by the real API server (`kubectl apply --dry-run=server`), the
 * values schema rejecting bad values, and the pod passing the restricted Pod Security Standard as
 * enforced by the API server's PodSecurity admission.
 */
import { readFile, writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  CHART_DIR,
  type K8sObject,
  ensureNamespace,
  findObject,
  fixture,
  kubectl,
  kubectlOk,
  parseObjects,
  renderChart,
  runHelm,
  uniqueName,
} from "./support.js";

interface Container {
  args: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  ports: { name: string; containerPort: number }[];
  image: string;
}
interface PodSpec {
  securityContext: Record<string, unknown>;
  terminationGracePeriodSeconds: number;
  serviceAccountName: string;
  containers: Container[];
  topologySpreadConstraints?: { topologyKey: string; labelSelector?: unknown }[];
  [k: string]: unknown;
}
interface Deployment extends K8sObject {
  spec: { replicas: number; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}

const deploymentOf = (objs: K8sObject[]) => findObject(objs, "Deployment") as Deployment;
const containerOf = (objs: K8sObject[]) => {
  const c = deploymentOf(objs).spec.template.spec.containers[0];
  if (!c) throw new Error("Deployment has no container");
  return c;
};
const flag = (c: Container, name: string) => c.args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));

/** values-all.yaml with its namespace placeholders filled in, written to a temp file. */
async function valuesAllFile(watchNs: string, leaseNs: string): Promise<string> {
  const text = (await readFile(fixture("values-all.yaml"), "utf8")).replaceAll("WATCH_NS", watchNs).replaceAll("LEASE_NS", leaseNs);
  const dir = await mkdtemp(join(tmpdir(), "ecs-attrs-values-"));
  const path = join(dir, "values-all.yaml");
  await writeFile(path, text);
  return path;
}

describe("helm chart", () => {
  const releaseNs = uniqueName("chart-rel");
  const watchNs = uniqueName("chart-watch");
  const leaseNs = uniqueName("chart-lease");
  let valuesAll = "";
  let defaults: K8sObject[] = [];
  let defaultsText = "";
  let all: K8sObject[] = [];
  let allText = "";

  beforeAll(async () => {
    valuesAll = await valuesAllFile(watchNs, leaseNs);
    defaultsText = await renderChart(uniqueName("dflt"), releaseNs);
    defaults = parseObjects(defaultsText);
    allText = await renderChart(uniqueName("all"), releaseNs, ["-f", valuesAll]);
    all = parseObjects(allText);
    for (const ns of [releaseNs, watchNs, leaseNs]) await ensureNamespace(ns);
  });

  it("passes helm lint --strict with default values and with every option set", async () => {
    const plain = await runHelm(["lint", "--strict", CHART_DIR]);
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    expect(plain.stdout).toContain("0 chart(s) failed");
    const full = await runHelm(["lint", "--strict", CHART_DIR, "-f", valuesAll]);
    expect(full.code, full.stdout + full.stderr).toBe(0);
  });

  it("renders the documented defaults: 2 replicas with leader election, probes, restricted security, grace above shutdown", () => {
    expect([...new Set(defaults.map((o) => o.kind))].sort()).toEqual([
      "ClusterRole",
      "ClusterRoleBinding",
      "CustomResourceDefinition",
      "Deployment",
      "Pod",
      "PodDisruptionBudget",
      "Role",
      "RoleBinding",
      "Service",
      "ServiceAccount",
    ]);
    const dep = deploymentOf(defaults);
    expect(dep.spec.replicas).toBe(2);
    const pod = dep.spec.template.spec;
    const c = containerOf(defaults);
    expect(flag(c, "leader-elect")).toBe("--leader-elect");
    expect(flag(c, "leader-election-namespace")).toBe(`--leader-election-namespace=${releaseNs}`);
    expect(flag(c, "namespace")).toBeUndefined();
    // /metrics is HTTPS with TokenReview/SubjectAccessReview unless metrics.secure=false.
    expect(flag(c, "metrics-secure")).toBeUndefined();
    expect(flag(c, "metrics-cert-path")).toBeUndefined();
    expect(flag(c, "shutdown-timeout")).toBe("--shutdown-timeout=30s");
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(30);
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "health" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "health" });
    expect(c.ports.map((p) => [p.name, p.containerPort])).toEqual([
      ["metrics", 8080],
      ["health", 8081],
    ]);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    // Spread over nodes and zones, each constraint selecting this release's pods.
    const labels = dep.spec.template.metadata.labels;
    expect(pod.topologySpreadConstraints?.map((t) => t.topologyKey)).toEqual(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
    for (const t of pod.topologySpreadConstraints ?? []) {
      const sel = (t.labelSelector as { matchLabels: Record<string, string> }).matchLabels;
      for (const [k, v] of Object.entries(sel)) expect(labels[k]).toBe(v);
    }
    // No cloud credentials rendered unless asked for.
    expect(c.env?.some((e) => e.name.startsWith("ALIBABA_CLOUD_"))).toBe(false);
  });

  it("renders every option of the full values file into the manifests", () => {
    expect(new Set(all.map((o) => o.kind))).toEqual(
      new Set([
        "NetworkPolicy",
        "PodDisruptionBudget",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "Service",
        "Deployment",
        "ServiceMonitor",
        "PodMonitor",
        "PrometheusRule",
        "ConfigMap",
        "CustomResourceDefinition",
        "Pod",
      ]),
    );
    const c = containerOf(all);
    expect(c.args).toEqual(
      expect.arrayContaining([
        `--namespace=${watchNs}`,
        "--region=cn-shanghai",
        "--ecs-endpoint=https://ecs.cn-shanghai.aliyuncs.com",
        "--concurrency=8",
        "--ecs-qps=2.5",
        "--ecs-burst=5",
        "--ecs-action-qps=DescribeInstances=20,ModifyInstanceAttribute=5",
        "--resync-period=1h30m",
        "--leader-elect",
        `--leader-election-namespace=${leaseNs}`,
        "--leader-election-id=ecsattrs-leader",
        "--metrics-bind-address=:9090",
        "--metrics-cert-path=/etc/ecs-attributes-controller/metrics-certs",
        "--health-probe-bind-address=:9091",
        "--log-level=debug",
        "--log-format=pretty",
        "--shutdown-timeout=20s",
        "--kube-qps=20.5",
        "--kube-burst=40",
        "--ecs-burst=12",
        "--leader-elect-lease-duration=30s",
        "--leader-elect-renew-deadline=20s",
        "--leader-elect-retry-period=4s",
      ]),
    );
    expect(c.image).toBe("registry.example.com/platform/ecs-attributes-controller@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.valueFrom?.secretKeyRef ?? e.value]));
    expect(env).toMatchObject({
      ALIBABA_CLOUD_ACCESS_KEY_ID: { name: "alibaba-cloud-credentials", key: "id" },
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: { name: "alibaba-cloud-credentials", key: "secret" },
      ALIBABA_CLOUD_SECURITY_TOKEN: { name: "alibaba-cloud-credentials", key: "token" },
      NODE_OPTIONS: "--max-old-space-size=200",
    });
    const sa = findObject(all, "ServiceAccount");
    expect(sa.metadata.name).toBe("ecsattrs-sa");
    expect(sa.metadata.annotations).toEqual({ "pod-identity.alibabacloud.com/role-name": "ecs-attributes-controller" });
    expect(deploymentOf(all).spec.template.spec.terminationGracePeriodSeconds).toBe(50);
    // A single watch namespace: a Role there, no cluster-wide grants.
    const roles = all
      .filter((o) => o.kind === "Role")
      .map((o) => o.metadata.namespace)
      .sort();
    expect(roles).toEqual([leaseNs, watchNs].sort());
    // Cluster-wide, the controller holds only the metrics reviews (TokenReview/SubjectAccessReview are
    // cluster-scoped); the other ClusterRoles are for people and the scraper.
    const cluster = all.filter((o) => o.kind.startsWith("Cluster") && o.kind !== "CustomResourceDefinition");
    expect(cluster.map((o) => `${o.kind} ${o.metadata.name}`).sort()).toEqual([
      "ClusterRole ecsattrs-ctl-edit",
      "ClusterRole ecsattrs-ctl-metrics-auth",
      "ClusterRole ecsattrs-ctl-metrics-reader",
      "ClusterRole ecsattrs-ctl-view",
      "ClusterRoleBinding ecsattrs-ctl-metrics-auth",
      "ClusterRoleBinding ecsattrs-ctl-metrics-reader",
    ]);
    const controllerBinding = findObject(all, "ClusterRoleBinding", "ecsattrs-ctl-metrics-auth") as K8sObject & { subjects: unknown[] };
    expect(controllerBinding.subjects).toEqual([{ kind: "ServiceAccount", name: "ecsattrs-sa", namespace: expect.any(String) }]);
  });

  it("values-all.yaml sets every option that values.yaml defines", async () => {
    const defaultsYaml = parseYaml(await readFile(join(CHART_DIR, "values.yaml"), "utf8")) as Record<string, unknown>;
    const full = parseYaml(await readFile(fixture("values-all.yaml"), "utf8")) as Record<string, unknown>;
    const missing: string[] = [];
    const walk = (d: Record<string, unknown>, f: Record<string, unknown> | undefined, path: string) => {
      for (const [k, v] of Object.entries(d)) {
        const p = path ? `${path}.${k}` : k;
        if (f === undefined || !(k in f)) missing.push(p);
        else if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) {
          walk(v as Record<string, unknown>, f[k] as Record<string, unknown>, p);
        }
      }
    };
    walk(defaultsYaml, full, "");
    expect(missing).toEqual([]);
  });

  it("the default render is accepted by the API server (kubectl apply --dry-run=server)", async () => {
    const r = await kubectl(["apply", "--dry-run=server", "-f", "-"], { input: defaultsText });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/deployment\.apps\/\S+ created \(server dry run\)/);
    expect(r.stdout).toMatch(/clusterrole\.rbac\.authorization\.k8s\.io\/\S+ created \(server dry run\)/);
  });

  it("the render with every option set is accepted by the API server", async () => {
    // The optional ServiceMonitor, PodMonitor and PrometheusRule need prometheus-operator's CRDs; install stand-ins.
    await kubectlOk(["apply", "-f", fixture("servicemonitor-crd.yaml"), "-f", fixture("prometheus-operator-crds.yaml")]);
    for (const name of ["servicemonitors", "podmonitors", "prometheusrules"]) {
      await kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", `crd/${name}.monitoring.coreos.com`]);
    }
    let r = await kubectl(["apply", "--dry-run=server", "-f", "-"], { input: allText });
    // Discovery of a just-established CRD can lag by a moment.
    for (let i = 0; i < 20 && r.code !== 0 && /no matches for kind "(ServiceMonitor|PodMonitor|PrometheusRule)"/.test(r.stderr); i++) {
      await new Promise((res) => setTimeout(res, 500));
      r = await kubectl(["apply", "--dry-run=server", "-f", "-"], { input: allText });
    }
    expect(r.code, r.stderr).toBe(0);
    for (const kind of [
      "networkpolicy",
      "poddisruptionbudget",
      "servicemonitor",
      "podmonitor",
      "prometheusrule",
      "configmap",
      "pod",
      "deployment",
      "role",
      "rolebinding",
      "service",
      "serviceaccount",
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^${kind}(\\.[a-z0-9.]+)?/\\S+ created \\(server dry run\\)$`, "m"));
    }
  });

  it("helm install / uninstall works against the API server and prints the NOTES", async () => {
    const ns = uniqueName("chart-install");
    const release = uniqueName("inst");
    const kc = `--kubeconfig=${inject("kubeconfigPath")}`;
    const bad = await runHelm(["install", release, CHART_DIR, kc, "-n", ns, "--create-namespace", "--set-string", "replicaCount=two"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/at '\/replicaCount': got string, want integer/);
    // crds.enabled=false: the shared control plane's CRD came from crds/ (harness/global-setup.ts),
    // not from a release; upgrade.test.ts covers the chart owning it.
    const inst = await runHelm([
      "install",
      release,
      CHART_DIR,
      kc,
      "-n",
      ns,
      "--create-namespace",
      "--set",
      "credentials.existingSecret=alibaba-cloud-credentials",
      "--set",
      "crds.enabled=false",
    ]);
    expect(inst.code, inst.stderr).toBe(0);
    expect(inst.stdout).toContain("STATUS: deployed");
    expect(inst.stdout).toContain(`kubectl -n ${ns} rollout status deployment/${release}-ecs-attributes-controller`);
    expect(inst.stdout).toContain(`AccessKey pair from Secret ${ns}/alibaba-cloud-credentials`);
    const dep = await kubectlOk(["get", "deployment", `${release}-ecs-attributes-controller`, "-n", ns, "-o", "jsonpath={.spec.replicas}"]);
    expect(dep).toBe("2");
    const un = await runHelm(["uninstall", release, kc, "-n", ns]);
    expect(un.code, un.stderr).toBe(0);
    const gone = await kubectl(["get", "clusterrole", `${release}-ecs-attributes-controller`]);
    expect(gone.code).not.toBe(0);
    // The CRD stays: it was not the release's (with crds.enabled the keep policy does the same).
    expect((await kubectl(["get", "crd", "ecsinstanceattributes.ecs.alicloud.dev"])).code).toBe(0);
  });

  describe("values.schema.json and template checks reject bad values with a clear message", () => {
    const render = (args: string[]) => runHelm(["template", "bad", CHART_DIR, ...args]);

    it('rejects replicaCount: "two"', async () => {
      const r = await render(["--set-string", "replicaCount=two"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("values don't meet the specifications of the schema");
      expect(r.stderr).toMatch(/at '\/replicaCount': got string, want integer/);
    });

    it.each([
      [["--set", "controller.logFormat=xml"], "/controller/logFormat"],
      [["--set", "watchNamespace=Team_A"], "/watchNamespace"],
      [["--set", "controller.resyncPeriod=ten minutes"], "/controller/resyncPeriod"],
      [["--set", "ecs.actionQps.ModifyInstanceAttribute=0"], "/ecs/actionQps/ModifyInstanceAttribute"],
      [["--set", "metrics.port=70000"], "/metrics/port"],
      [["--set", "unknownOption=1"], "unknownOption"],
    ])("rejects %j at %s", async (args, path) => {
      const r = await render(args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(path);
    });

    it("refuses several replicas without leader election", async () => {
      const r = await render(["--set", "leaderElection.enabled=false"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("replicaCount is 2 but leaderElection.enabled is false");
      const single = await render(["--set", "leaderElection.enabled=false", "--set", "replicaCount=1"]);
      expect(single.code, single.stderr).toBe(0);
      expect(single.stdout).not.toContain("--leader-elect");
      expect(single.stdout).not.toContain("coordination.k8s.io");
    });

    it("refuses a grace period that does not exceed the shutdown timeout", async () => {
      const r = await render(["--set", "controller.shutdownTimeoutSeconds=60", "--set", "terminationGracePeriodSeconds=60"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("must be greater than controller.shutdownTimeoutSeconds (60)");
    });
  });

  describe("restricted Pod Security, as enforced by the API server", () => {
    const restrictedNs = uniqueName("chart-restricted");
    beforeAll(async () => {
      await ensureNamespace(restrictedNs, {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
      });
    });

    const podFrom = (objs: K8sObject[], name: string, mutate?: (spec: PodSpec) => void) => {
      const spec = structuredClone(deploymentOf(objs).spec.template.spec);
      mutate?.(spec);
      return JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: restrictedNs }, spec });
    };

    it("admits the controller pod with default values and with every option set", async () => {
      for (const [objs, name] of [
        [defaults, "dflt"],
        [all, "all"],
      ] as const) {
        const r = await kubectl(["apply", "--dry-run=server", "-f", "-"], { input: podFrom(objs, name) });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).not.toContain("violate");
      }
    });

    it("rejects the same pod once a restricted setting is removed (the check is live)", async () => {
      const r = await kubectl(["apply", "--dry-run=server", "-f", "-"], {
        input: podFrom(defaults, "weakened", (spec) => {
          delete spec.containers[0]!.securityContext["capabilities"];
        }),
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('violates PodSecurity "restricted:latest"');
      expect(r.stderr).toContain("capabilities");
    });
  });
});
