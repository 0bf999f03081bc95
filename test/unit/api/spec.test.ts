import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { formatIssues, isPaused, KIND, osSpecProblems, specSchema, validateResource, validateSpec } from "../../../src/api/index.js";
import { INVALID_CASES, manifest, specWith } from "./fixtures.js";

const examplesDir = join(import.meta.dirname, "../../../examples");

function exampleObjects(): { file: string; obj: Record<string, unknown> }[] {
  return readdirSync(examplesDir)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((file) => parseAllDocuments(readFileSync(join(examplesDir, file), "utf8")).map((d) => ({ file, obj: d.toJS() as Record<string, unknown> })));
}

describe("examples", () => {
  it("cover the documented cases (set.yaml: test/unit/sets)", () => {
    const files = readdirSync(examplesDir)
      .filter((f) => f.endsWith(".yaml"))
      .sort();
    expect(files).toEqual(["fleet.yaml", "full.yaml", "minimal.yaml", "observe-only.yaml", "set.yaml"]);
  });

  it("every EcsInstanceAttributes in examples/ passes the zod schema", () => {
    const resources = exampleObjects().filter((o) => o.obj["kind"] === KIND);
    expect(resources.length).toBeGreaterThanOrEqual(7);
    for (const { file, obj } of resources) {
      const r = validateResource(obj);
      expect(r.ok, `${file}: ${r.ok ? "" : r.message}`).toBe(true);
    }
  });

  it("full.yaml sets every spec field", () => {
    const full = exampleObjects().find((o) => o.file === "full.yaml" && o.obj["kind"] === KIND);
    const spec = full?.obj["spec"] as Record<string, unknown>;
    expect(Object.keys(spec).sort()).toEqual(Object.keys(specSchema.shape).sort());
    const secrets = exampleObjects().filter((o) => o.file === "full.yaml" && o.obj["kind"] === "Secret");
    const names = secrets.map((s) => (s.obj["metadata"] as { name: string }).name);
    expect(names).toContain((spec["passwordSecretRef"] as { name: string }).name);
    expect(names).toContain((spec["userData"] as { secretRef: { name: string } }).secretRef.name);
    expect(names).toContain((spec["credentialsSecretRef"] as { name: string }).name);
  });
});

describe("validateSpec", () => {
  it("applies the managementPolicy default", () => {
    const r = validateSpec(specWith({}));
    expect(r).toEqual({ ok: true, value: { instanceId: "i-bp1demo0000000001", regionId: "cn-hangzhou", managementPolicy: "Apply" } });
  });

  it.each(INVALID_CASES)("rejects: $name", ({ spec, field }) => {
    const r = validateSpec(specWith(spec));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain(`${field}`);
      expect(r.message).not.toContain("\n");
    }
  });

  it("never echoes the offending value for string rules", () => {
    const r = validateSpec(specWith({ userData: { inlineBase64: "c2VjcmV0IQ not base64" } }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).not.toContain("c2VjcmV0IQ");
  });

  it("validateResource checks the object shell too", () => {
    expect(validateResource(manifest("x", specWith({}))).ok).toBe(true);
    const r = validateResource({ kind: KIND, metadata: {}, spec: specWith({}) });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^apiVersion: /);
  });
});

describe("formatIssues", () => {
  it("renders path: message pairs on one line", () => {
    const r = specSchema.safeParse(specWith({ hostName: "-a", securityGroupIds: ["sg-a", "x"] }));
    expect(r.success).toBe(false);
    if (!r.success) {
      const line = formatIssues(r.error.issues, "spec");
      expect(line).toContain("spec.hostName: hostName must not start or end with '.' or '-'");
      expect(line).toContain("spec.securityGroupIds[1]: securityGroupIds entries must look like");
      expect(line.split("; ").length).toBe(r.error.issues.length);
    }
  });

  it("truncates to the requested length with an ellipsis", () => {
    const r = specSchema.safeParse(specWith({ hostName: "-a", instanceName: "1", description: "h" }));
    if (r.success) throw new Error("expected failure");
    const full = formatIssues(r.error.issues, "spec");
    const cut = formatIssues(r.error.issues, "spec", 40);
    expect(full.length).toBeGreaterThan(40);
    expect(cut.length).toBe(40);
    expect(cut.endsWith("…")).toBe(true);
    expect(full.startsWith(cut.slice(0, 39))).toBe(true);
  });
});

describe("isPaused and osSpecProblems", () => {
  it('isPaused only for the exact value "true"', () => {
    expect(isPaused({ annotations: { "ecs.alicloud.dev/paused": "true" } })).toBe(true);
    expect(isPaused({ annotations: { "ecs.alicloud.dev/paused": "True" } })).toBe(false);
    expect(isPaused({ annotations: { "ecs.alicloud.dev/paused": "false" } })).toBe(false);
    expect(isPaused({})).toBe(false);
    expect(isPaused(undefined)).toBe(false);
  });

  it("reports Windows-only problems with spec paths", () => {
    const spec = { hostName: "web.internal", privateDnsNameOptions: { hostnameType: "IpBased" as const } };
    expect(osSpecProblems(spec, "linux")).toEqual([]);
    expect(osSpecProblems(spec, "windows")).toEqual([
      "spec.hostName may contain only letters, digits and '-' on Windows (no '.')",
      "spec.privateDnsNameOptions.hostnameType must be Custom on Windows",
    ]);
    expect(osSpecProblems({}, "windows")).toEqual([]);
  });
});
