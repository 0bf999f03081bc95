/**
 * deploy/manifests/install.yaml and the chart's CRD are generated (npm run gen:manifests): these
 * fail when either is stale, and check the rendered file is accepted by the real API server.
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { CHART_CRD, CRD_SOURCE, INSTALL_YAML, RELEASE_NAMESPACE, renderInstallYaml } from "../../../scripts/render-manifests.js";
import { ensureNamespace, findObject, kubectl, parseObjects } from "./support.js";

describe("generated manifests", () => {
  it("the chart's files/crds/ holds a byte-identical copy of crds/", async () => {
    const [source, copy] = await Promise.all([readFile(CRD_SOURCE, "utf8"), readFile(CHART_CRD, "utf8")]);
    expect(copy.length).toBeGreaterThan(0);
    expect(copy === source, "deploy/helm/ecs-attributes-controller/files/crds/ differs from crds/: run npm run gen:manifests").toBe(true);
  });

  it("deploy/manifests/install.yaml is up to date with the chart (run npm run gen:manifests)", async () => {
    const committed = await readFile(INSTALL_YAML, "utf8");
    const fresh = await renderInstallYaml();
    expect(committed === fresh, "deploy/manifests/install.yaml is stale: run npm run gen:manifests").toBe(true);
  });

  it("install.yaml carries the Namespace, the CRD from crds/ and the controller with default values", async () => {
    const objs = parseObjects(await readFile(INSTALL_YAML, "utf8"));
    expect(objs[0]?.kind).toBe("Namespace");
    expect(objs[0]?.metadata.name).toBe(RELEASE_NAMESPACE);
    // The CRD from crds/, with the chart's labels and the keep policy added (templates/crds.yaml).
    const crd = findObject(objs, "CustomResourceDefinition");
    const source = parseYaml(await readFile(CRD_SOURCE, "utf8")) as typeof crd;
    expect(crd.spec).toEqual(source.spec);
    expect(crd.metadata.name).toBe(source.metadata.name);
    expect(crd.metadata.labels).toMatchObject(source.metadata.labels ?? {});
    expect(crd.metadata.annotations).toEqual({ "helm.sh/resource-policy": "keep" });
    expect(objs.some((o) => o.metadata.annotations?.["helm.sh/hook"])).toBe(false);
    for (const o of objs.filter((x) => !["Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "EcsProviderConfig"].includes(x.kind))) {
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(RELEASE_NAMESPACE);
    }
    expect((findObject(objs, "Deployment").spec as { replicas: number }).replicas).toBe(2);
  });

  it("install.yaml is accepted by the API server (kubectl apply --dry-run=server)", async () => {
    // Namespaced objects can only be dry-run into a namespace that exists.
    await ensureNamespace(RELEASE_NAMESPACE, { "pod-security.kubernetes.io/enforce": "restricted" });
    const r = await kubectl(["apply", "--dry-run=server", "-f", INSTALL_YAML]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^deployment\.apps\/ecs-attributes-controller (created|configured|unchanged) \(server dry run\)$/m);
    expect(r.stdout).toMatch(/^customresourcedefinition\.apiextensions\.k8s\.io\/ecsinstanceattributes\.ecs\.alicloud\.dev \S+ \(server dry run\)$/m);
    expect(r.stderr).not.toMatch(/violate/i);
  });
});
