/**
 * examples/gitops/: every kustomization renders with the real `kubectl kustomize` (the control
 * plane's kubectl), the production overlay's resources are accepted by the API server against the
 * CRD's schema, and the Argo CD / Flux objects point at paths and resources that exist.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { type ExecResult, run } from "../../../harness/exec.js";
import { ensureNamespace, type K8sObject, kubectl, parseObjects, repoRoot, uniqueName } from "./support.js";

const GITOPS = join(repoRoot, "examples/gitops");

function kustomize(dir: string): Promise<ExecResult> {
  return run(join(inject("controlPlaneBinDir"), "kubectl"), ["kustomize", dir]);
}

async function rendered(dir: string): Promise<{ text: string; objs: K8sObject[] }> {
  const r = await kustomize(join(GITOPS, dir));
  expect(r.code, r.stderr).toBe(0);
  return { text: r.stdout, objs: parseObjects(r.stdout) };
}

type Spec = Record<string, unknown>;
const specOf = (o: K8sObject) => o["spec"] as Spec;

describe("examples/gitops", () => {
  let overlay: { text: string; objs: K8sObject[] };
  let argo: K8sObject[] = [];
  let flux: K8sObject[] = [];

  beforeAll(async () => {
    overlay = await rendered("instances/overlays/production");
    argo = (await rendered("argocd")).objs;
    flux = (await rendered("flux")).objs;
  });

  it("the production overlay applies the base's instances in web-prod with its policy and labels", () => {
    expect(overlay.objs.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      "EcsInstanceAttributes/web-prod/web-1",
      "EcsInstanceAttributes/web-prod/web-2",
    ]);
    for (const o of overlay.objs) {
      expect(specOf(o)).toMatchObject({ managementPolicy: "Apply", securityGroupIds: ["sg-bp1webprod0000001"] });
      expect(o.metadata.labels).toEqual({ "app.kubernetes.io/part-of": "web", environment: "production" });
    }
  });

  it("the base alone only observes", async () => {
    const base = await rendered("instances/base");
    for (const o of base.objs) expect(specOf(o)["managementPolicy"]).toBe("Observe");
  });

  it("the overlay's output is accepted by the API server (CRD schema and CEL rules)", async () => {
    const ns = uniqueName("gitops");
    await ensureNamespace(ns);
    const r = await kubectl(["apply", "--dry-run=server", "-f", "-"], { input: overlay.text.replaceAll("namespace: web-prod", `namespace: ${ns}`) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(2);
    // The check is live: a spec the CRD forbids is refused.
    const bad = await kubectl(["apply", "--dry-run=server", "-f", "-"], {
      input: overlay.text.replaceAll("namespace: web-prod", `namespace: ${ns}`).replace("managementPolicy: Apply", "managementPolicy: Sometimes"),
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("managementPolicy");
  });

  it("the Argo CD Applications install the chart first, then the overlay, from paths that exist", () => {
    expect(argo.map((o) => o.kind)).toEqual(["Application", "Application"]);
    const [controller, instances] = argo as [K8sObject, K8sObject];
    const src = (o: K8sObject) => specOf(o)["source"] as { path: string };
    expect(src(controller).path).toBe("deploy/helm/ecs-attributes-controller");
    expect(src(instances).path).toBe("examples/gitops/instances/overlays/production");
    for (const o of argo) expect(existsSync(join(repoRoot, src(o).path)), src(o).path).toBe(true);
    const wave = (o: K8sObject) => Number(o.metadata.annotations?.["argocd.argoproj.io/sync-wave"]);
    expect(wave(controller)).toBeLessThan(wave(instances));
  });

  it("the Flux Kustomizations wait for the controller, then health-check every overlay resource", () => {
    const byName = new Map(flux.filter((o) => o.kind === "Kustomization").map((o) => [o.metadata.name, specOf(o)]));
    const controller = byName.get("ecs-attributes-controller")!;
    const instances = byName.get("web-prod-instances")!;
    for (const s of [controller, instances]) expect(existsSync(join(repoRoot, String(s["path"])))).toBe(true);
    expect(instances["dependsOn"]).toEqual([{ name: "ecs-attributes-controller" }]);
    // Pruning the controller's Kustomization could delete the CRD and with it every resource.
    expect(controller["prune"]).toBe(false);
    const checks = (instances["healthChecks"] as Array<{ kind: string; name: string; namespace: string }>).map((c) => `${c.kind}/${c.namespace}/${c.name}`);
    expect(checks).toEqual(overlay.objs.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`));
  });
});
