import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { assertRe2Compatible, buildCrd, renderCrdYaml, toStructural, zodToOpenApi } from "../../../src/api/index.js";
import { CRD_PATH, checkCrdFiles, writeCrdFiles } from "../../../scripts/gen-crd.js";

type Node = Record<string, unknown>;

function openApi(): Node {
  const crd = buildCrd() as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } };
  const v = crd.spec.versions[0];
  if (!v) throw new Error("no version");
  return v.schema.openAPIV3Schema;
}

/** Visits every schema node with its path. */
function walk(node: Node, path: string, visit: (n: Node, p: string) => void): void {
  visit(node, path);
  const props = node["properties"] as Record<string, Node> | undefined;
  for (const [k, v] of Object.entries(props ?? {})) walk(v, `${path}.${k}`, visit);
  if (node["items"]) walk(node["items"] as Node, `${path}[]`, visit);
}

describe("committed CRD", () => {
  it("crds/ecs.alicloud.dev_ecsinstanceattributes.yaml is up to date (run npm run gen:crd)", async () => {
    expect(await readFile(CRD_PATH, "utf8")).toBe(renderCrdYaml());
  });

  const tmp = mkdtemp(join(tmpdir(), "gen-crd-"));
  afterAll(async () => rm(await tmp, { recursive: true, force: true }));

  it("gen-crd writes extra targets and --check detects stale or missing ones", async () => {
    const dir = await tmp;
    const extra = join(dir, "chart", "crds", "crd.yaml");
    expect(await checkCrdFiles([extra])).toEqual([extra]);
    await writeCrdFiles([extra]);
    expect(await readFile(extra, "utf8")).toBe(renderCrdYaml());
    expect(await checkCrdFiles([extra])).toEqual([]);
    await writeFile(extra, `${renderCrdYaml()}# edited\n`);
    expect(await checkCrdFiles([extra])).toEqual([extra]);
  });

  it("parses back to the built object", () => {
    expect(parse(renderCrdYaml())).toEqual(buildCrd());
  });
});

describe("CRD shape", () => {
  const crd = buildCrd() as Node & { spec: Node & { names: Node; versions: Node[] } };

  it("names, scope and status subresource follow the API contract", () => {
    expect((crd["metadata"] as Node)["name"]).toBe("ecsinstanceattributes.ecs.alicloud.dev");
    expect(crd.spec["group"]).toBe("ecs.alicloud.dev");
    expect(crd.spec["scope"]).toBe("Namespaced");
    expect(crd.spec.names).toMatchObject({ kind: "EcsInstanceAttributes", plural: "ecsinstanceattributes", shortNames: ["ecsattrs", "eia"] });
    const v = crd.spec.versions[0] as Node;
    expect(v["name"]).toBe("v1alpha1");
    expect(v["subresources"]).toEqual({ status: {} });
    const cols = v["additionalPrinterColumns"] as { name: string }[];
    expect(cols.map((c) => c.name.toUpperCase())).toEqual(["INSTANCE", "REGION", "READY", "SYNCED", "REASON", "AGE"]);
  });

  it("is structural: a type on every node, no forbidden keywords, no additionalProperties, no uniqueItems", () => {
    walk(openApi(), "root", (n, p) => {
      expect(typeof n["type"], p).toBe("string");
      for (const k of ["$ref", "$defs", "definitions", "anyOf", "oneOf", "allOf", "not", "nullable", "additionalProperties", "uniqueItems"]) {
        expect(n[k], `${p}.${k}`).toBeUndefined();
      }
      if (n["type"] === "integer") {
        expect(["int32", "int64"], p).toContain(n["format"]);
        expect(Math.abs(Number(n["maximum"] ?? 0)), p).toBeLessThan(2 ** 53 - 1);
      }
    });
  });

  it("every spec field has a description (kubectl explain text)", () => {
    const spec = (openApi()["properties"] as Record<string, Node>)["spec"] as Node;
    walk(spec, "spec", (n, p) => {
      if (p.endsWith("[]")) return;
      expect(typeof n["description"], p).toBe("string");
      expect((n["description"] as string).length, p).toBeGreaterThan(10);
    });
  });

  it("every pattern and CEL regex compiles in JS and uses no RE2-incompatible syntax", () => {
    let patterns = 0;
    walk(openApi(), "root", (n, p) => {
      if (typeof n["pattern"] === "string") {
        patterns++;
        expect(() => new RegExp(n["pattern"] as string, "u"), p).not.toThrow();
        assertRe2Compatible(n["pattern"], p);
      }
      for (const v of (n["x-kubernetes-validations"] as { rule: string; message: string }[] | undefined) ?? []) {
        assertRe2Compatible(v.rule, p);
        expect(v.message.length, p).toBeGreaterThan(5);
      }
    });
    expect(patterns).toBeGreaterThan(5);
  });

  it("uses set semantics for securityGroupIds and a map keyed by type for conditions", () => {
    const props = openApi()["properties"] as Record<string, Node>;
    const spec = (props["spec"] as Node)["properties"] as Record<string, Node>;
    const status = (props["status"] as Node)["properties"] as Record<string, Node>;
    expect(spec["securityGroupIds"]?.["x-kubernetes-list-type"]).toBe("set");
    expect(status["conditions"]?.["x-kubernetes-list-type"]).toBe("map");
    expect(status["conditions"]?.["x-kubernetes-list-map-keys"]).toEqual(["type"]);
    expect((props["spec"] as Node)["required"]).toEqual(["instanceId", "regionId"]);
    for (const f of ["instanceId", "regionId"]) {
      expect(spec[f]?.["x-kubernetes-validations"]).toEqual([{ rule: "self == oldSelf", message: `${f} is immutable` }]);
    }
  });

  it("date-time fields keep the format but drop zod's long pattern", () => {
    const status = (openApi()["properties"] as Record<string, Node>)["status"] as Node;
    const last = (status["properties"] as Record<string, Node>)["lastSyncTime"] as Node;
    expect(last["format"]).toBe("date-time");
    expect(last["pattern"]).toBeUndefined();
  });
});

describe("toStructural", () => {
  it("rejects constructs the API server cannot take", () => {
    expect(() => toStructural({ type: "object", properties: { a: { $ref: "#/x" } } })).toThrow(/\$ref/);
    expect(() => toStructural(zodToOpenApi(z.object({ a: z.union([z.string(), z.number()]) })))).toThrow(/anyOf/);
    expect(() => toStructural(zodToOpenApi(z.object({ a: z.string().nullable() })))).toThrow(/nullable/);
    expect(() => toStructural(zodToOpenApi(z.object({ a: z.string().regex(/^(?!x)a$/) })))).toThrow(/lookahead/);
    expect(() => toStructural(zodToOpenApi(z.object({ a: z.string().regex(/^a\u00e9$/) })))).toThrow(/\\u escape/);
    expect(() => toStructural({ properties: {} })).toThrow(/type/);
  });

  it("rewrites what it can", () => {
    const out = toStructural({
      type: "object",
      additionalProperties: false,
      properties: {
        n: { type: "integer", minimum: -9007199254740991, maximum: 9007199254740991 },
        l: { type: "array", uniqueItems: true, items: { type: "string" } },
        m: { type: "object", additionalProperties: {} },
      },
    });
    expect(out).toEqual({
      type: "object",
      properties: {
        n: { type: "integer", format: "int64" },
        l: { type: "array", "x-kubernetes-list-type": "set", items: { type: "string" } },
        m: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      },
    });
  });
});
