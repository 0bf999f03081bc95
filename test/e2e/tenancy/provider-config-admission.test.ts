/**
 * The generated EcsProviderConfig CRD on the real API server: the examples apply, bad configs are
 * refused at admission with a message naming the field, printer columns and `kubectl explain` work.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { credentialsSchema } from "../../../src/api/provider-config.js";
import { kubectl } from "../../integration/api/helpers.js";

const examplesDir = join(import.meta.dirname, "../../../examples/provider-configs");
const examples = readdirSync(examplesDir).filter((f) => f.endsWith(".yaml"));
const json = (o: unknown) => JSON.stringify(o);
const suffix = Date.now().toString(36);

function config(name: string, spec: Record<string, unknown>) {
  return { apiVersion: "ecs.alicloud.dev/v1alpha1", kind: "EcsProviderConfig", metadata: { name: `${name}-${suffix}` }, spec };
}

const rrsa = { roleArn: "acs:ram::123456789012:role/a", oidcProviderArn: "acs:ram::123456789012:oidc-provider/b" };
const INVALID: { name: string; spec: Record<string, unknown>; field: string }[] = [
  { name: "no-source", spec: { credentials: {} }, field: "spec.credentials.source" },
  { name: "rrsa-without-block", spec: { credentials: { source: "RRSA" } }, field: "credentials.rrsa is required for source RRSA" },
  { name: "secret-with-rrsa", spec: { credentials: { source: "Secret", secretRef: { namespace: "a", name: "b" }, rrsa } }, field: "credentials.rrsa" },
  { name: "bad-arn", spec: { credentials: { source: "RRSA", rrsa: { ...rrsa, roleArn: "role/a" } } }, field: "spec.credentials.rrsa.roleArn" },
  {
    name: "metadata-not-default",
    spec: { credentials: { source: "Secret", secretRef: { namespace: "a", name: "b" }, allowInstanceMetadata: true } },
    field: "allowInstanceMetadata",
  },
  {
    name: "short-session",
    spec: { credentials: { source: "AssumeRole", assumeRole: { roleArn: rrsa.roleArn, sessionDurationSeconds: 60 } } },
    field: "spec.credentials.assumeRole.sessionDurationSeconds",
  },
  {
    name: "http-endpoint",
    spec: { credentials: { source: "Default" }, endpoint: { regionOverrides: [{ regionId: "cn-hangzhou", endpoint: "http://10.0.0.1:8080" }] } },
    field: "endpoint.regionOverrides must use https://",
  },
  {
    name: "unknown-field",
    spec: { credentials: { source: "Default" }, constraints: { allowedFields: ["rootPassword"] } },
    field: "spec.constraints.allowedFields",
  },
  {
    name: "bad-region",
    spec: { credentials: { source: "Default" }, constraints: { allowedRegions: ["Hangzhou!"] } },
    field: "spec.constraints.allowedRegions",
  },
  {
    name: "bad-operator",
    spec: { credentials: { source: "Default" }, constraints: { namespaceSelector: { matchExpressions: [{ key: "a", operator: "Gt" }] } } },
    field: "operator",
  },
];

describe("EcsProviderConfig CRD on the real API server", () => {
  const created: string[] = [];
  afterAll(async () => {
    for (const n of created) await kubectl(["delete", "ecspc", n, "--ignore-not-found"]);
  });

  it.each(INVALID)("refuses $name, naming $field", async ({ name, spec, field }) => {
    const out = await kubectl(["apply", "--dry-run=server", "-f", "-"], json(config(name, spec)));
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain(field);
  });

  it("accepts an http:// override when allowInsecure is true", async () => {
    const spec = {
      credentials: { source: "Default" },
      endpoint: { allowInsecure: true, regionOverrides: [{ regionId: "cn-hangzhou", endpoint: "http://127.0.0.1:18080" }] },
    };
    const out = await kubectl(["apply", "--dry-run=server", "-f", "-"], json(config("insecure", spec)));
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
  });

  it.each(examples)("examples/provider-configs/%s applies (cluster-scoped, no namespace)", async (file) => {
    const out = await kubectl(["apply", "--dry-run=server", "-f", join(examplesDir, file)]);
    // The control plane is shared: a chart test may already have created `default` (without kubectl's
    // last-applied annotation), which kubectl only warns about. Any other output is a failure.
    const stderr = out.stderr
      .split("\n")
      .filter((l) => l !== "" && !/is missing the kubectl\.kubernetes\.io\/last-applied-configuration annotation/.test(l))
      .join("\n");
    expect(stderr).toBe("");
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("ecsproviderconfig.ecs.alicloud.dev/");
  });

  it("lists with the printer columns under the short name", async () => {
    const name = `cols-${suffix}`;
    const made = await kubectl(["apply", "-f", "-"], json({ ...config("cols", { credentials: { source: "Default" } }), metadata: { name } }));
    expect(made.code).toBe(0);
    created.push(name);
    const out = await kubectl(["get", "ecspc", name]);
    expect(out.stdout.split("\n")[0]?.split(/\s+/).filter(Boolean)).toEqual(["NAME", "SOURCE", "RESOLVED", "ACCOUNT", "READY", "REASON", "AGE"]);
    // The API server applied the schema's defaults.
    const d = await kubectl(["get", "ecspc", name, "-o", "jsonpath={.spec.credentials.allowInstanceMetadata}"]);
    expect(d.stdout).toBe("false");
  });

  it("kubectl explain prints the schema's description", async () => {
    const out = await kubectl(["explain", "ecspc.spec.credentials"]);
    expect(out.code).toBe(0);
    const flat = (s: string) => s.replaceAll(/\s+/g, " ").trim();
    expect(flat(out.stdout)).toContain(flat(credentialsSchema.meta()?.description ?? "?"));
  });
});
