/**
 * Least-privilege RBAC, checked by the real API server's authorizer: the chart's objects are
 * applied, then `kubectl auth can-i --as=system:serviceaccount:<ns>:<sa>` asks what the
 * controller's identity may do — everything it needs, and nothing else.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ensureNamespace, findObject, kubectl, kubectlOk, parseObjects, renderChart, uniqueName } from "./support.js";

/** Installs the chart's objects for real (rendered with helm template); returns the SA's username. */
async function install(release: string, ns: string, args: string[] = []): Promise<string> {
  const text = await renderChart(release, ns, args);
  await kubectlOk(["apply", "-f", "-"], { input: text });
  const sa = findObject(parseObjects(text), "ServiceAccount");
  return `system:serviceaccount:${ns}:${sa.metadata.name}`;
}

/** "yes" / "no" from the API server's SubjectAccessReview for `as`. */
async function canI(as: string, verb: string, resource: string, where: { ns?: string; all?: boolean; sub?: string } = {}): Promise<string> {
  const args = ["auth", "can-i", verb, resource, `--as=${as}`];
  if (where.sub) args.push(`--subresource=${where.sub}`);
  if (where.all) args.push("--all-namespaces");
  else if (where.ns) args.push(`--namespace=${where.ns}`);
  const r = await kubectl(args);
  const answer = r.stdout.trim();
  if (answer !== "yes" && answer !== "no") throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
  return answer;
}

/**
 * Resource rules (resource → sorted verbs; "resource [names]" for a rule limited by resourceNames)
 * the identity holds in ns, from `kubectl auth can-i --list`.
 */
async function listRules(as: string, ns: string): Promise<Record<string, string>> {
  const out = await kubectlOk(["auth", "can-i", "--list", `--as=${as}`, `--namespace=${ns}`, "--no-headers"]);
  const rules: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const [resource, nonResource, names, verbs] = line.trim().split(/\s{2,}/);
    if (!resource || !verbs || nonResource !== "[]") continue;
    rules[names && names !== "[]" ? `${resource} ${names}` : resource] = verbs
      .replace(/^\[|\]$/g, "")
      .split(" ")
      .sort()
      .join(" ");
  }
  return rules;
}

/**
 * The rules `as` holds in ns beyond those of a ServiceAccount with no bindings at all (the
 * baseline every authenticated ServiceAccount gets: self-reviews, discovery, trust bundles).
 */
async function grantedRules(as: string, ns: string): Promise<Record<string, string>> {
  const baseline = await listRules(`system:serviceaccount:${ns}:${uniqueName("nobody")}`, ns);
  expect(Object.keys(baseline).length, "baseline identity should hold the default self-review rules").toBeGreaterThan(0);
  const rules = await listRules(as, ns);
  for (const [resource, verbs] of Object.entries(baseline)) if (rules[resource] === verbs) delete rules[resource];
  return rules;
}

const ECSATTRS = "ecsinstanceattributes.ecs.alicloud.dev";
/** The chart's Lease (leaderElection.id); get/update are limited to it by resourceNames. */
const LEASE = "leases.coordination.k8s.io/ecs-attributes-controller";

describe("RBAC: cluster-wide install (default values)", () => {
  const ns = uniqueName("rbac-cluster");
  const other = uniqueName("rbac-other");
  let sa = "";

  beforeAll(async () => {
    await ensureNamespace(ns);
    await ensureNamespace(other);
    sa = await install(uniqueName("rbacc"), ns);
  });

  it("grants what the controller needs, in every namespace", async () => {
    for (const verb of ["get", "list", "watch"]) {
      expect(await canI(sa, verb, ECSATTRS, { all: true }), `${verb} ecsattrs`).toBe("yes");
      expect(await canI(sa, verb, "secrets", { ns: other }), `${verb} secrets`).toBe("yes");
      expect(await canI(sa, verb, "configmaps", { all: true }), `${verb} configmaps`).toBe("yes");
    }
    for (const verb of ["get", "patch", "update"]) {
      expect(await canI(sa, verb, ECSATTRS, { ns: other, sub: "status" }), `${verb} ecsattrs/status`).toBe("yes");
    }
    for (const verb of ["create", "patch"]) {
      expect(await canI(sa, verb, "events", { ns: other }), `${verb} core events`).toBe("yes");
      expect(await canI(sa, verb, "events.events.k8s.io", { ns: other }), `${verb} events.k8s.io events`).toBe("yes");
    }
    for (const verb of ["get", "update"]) expect(await canI(sa, verb, LEASE, { ns }), `${verb} its Lease`).toBe("yes");
    expect(await canI(sa, "create", "leases.coordination.k8s.io", { ns }), "create leases").toBe("yes");
    // /metrics callers are reviewed with the API server.
    expect(await canI(sa, "create", "tokenreviews.authentication.k8s.io")).toBe("yes");
    expect(await canI(sa, "create", "subjectaccessreviews.authorization.k8s.io")).toBe("yes");
  });

  it("denies everything else: pods, deployments, writes to specs and Secrets, Leases elsewhere", async () => {
    const denied: [string, string, { ns?: string; all?: boolean; sub?: string }][] = [
      ["list", "pods", { ns }],
      ["get", "pods", { all: true }],
      ["update", "deployments.apps", { ns }],
      ["create", "deployments.apps", { ns: other }],
      ["update", ECSATTRS, { ns: other }],
      ["patch", ECSATTRS, { ns: other }],
      ["create", ECSATTRS, { ns: other }],
      ["delete", ECSATTRS, { ns: other }],
      ["create", "secrets", { ns: other }],
      ["update", "secrets", { ns: other }],
      ["delete", "configmaps", { ns: other }],
      ["delete", "events", { ns: other }],
      ["list", "leases.coordination.k8s.io", { ns }],
      ["delete", "leases.coordination.k8s.io", { ns }],
      ["get", "leases.coordination.k8s.io/kube-scheduler", { ns }],
      ["update", "leases.coordination.k8s.io/another-operator", { ns }],
      ["get", "leases.coordination.k8s.io", { ns }],
      ["create", "leases.coordination.k8s.io", { ns: other }],
      ["update", LEASE, { ns: other }],
      ["get", "/metrics", {}],
      ["list", "nodes", {}],
      ["create", "namespaces", {}],
      ["update", "customresourcedefinitions.apiextensions.k8s.io", {}],
      ["create", "serviceaccounts", { ns, sub: "token" }],
      ["bind", "clusterroles.rbac.authorization.k8s.io", {}],
      ["impersonate", "users", {}],
    ];
    const allowed: string[] = [];
    for (const [verb, resource, where] of denied) {
      if ((await canI(sa, verb, resource, where)) !== "no") allowed.push(`${verb} ${resource}${where.sub ? `/${where.sub}` : ""}`);
    }
    expect(allowed).toEqual([]);
  });

  it("holds exactly the chart's rules and nothing more", async () => {
    expect(await grantedRules(sa, ns)).toEqual({
      [ECSATTRS]: "get list watch",
      [`${ECSATTRS}/status`]: "get patch update",
      secrets: "get list watch",
      configmaps: "get list watch",
      events: "create patch",
      "events.events.k8s.io": "create patch",
      "leases.coordination.k8s.io": "create",
      "leases.coordination.k8s.io [ecs-attributes-controller]": "get update",
      "tokenreviews.authentication.k8s.io": "create",
      "subjectaccessreviews.authorization.k8s.io": "create",
    });
    // In another namespace: the same, minus the Lease.
    const elsewhere = await grantedRules(sa, other);
    expect(elsewhere["leases.coordination.k8s.io"]).toBeUndefined();
    expect(elsewhere["leases.coordination.k8s.io [ecs-attributes-controller]"]).toBeUndefined();
    expect(elsewhere[ECSATTRS]).toBe("get list watch");
  });
});

describe("RBAC: single watch namespace", () => {
  const ns = uniqueName("rbac-ctl");
  const watched = uniqueName("rbac-watched");
  const other = uniqueName("rbac-unwatched");
  let sa = "";

  beforeAll(async () => {
    for (const n of [ns, watched, other]) await ensureNamespace(n);
    sa = await install(uniqueName("rbacn"), ns, ["--set", `watchNamespace=${watched}`]);
  });

  it("grants resources, Secrets and ConfigMaps in the watched namespace only", async () => {
    expect(await canI(sa, "list", ECSATTRS, { ns: watched })).toBe("yes");
    expect(await canI(sa, "watch", "secrets", { ns: watched })).toBe("yes");
    expect(await canI(sa, "get", "configmaps", { ns: watched })).toBe("yes");
    expect(await canI(sa, "patch", ECSATTRS, { ns: watched, sub: "status" })).toBe("yes");
    expect(await canI(sa, "create", "events", { ns: watched })).toBe("yes");
    expect(await canI(sa, "update", LEASE, { ns })).toBe("yes");

    expect(await canI(sa, "list", ECSATTRS, { all: true })).toBe("no");
    expect(await canI(sa, "list", ECSATTRS, { ns: other })).toBe("no");
    expect(await canI(sa, "get", "secrets", { ns: other })).toBe("no");
    expect(await canI(sa, "get", "secrets", { ns })).toBe("no");
    expect(await canI(sa, "list", "configmaps", { all: true })).toBe("no");
    expect(await canI(sa, "create", "events", { ns: other })).toBe("no");
    expect(await canI(sa, "list", "pods", { ns: watched })).toBe("no");
    expect(await canI(sa, "update", "deployments.apps", { ns: watched })).toBe("no");
  });
});
