/**
 * `helm upgrade` across a CRD change, against a real API server. Chart 0.1.0 shipped the CRD in
 * crds/, which Helm installs once and never upgrades; from 0.2.0 the CRD is a template with
 * helm.sh/resource-policy: keep (templates/crds.yaml). The path docs/upgrades.md documents:
 *
 *   0.1.0 installed, a resource exists → upgrade refused until the CRD is adopted (label +
 *   annotations) → `--reuse-values` fails on the new values, `--reset-then-reuse-values` works →
 *   a later chart whose CRD gained a field: the API server serves and stores the field →
 *   `helm uninstall` keeps the CRD and the resources → installing again adopts the kept CRD.
 *
 * The previous chart is its packaged release (PREVIOUS_CHART below), the new one is this tree's
 * chart, and "a changed CRD" is this tree's chart with one optional field and printer column added.
 * Own control plane: the shared one has the CRD from crds/ that every other test file relies on.
 */
import { cp as copyDir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { type ControlPlane, startControlPlane } from "../../../harness/controlplane.js";
import { CHART_DIR, runHelm, uniqueName } from "./support.js";

/**
 * The last chart release with the CRD in crds/ (chart version 0.1.0), as `helm package` made it from
 * commit 1012393 — a packaged release, as users install it; a shallow clone has no such history.
 */
const PREVIOUS_CHART = { version: "0.1.0", package: join(import.meta.dirname, "fixtures/ecs-attributes-controller-0.1.0.tgz") };
const CHART_PATH = "deploy/helm/ecs-attributes-controller";
const CRD_NAME = "ecsinstanceattributes.ecs.alicloud.dev";
const CRD_FILE = "files/crds/ecs.alicloud.dev_ecsinstanceattributes.yaml";

type Obj = Record<string, unknown>;

/** This tree's chart with an extra optional spec field and printer column in the CRD, as version 0.3.0. */
async function chartWithChangedCrd(dest: string): Promise<string> {
  await copyDir(CHART_DIR, dest, { recursive: true });
  const file = join(dest, CRD_FILE);
  const crd = parseYaml(await readFile(file, "utf8")) as { spec: { versions: Array<{ schema: { openAPIV3Schema: Obj }; additionalPrinterColumns?: Obj[] }> } };
  const version = crd.spec.versions[0]!;
  const spec = (version.schema.openAPIV3Schema["properties"] as Obj)["spec"] as { properties: Obj };
  spec.properties["upgradeProbe"] = { type: "string", maxLength: 63, description: "Test-only field added by upgrade.test.ts." };
  version.additionalPrinterColumns = [...(version.additionalPrinterColumns ?? []), { name: "PROBE", type: "string", jsonPath: ".spec.upgradeProbe" }];
  await writeFile(file, stringify(crd));
  const chartYaml = join(dest, "Chart.yaml");
  await writeFile(chartYaml, (await readFile(chartYaml, "utf8")).replace(/^version: .*$/m, "version: 0.3.0"));
  return dest;
}

describe("helm upgrade from the previous chart across a CRD change", () => {
  const ns = uniqueName("upgrade");
  const release = "ecsattrs";
  let cp: ControlPlane | undefined;
  let tmp = "";
  let previous = "";
  let changed = "";
  const kc = () => `--kubeconfig=${cp!.kubeconfigPath}`;
  const kubectl = async (args: string[], input?: string) => {
    const r = await cp!.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const crd = async () =>
    JSON.parse(await kubectl(["get", "crd", CRD_NAME, "-o", "json"])) as {
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: { spec: { properties: Obj } } } } }> };
    };
  const resource = (name: string, extra: Obj = {}) =>
    JSON.stringify({
      apiVersion: "ecs.alicloud.dev/v1alpha1",
      kind: "EcsInstanceAttributes",
      metadata: { name, namespace: ns },
      spec: { instanceId: `i-${name}0000000001`, regionId: "cn-hangzhou", ...extra },
    });
  const helm = (args: string[]) => runHelm([...args, kc(), "-n", ns]);

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "ecs-attrs-upgrade-"));
    previous = PREVIOUS_CHART.package;
    changed = await chartWithChangedCrd(join(tmp, "changed"));
    cp = await startControlPlane({});
  });

  afterAll(async () => {
    await cp?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("walks 0.1.0 → this chart → a changed CRD → uninstall → reinstall without losing a resource", async () => {
    // 0.1.0: the CRD comes from crds/, unmanaged by the release.
    expect((await runHelm(["show", "chart", previous])).stdout).toContain(`version: ${PREVIOUS_CHART.version}`);
    const inst = await helm(["install", release, previous, "--create-namespace", "--set", "replicaCount=1"]);
    expect(inst.code, inst.stderr).toBe(0);
    expect((await crd()).metadata.annotations?.["meta.helm.sh/release-name"]).toBeUndefined();
    await kubectl(["apply", "-f", "-"], resource("survivor"));

    // Helm refuses to take over an object another tool created, until it is adopted.
    const refused = await helm(["upgrade", release, CHART_DIR, "--reset-then-reuse-values"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("invalid ownership metadata");
    expect(refused.stderr).toContain(CRD_NAME);

    // The documented one-time step (docs/upgrades.md).
    await kubectl(["label", "crd", CRD_NAME, "app.kubernetes.io/managed-by=Helm", "--overwrite"]);
    await kubectl(["annotate", "crd", CRD_NAME, `meta.helm.sh/release-name=${release}`, `meta.helm.sh/release-namespace=${ns}`, "--overwrite"]);

    // --reuse-values keeps 0.1.0's values, which lack every key this chart added: rendering fails.
    const reuse = await helm(["upgrade", release, CHART_DIR, "--reuse-values"]);
    process.stderr.write(`[upgrade] --reuse-values: exit ${reuse.code}: ${reuse.stderr.trim().split("\n").slice(-1)[0]}\n`);
    expect(reuse.code).not.toBe(0);

    const up = await helm(["upgrade", release, CHART_DIR, "--reset-then-reuse-values"]);
    expect(up.code, up.stderr).toBe(0);
    let live = await crd();
    expect(live.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("Helm");
    expect(live.metadata.annotations?.["helm.sh/resource-policy"]).toBe("keep");
    expect(live.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties).not.toHaveProperty("upgradeProbe");

    // A later chart whose CRD gained a field: `helm upgrade` alone brings it to the API server.
    const up2 = await helm(["upgrade", release, changed, "--reset-then-reuse-values"]);
    expect(up2.code, up2.stderr).toBe(0);
    live = await crd();
    expect(live.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties).toHaveProperty("upgradeProbe");
    await kubectl(["apply", "-f", "-"], resource("probe", { upgradeProbe: "after-upgrade" }));
    // Stored, not pruned: the served schema has the field.
    expect(await kubectl(["get", "ecsattrs", "probe", "-n", ns, "-o", "jsonpath={.spec.upgradeProbe}"])).toBe("after-upgrade");
    const table = await kubectl(["get", "ecsattrs", "probe", "-n", ns]);
    expect(table).toMatch(/PROBE/);
    process.stderr.write(`[upgrade] 0.1.0 -> ${CHART_PATH} -> changed CRD: upgraded; kubectl get ecsattrs:\n${table}`);

    // Uninstall keeps the CRD (resource-policy keep) and therefore every resource.
    const un = await helm(["uninstall", release]);
    expect(un.code, un.stderr).toBe(0);
    expect(await kubectl(["get", "ecsattrs", "-n", ns, "-o", "name"])).toMatch(/survivor[\s\S]*probe|probe[\s\S]*survivor/);

    // Installing again under the same release adopts the kept CRD.
    const again = await helm(["install", release, changed, "--set", "replicaCount=1"]);
    expect(again.code, again.stderr).toBe(0);
    expect(await kubectl(["get", "ecsattrs", "survivor", "-n", ns, "-o", "name"])).toContain("survivor");
  });
});
