/**
 * The chart's ClusterRoles for people (templates/rbac-users.yaml) and for metrics readers
 * (templates/rbac-metrics.yaml): rendered (labels for aggregation, what each covers), then applied to
 * the real API server and checked with its authorizer — `kubectl auth can-i --as` and real requests
 * impersonating ServiceAccounts bound with RoleBindings. The test control plane runs no
 * kube-controller-manager, so aggregation into view/edit is checked on the node suite
 * (test/e2e/node/helm.test.ts); here the roles are bound directly.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ensureNamespace, findObject, type K8sObject, kubectl, kubectlOk, parseObjects, renderChart, uniqueName } from "./support.js";

type Rule = { apiGroups?: string[]; resources?: string[]; nonResourceURLs?: string[]; verbs: string[] };
const rulesOf = (o: K8sObject): Rule[] => (o as K8sObject & { rules: Rule[] }).rules;
const RESOURCES = ["ecsinstanceattributes.ecs.alicloud.dev", "ecsinstanceattributessets.ecs.alicloud.dev"];

/**
 * "yes" / "no" from a SubjectAccessReview for a ServiceAccount (with its groups, as the API server
 * authenticates it). A review rather than `kubectl auth can-i`: kubectl maps a resource through
 * discovery, and the EcsInstanceAttributesSet and EcsProviderConfig CRDs need not be installed for
 * RBAC to answer.
 */
async function canI(as: string, verb: string, resource: string, ns?: string, sub?: string): Promise<string> {
  const [plural, ...group] = resource.split(".");
  const saNs = as.split(":")[2]!;
  const review = {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user: as,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${saNs}`, "system:authenticated"],
      resourceAttributes: { verb, group: group.join("."), resource: plural, namespace: ns ?? "", subresource: sub ?? "" },
    },
  };
  const allowed = await kubectlOk(["create", "-f", "-", "-o", "jsonpath={.status.allowed}"], { input: JSON.stringify(review) });
  return allowed === "true" ? "yes" : "no";
}

describe("people's ClusterRoles: rendered", () => {
  it("view is aggregated to view; edit only when asked; neither names EcsProviderConfig or writes status", async () => {
    const defaults = parseObjects(await renderChart("eac", "ecs-system"));
    const view = findObject(defaults, "ClusterRole", "eac-ecs-attributes-controller-view");
    const edit = findObject(defaults, "ClusterRole", "eac-ecs-attributes-controller-edit");
    expect(view.metadata.labels?.["rbac.authorization.k8s.io/aggregate-to-view"]).toBe("true");
    expect(edit.metadata.labels?.["rbac.authorization.k8s.io/aggregate-to-edit"]).toBeUndefined();
    for (const role of [view, edit]) {
      const text = JSON.stringify(rulesOf(role));
      expect(text).not.toMatch(/providerconfig/i);
      expect(text).not.toContain("secrets");
      for (const rule of rulesOf(role).filter((r) => r.resources?.some((x) => x.endsWith("/status")))) expect(rule.verbs).toEqual(["get", "list", "watch"]);
    }
    expect(rulesOf(view).flatMap((r) => r.verbs)).toEqual(["get", "list", "watch"]);

    const opted = parseObjects(
      await renderChart("eac", "ecs-system", ["--set", "rbac.userRoles.aggregateToEdit=true", "--set", "rbac.userRoles.aggregateToView=false"]),
    );
    expect(findObject(opted, "ClusterRole", "eac-ecs-attributes-controller-edit").metadata.labels?.["rbac.authorization.k8s.io/aggregate-to-edit"]).toBe(
      "true",
    );
    expect(
      findObject(opted, "ClusterRole", "eac-ecs-attributes-controller-view").metadata.labels?.["rbac.authorization.k8s.io/aggregate-to-view"],
    ).toBeUndefined();

    const none = parseObjects(await renderChart("eac", "ecs-system", ["--set", "rbac.userRoles.create=false"]));
    expect(none.filter((o) => /-(view|edit)$/.test(o.metadata.name))).toEqual([]);
  });

  it("metrics-reader allows GET /metrics only; the controller's review rights follow metrics.secure", async () => {
    const objs = parseObjects(await renderChart("eac", "ecs-system"));
    expect(rulesOf(findObject(objs, "ClusterRole", "eac-ecs-attributes-controller-metrics-reader"))).toEqual([
      { nonResourceURLs: ["/metrics"], verbs: ["get"] },
    ]);
    expect(rulesOf(findObject(objs, "ClusterRole", "eac-ecs-attributes-controller-metrics-auth"))).toEqual([
      { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
      { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
    ]);
    const plain = parseObjects(await renderChart("eac", "ecs-system", ["--set", "metrics.secure=false"]));
    expect(plain.some((o) => o.metadata.name.endsWith("-metrics-auth"))).toBe(false);
    const args = (findObject(plain, "Deployment") as K8sObject & { spec: { template: { spec: { containers: { args: string[] }[] } } } }).spec.template.spec
      .containers[0]!.args;
    expect(args).toContain("--metrics-secure=false");
    const bound = parseObjects(
      await renderChart("eac", "ecs-system", [
        "--set",
        "metrics.reader.subjects[0].kind=ServiceAccount",
        "--set",
        "metrics.reader.subjects[0].name=prometheus",
        "--set",
        "metrics.reader.subjects[0].namespace=monitoring",
      ]),
    );
    expect(findObject(bound, "ClusterRoleBinding", "eac-ecs-attributes-controller-metrics-reader")).toMatchObject({
      roleRef: { kind: "ClusterRole", name: "eac-ecs-attributes-controller-metrics-reader" },
      subjects: [{ kind: "ServiceAccount", name: "prometheus", namespace: "monitoring" }],
    });
  });

  it("refuses a LoadBalancer metrics Service unless allowLoadBalancer is set", async () => {
    const { runHelm, CHART_DIR } = await import("./support.js");
    const refused = await runHelm(["template", "eac", CHART_DIR, "--set", "metrics.service.type=LoadBalancer"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("/metrics/service/allowLoadBalancer");
    const allowed = parseObjects(
      await renderChart("eac", "ecs-system", ["--set", "metrics.service.type=LoadBalancer", "--set", "metrics.service.allowLoadBalancer=true"]),
    );
    expect((findObject(allowed, "Service") as K8sObject & { spec: { type: string } }).spec.type).toBe("LoadBalancer");
  });
});

describe("people's ClusterRoles: the API server's authorizer", () => {
  const ns = uniqueName("urbac");
  const team = uniqueName("urbac-team");
  const other = uniqueName("urbac-other");
  const release = uniqueName("urb");
  const dev = `system:serviceaccount:${team}:dev`;
  const viewer = `system:serviceaccount:${team}:viewer`;
  let fullname = "";

  beforeAll(async () => {
    for (const n of [ns, team, other]) await ensureNamespace(n);
    const text = await renderChart(release, ns);
    await kubectlOk(["apply", "-f", "-"], { input: text });
    fullname = findObject(parseObjects(text), "Deployment").metadata.name;
    for (const sa of ["dev", "viewer"]) await kubectlOk(["create", "serviceaccount", sa, "-n", team]);
    await kubectlOk(["create", "rolebinding", "dev-edit", `--clusterrole=${fullname}-edit`, `--serviceaccount=${team}:dev`, "-n", team]);
    await kubectlOk(["create", "rolebinding", "viewer-view", `--clusterrole=${fullname}-view`, `--serviceaccount=${team}:viewer`, "-n", team]);
  });

  it("edit: create, patch, delete the resources in its namespace; not elsewhere, not status, never EcsProviderConfigs", async () => {
    const answers: Record<string, string> = {};
    for (const resource of RESOURCES) {
      for (const verb of ["create", "patch", "update", "delete", "get", "list", "watch"])
        answers[`${verb} ${resource}`] = await canI(dev, verb, resource, team);
      answers[`create ${resource} elsewhere`] = await canI(dev, "create", resource, other);
      answers[`patch ${resource}/status`] = await canI(dev, "patch", resource, team, "status");
    }
    for (const verb of ["get", "list", "create", "patch", "delete"])
      answers[`${verb} ecsproviderconfigs`] = await canI(dev, verb, "ecsproviderconfigs.ecs.alicloud.dev");
    answers["get secrets"] = await canI(dev, "get", "secrets", team);
    process.stderr.write(`[user-rbac] can-i as ${dev} (bound to ${fullname}-edit in ${team}): ${JSON.stringify(answers)}\n`);
    for (const resource of RESOURCES) {
      for (const verb of ["create", "patch", "update", "delete", "get", "list", "watch"])
        expect(answers[`${verb} ${resource}`], `${verb} ${resource}`).toBe("yes");
      expect(answers[`create ${resource} elsewhere`]).toBe("no");
      expect(answers[`patch ${resource}/status`]).toBe("no");
    }
    for (const verb of ["get", "list", "create", "patch", "delete"]) expect(answers[`${verb} ecsproviderconfigs`], `${verb} ecsproviderconfigs`).toBe("no");
    expect(answers["get secrets"]).toBe("no");
  });

  it("edit: real requests as the ServiceAccount create and patch a resource; its status is refused", async () => {
    const resource = {
      apiVersion: "ecs.alicloud.dev/v1alpha1",
      kind: "EcsInstanceAttributes",
      metadata: { name: "web", namespace: team },
      spec: { instanceId: "i-userrbac0000001", regionId: "cn-hangzhou", instanceName: "aa" },
    };
    await kubectlOk(["create", "-f", "-", `--as=${dev}`], { input: JSON.stringify(resource) });
    await kubectlOk(["patch", "ecsattrs", "web", "-n", team, "--type=merge", "-p", '{"spec":{"instanceName":"bb"}}', `--as=${dev}`]);
    expect(await kubectlOk(["get", "ecsattrs", "web", "-n", team, "-o", "jsonpath={.spec.instanceName}", `--as=${viewer}`])).toBe("bb");
    const status = await kubectl([
      "patch",
      "ecsattrs",
      "web",
      "-n",
      team,
      "--subresource=status",
      "--type=merge",
      "-p",
      '{"status":{"observedGeneration":1}}',
      `--as=${dev}`,
    ]);
    expect(status.code).not.toBe(0);
    expect(status.stderr).toMatch(/forbidden/i);
    const elsewhere = await kubectl(["create", "-f", "-", `--as=${dev}`], {
      input: JSON.stringify({ ...resource, metadata: { name: "web", namespace: other } }),
    });
    expect(elsewhere.stderr).toMatch(/forbidden/i);
  });

  it("view: reads the resources, changes nothing, reads no EcsProviderConfig", async () => {
    for (const resource of RESOURCES) {
      for (const verb of ["get", "list", "watch"]) expect(await canI(viewer, verb, resource, team), `${verb} ${resource}`).toBe("yes");
      for (const verb of ["create", "patch", "delete"]) expect(await canI(viewer, verb, resource, team), `${verb} ${resource}`).toBe("no");
    }
    expect(await canI(viewer, "list", "ecsproviderconfigs.ecs.alicloud.dev")).toBe("no");
    const write = await kubectl(["patch", "ecsattrs", "web", "-n", team, "--type=merge", "-p", '{"spec":{"instanceName":"cc"}}', `--as=${viewer}`]);
    expect(write.stderr).toMatch(/forbidden/i);
  });
});
