/**
 * The Argo CD health check ships in one file (the chart's files/argocd-health.lua): the chart renders
 * it, opt-in, as a ConfigMap under the argocd-cm keys; docs/gitops.md shows the same text; and the
 * command the NOTES print merges it into an argocd-cm on the real API server. What the script
 * answers for real objects is test/integration/controller/gitops-health.test.ts; here, under the
 * same gopher-lua host, the shapes no controller here writes (the fleet kind, other writers).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { run } from "../../../harness/exec.js";
import { gitopsHealthOf } from "../../tools/gitops-health.js";
import { CHART_DIR, ensureNamespace, kubectlOk, parseObjects, renderChart, repoRoot, runHelm, uniqueName } from "./support.js";

const SCRIPT = readFileSync(join(CHART_DIR, "files/argocd-health.lua"), "utf8");
const KEYS = ["EcsInstanceAttributes", "EcsInstanceAttributesSet"].map((k) => `resource.customizations.health.ecs.alicloud.dev_${k}`);

describe("Argo CD health check", () => {
  it("docs/gitops.md shows the chart's script verbatim", () => {
    const doc = readFileSync(join(repoRoot, "docs/gitops.md"), "utf8");
    const block = /<!-- BEGIN argocd-health\.lua[^>]*-->\s*```lua\n([\s\S]*?)```\s*<!-- END argocd-health\.lua -->/.exec(doc);
    expect(block, "the marked lua block in docs/gitops.md").not.toBeNull();
    expect(block![1]).toBe(SCRIPT);
  });

  it("is off by default and, when enabled, renders one ConfigMap holding the script under each kind's argocd-cm key", async () => {
    const off = parseObjects(await renderChart("r", "ctl"));
    expect(off.filter((o) => o.metadata.name.endsWith("-argocd-health"))).toEqual([]);

    const on = parseObjects(await renderChart("r", "ctl", ["--set", "argocd.healthCheck.enabled=true"]));
    const cms = on.filter((o) => o.kind === "ConfigMap" && o.metadata.name === "r-ecs-attributes-controller-argocd-health");
    expect(cms).toHaveLength(1);
    const data = cms[0]!["data"] as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual(KEYS);
    for (const k of KEYS) expect(`${data[k]}\n`).toBe(SCRIPT);
  });

  it("the NOTES' command merges it into argocd-cm, keeping what was there", async () => {
    const ns = uniqueName("argo-snippet");
    const release = uniqueName("gh");
    const argoNs = "argocd";
    await ensureNamespace(ns);
    await ensureNamespace(argoNs);
    const cm = uniqueName("argocd-cm");
    await kubectlOk(["apply", "-n", argoNs, "-f", "-"], {
      input: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: cm }, data: { "timeout.reconciliation": "180s" } }),
    });
    const kc = `--kubeconfig=${inject("kubeconfigPath")}`;
    // crds.enabled=false: the shared control plane's CRD comes from crds/ (harness/global-setup.ts).
    const inst = await runHelm(["install", release, CHART_DIR, kc, "-n", ns, "--set", "argocd.healthCheck.enabled=true", "--set", "crds.enabled=false"]);
    try {
      expect(inst.code, inst.stderr).toBe(0);
      const command = inst.stdout.split("\n").find((l) => l.trim().startsWith("kubectl -n argocd patch configmap argocd-cm"));
      expect(command, inst.stdout).toBeDefined();
      // The printed command, run by a shell with the real kubectl; only the ConfigMap's name differs
      // (a unique one, so parallel runs never share it).
      const kubectlDir = inject("controlPlaneBinDir");
      const r = await run("bash", ["-c", command!.trim().replace("configmap argocd-cm", `configmap ${cm}`)], {
        env: { ...process.env, PATH: `${kubectlDir}:${dirname(process.execPath)}:/usr/bin:/bin`, KUBECONFIG: inject("kubeconfigPath") },
      });
      expect(r.code, r.stderr).toBe(0);
      const merged = JSON.parse(await kubectlOk(["get", "configmap", cm, "-n", argoNs, "-o", "jsonpath={.data}"])) as Record<string, string>;
      expect(merged["timeout.reconciliation"]).toBe("180s");
      for (const k of KEYS) expect(`${merged[k]}\n`).toBe(SCRIPT);
    } finally {
      await runHelm(["uninstall", release, kc, "-n", ns]);
      await kubectlOk(["delete", "configmap", cm, "-n", argoNs, "--ignore-not-found"]);
      await kubectlOk(["delete", "namespace", ns, "--wait=false"]);
    }
  });

  it("answers for any kind with these conditions, and for shapes other writers may leave", async () => {
    const obj = (name: string, kind: string, status?: object, generation = 2) => ({
      apiVersion: "ecs.alicloud.dev/v1alpha1",
      kind,
      metadata: { name, namespace: "ns", generation },
      ...(status ? { status } : {}),
    });
    const c = (type: string, status: string, reason?: string, message?: string) => ({
      type,
      status,
      lastTransitionTime: "2026-12-03T00:00:00Z",
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
    });
    const reports = await gitopsHealthOf([
      obj("set-ready", "EcsInstanceAttributesSet", { observedGeneration: 2, conditions: [c("Ready", "True", "AllReady", "5/5 ready")] }),
      obj("set-rolling", "EcsInstanceAttributesSet", {
        observedGeneration: 2,
        conditions: [c("Ready", "False", "RollingOut", "2/5 updated"), c("Reconciling", "True", "RollingOut", "2/5 updated")],
      }),
      obj("set-stalled", "EcsInstanceAttributesSet", {
        observedGeneration: 2,
        conditions: [c("Ready", "False", "ChildFailed", "web-3: TerminalError"), c("Stalled", "True", "ChildFailed", "web-3: TerminalError")],
      }),
      obj("no-status", "EcsInstanceAttributes"),
      obj("stalled-false", "EcsInstanceAttributes", { observedGeneration: 2, conditions: [c("Stalled", "False", "Fine"), c("Ready", "True", "InSync")] }),
      obj("ready-unknown-bare", "EcsInstanceAttributes", { observedGeneration: 2, conditions: [c("Ready", "Unknown")] }),
      obj("old-generation-stalled", "EcsInstanceAttributes", { observedGeneration: 1, conditions: [c("Stalled", "True", "InvalidSpec", "bad")] }),
    ]);
    const got = Object.fromEntries(reports.map((r) => [r.name, `${r.argocd.status}: ${r.argocd.message}`]));
    for (const r of reports) process.stderr.write(`[argocd-health] ${r.name}: Argo CD ${r.argocd.status} (${r.argocd.message}); kstatus ${r.kstatus.status}\n`);
    expect(got).toEqual({
      "set-ready": "Healthy: AllReady: 5/5 ready",
      "set-rolling": "Progressing: RollingOut: 2/5 updated",
      "set-stalled": "Degraded: ChildFailed: web-3: TerminalError",
      "no-status": "Progressing: Waiting for the controller to report status",
      "stalled-false": "Healthy: InSync",
      "ready-unknown-bare": "Progressing: Ready",
      "old-generation-stalled": "Progressing: Waiting for the controller to observe generation 2",
    });
    // kstatus agrees except before the first status write, where it cannot tell (docs/gitops.md).
    const ks = Object.fromEntries(reports.map((r) => [r.name, r.kstatus.status]));
    expect(ks).toEqual({
      "set-ready": "Current",
      "set-rolling": "InProgress",
      "set-stalled": "Failed",
      "no-status": "Current",
      "stalled-false": "Current",
      "ready-unknown-bare": "InProgress",
      "old-generation-stalled": "InProgress",
    });
  });
});
