/**
 * The chart's monitoring objects: the PrometheusRule passes `promtool check rules` and the promtool
 * unit tests in fixtures/alerts.test.yaml (synthetic series → which alerts fire, with which labels);
 * the Grafana dashboard ConfigMap carries the sidecar label and the dashboard file; and every metric
 * the rules and the dashboard query is served on the /metrics of a real controller process that has
 * reconciled a resource against the ECS emulator (so a renamed metric breaks this test, not a
 * production dashboard).
 */
import { copyFile, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type EmulatorHandle, startEmulatorInProcess } from "../../../harness/emulator.js";
import { serviceAccountToken } from "../../../harness/metrics.js";
import { runPromtool } from "./promtool.js";
import { exposedNames, metricNames } from "./promql-names.js";
import { CHART_DIR, ensureNamespace, findObject, fixture, type K8sObject, kubectl, kubectlOk, parseObjects, renderChart, uniqueName } from "./support.js";

/** The namespace the promtool fixtures' series carry (the rules are scoped to the release namespace). */
const RULES_NS = "ecs-system";

interface RuleGroup {
  name: string;
  rules: Array<{ alert?: string; expr: string }>;
}
interface Dashboard {
  panels: Array<{ type: string; targets?: Array<{ expr: string }> }>;
  templating: { list: Array<{ query?: { query?: string } | string }> };
}

const rulesOf = (objs: K8sObject[]) => (findObject(objs, "PrometheusRule").spec as { groups: RuleGroup[] }).groups;

function dashboardQueries(d: Dashboard): string[] {
  const panels = d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  // Template variables: label_values(metric, label) reads a metric too.
  const vars = d.templating.list.flatMap((v) => {
    const q = typeof v.query === "string" ? v.query : v.query?.query;
    const m = q ? /label_values\(\s*([^,)]+)/.exec(q) : null;
    return m ? [m[1]!] : [];
  });
  return [...panels, ...vars];
}

describe("PromQL metric-name extraction (the check below relies on it)", () => {
  it("keeps metric names and drops functions, labels, ranges, grouping and keywords", () => {
    expect(
      metricNames('histogram_quantile(0.95, sum by (le, action) (rate(ecs_api_request_duration_seconds_bucket{namespace="$namespace"}[$__rate_interval])))'),
    ).toEqual(["ecs_api_request_duration_seconds_bucket"]);
    expect(metricNames('(max by (namespace) (up{job="x"}) < 1) or absent(leader_election_master_status{name="a"}) and on (pod) (foo == 1) offset 5m')).toEqual([
      "foo",
      "leader_election_master_status",
      "up",
    ]);
    expect(metricNames("sum(rate(a_total[5m])) / sum(rate(b_total[5m])) > 1e3")).toEqual(["a_total", "b_total"]);
  });
});

describe("monitoring: alerts, dashboard, metrics", () => {
  let objs: K8sObject[] = [];
  let groups: RuleGroup[] = [];
  let dashboard: Dashboard;
  let tmp = "";

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "ecs-attrs-rules-"));
    objs = parseObjects(
      await renderChart("ecs-attributes-controller", RULES_NS, [
        "--set",
        "metrics.prometheusRule.enabled=true",
        "--set",
        "metrics.dashboard.enabled=true",
        "--set",
        "metrics.podMonitor.enabled=true",
        "--set",
        "metrics.podMonitor.bearerTokenSecret.name=prometheus-metrics-token",
      ]),
    );
    groups = rulesOf(objs);
    dashboard = JSON.parse(await readFile(join(CHART_DIR, "files/dashboards/ecs-attributes-controller.json"), "utf8")) as Dashboard;
    // promtool reads a plain rules file: the PrometheusRule's spec is exactly that shape.
    await writeFile(join(tmp, "rules.yaml"), stringify({ groups }));
    await copyFile(fixture("alerts.test.yaml"), join(tmp, "alerts.test.yaml"));
  });

  it("renders the alerts the docs list, and none without the opt-in value", async () => {
    expect(groups.flatMap((g) => g.rules.map((r) => r.alert))).toEqual([
      "ECSAttributesResourcesNotReady",
      "ECSAttributesECSErrorRatioHigh",
      "ECSAttributesECSThrottled",
      "ECSAttributesNoLeader",
      "ECSAttributesReconcileErrors",
      "ECSAttributesWorkQueueGrowing",
    ]);
    const plain = parseObjects(await renderChart("plain", RULES_NS));
    expect(plain.some((o) => ["PrometheusRule", "PodMonitor", "ConfigMap"].includes(o.kind))).toBe(false);
  });

  it("promtool check rules accepts the rendered rules", async () => {
    const r = await runPromtool(["check", "rules", "rules.yaml"], tmp);
    process.stderr.write(`[monitoring] promtool check rules:\n${r.stdout}${r.stderr}`);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("SUCCESS: 6 rules found");
  });

  it("promtool test rules: every alert fires on its synthetic series and stays quiet on the healthy ones", async () => {
    const r = await runPromtool(["test", "rules", "alerts.test.yaml"], tmp);
    process.stderr.write(`[monitoring] promtool test rules:\n${r.stdout}${r.stderr}`);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("SUCCESS");
  });

  it("the unit tests cover every alert the chart renders", async () => {
    const tests = await readFile(fixture("alerts.test.yaml"), "utf8");
    for (const g of groups) for (const rule of g.rules) expect(tests).toContain(`alertname: ${rule.alert}`);
  });

  it("the dashboard ConfigMap carries the Grafana sidecar label and the dashboard file", async () => {
    const cm = findObject(objs, "ConfigMap") as K8sObject & { data: Record<string, string> };
    expect(cm.metadata.labels?.["grafana_dashboard"]).toBe("1");
    const file = await readFile(join(CHART_DIR, "files/dashboards/ecs-attributes-controller.json"), "utf8");
    expect(JSON.parse(cm.data["ecs-attributes-controller.json"]!)).toEqual(JSON.parse(file));
    const custom = parseObjects(
      await renderChart("d", RULES_NS, [
        "--set",
        "metrics.dashboard.enabled=true",
        "--set",
        "metrics.dashboard.sidecarLabel=grafana_dash",
        "--set",
        "metrics.dashboard.namespace=monitoring",
        "--set",
        "metrics.dashboard.folder=Platform",
      ]),
    );
    const cm2 = findObject(custom, "ConfigMap");
    expect(cm2.metadata).toMatchObject({ namespace: "monitoring", labels: { grafana_dash: "1" }, annotations: { grafana_folder: "Platform" } });
  });

  it("the PodMonitor scrapes the pods' metrics port, selecting only this release", () => {
    const pm = findObject(objs, "PodMonitor") as K8sObject & {
      spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: Array<{ port: string; path: string }> };
    };
    expect(pm.spec.podMetricsEndpoints).toEqual([
      expect.objectContaining({
        port: "metrics",
        path: "/metrics",
        interval: "30s",
        // Secure by default: HTTPS with a token the metrics-reader ClusterRole allows.
        scheme: "https",
        authorization: { type: "Bearer", credentials: { name: "prometheus-metrics-token", key: "token" } },
        tlsConfig: { insecureSkipVerify: true },
      }),
    ]);
    expect(pm.spec.selector.matchLabels).toEqual({
      "app.kubernetes.io/name": "ecs-attributes-controller",
      "app.kubernetes.io/instance": "ecs-attributes-controller",
    });
  });

  describe("every metric the rules and the dashboard query is one a live controller exposes", () => {
    const ns = uniqueName("mon-live");
    let emu: EmulatorHandle | undefined;
    let ctl: RunningController | undefined;
    let token = "";

    beforeAll(async () => {
      await ensureNamespace(ns);
      // Scraped as Prometheus is by the chart's ServiceMonitor: HTTPS with a ServiceAccount token
      // bound to the chart's metrics-reader ClusterRole.
      const reader = findObject(objs, "ClusterRole", "ecs-attributes-controller-metrics-reader");
      await kubectlOk(["apply", "-f", "-"], { input: JSON.stringify({ ...reader, metadata: { name: `${ns}-metrics-reader` } }) });
      await kubectlOk(["create", "serviceaccount", "prometheus", "-n", ns]);
      await kubectlOk(["create", "clusterrolebinding", `${ns}-metrics-reader`, `--clusterrole=${ns}-metrics-reader`, `--serviceaccount=${ns}:prometheus`]);
      token = await serviceAccountToken((args) => kubectl(args), ns, "prometheus");
      emu = await startEmulatorInProcess({ seed: { instances: [{ instanceId: "i-monitoring0001", regionId: "cn-hangzhou", status: "Running" }] } });
      // --leader-elect so leader_election_master_status has a series, as in the chart's default install.
      ctl = await startController({
        kubeconfig: inject("kubeconfigPath"),
        ecsEndpoint: emu.url,
        namespace: ns,
        args: ["--leader-elect=true", `--leader-election-namespace=${ns}`, "--leader-election-id=mon-live"],
        secureMetrics: true,
      });
      await ctl.waitForLog(/workers running/, 120_000);
      const resource = {
        apiVersion: "ecs.alicloud.dev/v1alpha1",
        kind: "EcsInstanceAttributes",
        metadata: { name: "web", namespace: ns },
        spec: { instanceId: "i-monitoring0001", regionId: "cn-hangzhou", instanceName: "monitored" },
      };
      await kubectlOk(["apply", "-f", "-"], { input: JSON.stringify(resource) });
      // Converged: ECS was called (ecs_api_* series exist) and the status is written.
      await kubectlOk(["wait", "-n", ns, "--for=condition=Ready", "--timeout=120s", "ecsinstanceattributes/web"]);
    });

    afterAll(async () => {
      await ctl?.stop();
      await emu?.stop();
      await kubectl(["delete", "namespace", ns, "--wait=false"]);
      await kubectl(["delete", "clusterrolebinding", `${ns}-metrics-reader`]);
      await kubectl(["delete", "clusterrole", `${ns}-metrics-reader`]);
    });

    it("compares the parsed queries with the live /metrics", async () => {
      expect(ctl!.metricsUrl).toMatch(/^https:/);
      const res = await ctl!.scrapeMetrics({ token });
      expect(res.status).toBe(200);
      const exposition = res.body;
      const exposed = exposedNames(exposition);
      // The domain gauge counts the converged resource.
      expect(exposition).toMatch(/^ecs_attributes_resources\{ready="True",synced="True",reason="InSync"\} 1$/m);

      const queried = new Map<string, string[]>();
      const add = (source: string, expr: string) => {
        for (const name of metricNames(expr)) queried.set(name, [...(queried.get(name) ?? []), source]);
      };
      for (const g of groups) for (const r of g.rules) add(`alert ${r.alert}`, r.expr);
      for (const q of dashboardQueries(dashboard)) add("dashboard", q);

      const missing = [...queried.keys()].filter((n) => !exposed.has(n));
      process.stderr.write(
        `[monitoring] metrics queried by rules + dashboard: ${queried.size}; exposed by the controller: ${exposed.size}; missing: ${JSON.stringify(missing)}\n`,
      );
      expect(queried.size).toBeGreaterThan(15);
      expect(missing.map((n) => `${n} (${queried.get(n)!.join(", ")})`)).toEqual([]);
    });
  });
});
