/**
 * Chart options added for platform teams (issue 18): Linux nodeSelector, a PodDisruptionBudget only
 * when it cannot block drains, proxy env, extra volumes, strategy override, image.registry for
 * mirrors, the CRD as a template with a keep policy, and the `helm test` Pod — rendered, linted,
 * checked against the values schema and admitted by the API server's restricted Pod Security.
 * The test Pod cannot run here (no node); the one-node cluster suite can run `helm test`.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CHART_DIR, type K8sObject, ensureNamespace, findObject, kubectl, parseObjects, renderChart, runHelm, uniqueName } from "./support.js";

interface PodSpec {
  nodeSelector?: Record<string, string>;
  volumes: Array<{ name: string }>;
  containers: Array<{
    image: string;
    args: string[];
    env?: Array<{ name: string; value?: string }>;
    volumeMounts: Array<{ name: string; mountPath: string }>;
  }>;
}
const podSpecOf = (objs: K8sObject[]) => (findObject(objs, "Deployment").spec as { template: { spec: PodSpec } }).template.spec;
const render = async (args: string[] = []) => parseObjects(await renderChart("opt", "opt-ns", args));

describe("chart options", () => {
  let defaults: K8sObject[] = [];
  beforeAll(async () => {
    defaults = await render();
  });

  it("schedules on Linux nodes by default", () => {
    expect(podSpecOf(defaults).nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
  });

  it("renders a PodDisruptionBudget only with more than one replica", async () => {
    expect(findObject(defaults, "PodDisruptionBudget").spec).toMatchObject({ minAvailable: 1 });
    const single = await render(["--set", "replicaCount=1"]);
    expect(single.some((o) => o.kind === "PodDisruptionBudget")).toBe(false);
  });

  it("sets proxy variables (both spellings) and Node's switch only when a proxy is given", async () => {
    const env = (objs: K8sObject[]) => Object.fromEntries((podSpecOf(objs).containers[0]!.env ?? []).map((e) => [e.name, e.value]));
    expect(Object.keys(env(defaults)).filter((k) => /proxy/i.test(k))).toEqual([]);
    const proxied = env(await render(["--set", "proxy.httpsProxy=http://proxy:3128", "--set", "proxy.noProxy=.svc\\,10.0.0.0/8"]));
    expect(proxied).toMatchObject({
      HTTPS_PROXY: "http://proxy:3128",
      https_proxy: "http://proxy:3128",
      NO_PROXY: ".svc,10.0.0.0/8",
      no_proxy: ".svc,10.0.0.0/8",
      NODE_USE_ENV_PROXY: "1",
    });
    expect(proxied).not.toHaveProperty("HTTP_PROXY");
  });

  it("sets V8's heap limits from the memory limit, unless turned off or set through extraEnv", async () => {
    const nodeOptions = (objs: K8sObject[]) => (podSpecOf(objs).containers[0]!.env ?? []).filter((e) => e.name === "NODE_OPTIONS").map((e) => e.value);
    // Old space: 60 % of 256Mi, of 1Gi, of 268435456 bytes; 50 % of 512 MB (decimal).
    expect(nodeOptions(defaults)).toEqual(["--max-old-space-size=153 --max-semi-space-size=16"]);
    expect(nodeOptions(await render(["--set", "resources.limits.memory=1Gi"]))).toEqual(["--max-old-space-size=614 --max-semi-space-size=16"]);
    expect(nodeOptions(await render(["--set-string", "resources.limits.memory=268435456"]))).toEqual(["--max-old-space-size=153 --max-semi-space-size=16"]);
    const decimal = await render(["--set", "resources.limits.memory=512M", "--set", "v8.oldSpacePercent=50", "--set", "v8.semiSpaceMiB=0"]);
    expect(nodeOptions(decimal)).toEqual(["--max-old-space-size=244"]);
    expect(nodeOptions(await render(["--set", "v8.oldSpacePercent=0"]))).toEqual(["--max-semi-space-size=16"]);
    expect(nodeOptions(await render(["--set", "v8.oldSpacePercent=0", "--set", "v8.semiSpaceMiB=0"]))).toEqual([]);
    const own = await render(["--set", "extraEnv[0].name=NODE_OPTIONS", "--set", "extraEnv[0].value=--max-old-space-size=100"]);
    expect(nodeOptions(own)).toEqual(["--max-old-space-size=100"]);
    await expect(render(["--set", "resources.limits.memory=lots"])).rejects.toThrow(/v8.oldSpacePercent: cannot read resources.limits.memory "lots"/);
  });

  it("adds extra volumes and mounts next to the /tmp scratch volume", async () => {
    const spec = podSpecOf(
      await render([
        "--set",
        "extraVolumes[0].name=ca",
        "--set",
        "extraVolumes[0].configMap.name=corp-ca",
        "--set",
        "extraVolumeMounts[0].name=ca",
        "--set",
        "extraVolumeMounts[0].mountPath=/etc/ssl/corp",
      ]),
    );
    expect(spec.volumes.map((v) => v.name)).toEqual(["tmp", "ca"]);
    expect(spec.containers[0]!.volumeMounts).toEqual([
      { name: "tmp", mountPath: "/tmp" },
      { name: "ca", mountPath: "/etc/ssl/corp" },
    ]);
  });

  it("overrides the update strategy, keeping surge-first as the default", async () => {
    const strategy = (objs: K8sObject[]) => (findObject(objs, "Deployment").spec as { strategy: unknown }).strategy;
    expect(strategy(defaults)).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(strategy(await render(["--set", "strategy.type=Recreate"]))).toEqual({ type: "Recreate" });
  });

  it("splits image.registry from the repository, for mirrors", async () => {
    expect(podSpecOf(defaults).containers[0]!.image).toBe("ghcr.io/ecs-attributes-controller/ecs-attributes-controller:0.1.0");
    const mirror = await render(["--set", "image.registry=registry.cn-hangzhou.aliyuncs.com"]);
    expect(podSpecOf(mirror).containers[0]!.image).toBe("registry.cn-hangzhou.aliyuncs.com/ecs-attributes-controller/ecs-attributes-controller:0.1.0");
    const whole = await render(["--set", "image.registry=", "--set", "image.repository=example.com/x/ctl", "--set", "image.tag=1.2.3"]);
    expect(podSpecOf(whole).containers[0]!.image).toBe("example.com/x/ctl:1.2.3");
  });

  it("passes the lease timings to the controller", () => {
    const args = podSpecOf(defaults).containers[0]!.args;
    expect(args).toEqual(expect.arrayContaining(["--leader-elect-lease-duration=15s", "--leader-elect-renew-deadline=10s", "--leader-elect-retry-period=2s"]));
  });

  it("renders the CRD as a kept template; crds.enabled=false leaves it out, crds.keep=false drops the policy", async () => {
    const crd = findObject(defaults, "CustomResourceDefinition");
    expect(crd.metadata.name).toBe("ecsinstanceattributes.ecs.alicloud.dev");
    expect(crd.metadata.annotations).toEqual({ "helm.sh/resource-policy": "keep" });
    expect(crd.metadata.labels).toMatchObject({ "app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/part-of": "ecs-attributes-controller" });
    expect((await render(["--set", "crds.enabled=false"])).some((o) => o.kind === "CustomResourceDefinition")).toBe(false);
    expect(findObject(await render(["--set", "crds.keep=false"]), "CustomResourceDefinition").metadata.annotations).toBeUndefined();
  });

  it.each([
    [["--set", "strategy.type=BlueGreen"], "/strategy/type"],
    [["--set", "proxy.httpsProxy=proxy:3128"], "/proxy/httpsProxy"],
    [["--set", "extraVolumeMounts[0].name=x", "--set", "extraVolumeMounts[0].mountPath=relative"], "/extraVolumeMounts/0/mountPath"],
    [["--set", "leaderElection.leaseDuration=fifteen"], "/leaderElection/leaseDuration"],
    [["--set", "crds.keep=maybe"], "/crds/keep"],
    [["--set", "image.registry=https://ghcr.io"], "/image/registry"],
    [["--set", "metrics.prometheusRule.ecsErrorRatio=2"], "/metrics/prometheusRule/ecsErrorRatio"],
  ])("the schema rejects %j at %s", async (args, path) => {
    const r = await runHelm(["template", "bad", CHART_DIR, ...args]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(path);
  });

  describe("helm test", () => {
    const ns = uniqueName("chart-test-hook");
    let pod: K8sObject & { spec: { containers: Array<{ image: string; args: string[] }> } };
    let service: K8sObject & { spec: { selector: Record<string, string>; ports: Array<{ name: string; port: number }> } };

    beforeAll(async () => {
      const objs = parseObjects(await renderChart("hook", ns));
      pod = findObject(objs, "Pod") as typeof pod;
      service = findObject(objs, "Service") as typeof service;
      await ensureNamespace(ns, { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" });
    });

    it("is a test hook that curls /readyz on the Service's health port", () => {
      expect(pod.metadata.annotations?.["helm.sh/hook"]).toBe("test");
      const url = pod.spec.containers[0]!.args.at(-1);
      expect(url).toBe(`http://${service.metadata.name}.${ns}.svc:8081/readyz`);
      expect(service.spec.ports.map((p) => [p.name, p.port])).toEqual([
        ["metrics", 8080],
        ["health", 8081],
      ]);
      expect(pod.spec.containers[0]!.args).toContain("--fail-with-body");
    });

    it("is never an endpoint of the controller's Service", () => {
      const labels = pod.metadata.labels ?? {};
      const selected = Object.entries(service.spec.selector).every(([k, v]) => labels[k] === v);
      expect(selected).toBe(false);
    });

    it("is admitted under the restricted Pod Security Standard", async () => {
      const r = await kubectl(["apply", "--dry-run=server", "-f", "-"], { input: JSON.stringify(pod) });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain("violate");
    });

    it("is skipped by --skip-tests and turned off by tests.enabled=false; it needs the Service", async () => {
      expect(parseObjects(await renderChart("hook", ns, ["--skip-tests"])).some((o) => o.kind === "Pod")).toBe(false);
      expect((await render(["--set", "tests.enabled=false"])).some((o) => o.kind === "Pod")).toBe(false);
      const r = await runHelm(["template", "bad", CHART_DIR, "--set", "metrics.service.enabled=false"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("tests.enabled needs metrics.service.enabled");
    });

    it("passes helm lint --strict with the test hook and every monitoring option on", async () => {
      const r = await runHelm([
        "lint",
        "--strict",
        CHART_DIR,
        "--set",
        "metrics.prometheusRule.enabled=true",
        "--set",
        "metrics.dashboard.enabled=true",
        "--set",
        "metrics.podMonitor.enabled=true",
        "--set",
        "metrics.podMonitor.bearerTokenSecret.name=prometheus-metrics-token",
      ]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    });
  });
});
