/**
 * The Argo CD health check ships in one file (the chart's files/argocd-health.lua): the chart renders
 * it, opt-in, as a ConfigMap under the argocd-cm keys; docs/gitops.md shows the same text; and the
 * command the NOTES print merges it into an argocd-cm on the real API server. What the script
 * answers for real objects is test/integration/controller/gitops-health.test.ts.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { run } from "../../../harness/exec.js";
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
});
