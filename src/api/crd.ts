/**
 * Builds the EcsInstanceAttributes CustomResourceDefinition from the zod schemas.
 *
 * zod 4's toJSONSchema (target openapi-3.0, io input, reused inline) gives almost a Kubernetes
 * structural schema; `toStructural` fixes the rest (the API server's structural-schema rules) and refuses
 * anything the API server would reject or silently mis-handle ($ref, anyOf, nullable, uniqueItems,
 * RE2-incompatible regexes).
 */
import { stringify } from "yaml";
import { z } from "zod";
import { API_VERSION, CRD_NAME, GROUP, KIND, LIST_KIND, PLURAL, SHORT_NAMES, SINGULAR, VERSION } from "./constants.js";
import { specSchema } from "./spec.js";
import { statusSchema } from "./status.js";

/** A JSON Schema / OpenAPI v3 node (loosely typed: it is produced by zod and post-processed). */
export type SchemaNode = Record<string, unknown>;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Keywords a structural schema must not contain (or that we never want in our CRD). */
const FORBIDDEN_KEYWORDS = ["$ref", "$defs", "definitions", "oneOf", "anyOf", "allOf", "not", "nullable", "$schema", "id"];
/** Regex syntax Go's RE2 rejects. */
const RE2_UNSAFE: readonly [RegExp, string][] = [
  [/\(\?[=!]/, "lookahead"],
  [/\(\?<[=!]/, "lookbehind"],
  [/\\[1-9]/, "backreference"],
  [/\\u[0-9a-fA-F{]/, "\\u escape (write the character literally)"],
  [/\(\?<[A-Za-z]/, "named group in JS syntax (?<name>)"],
];

/** Throws when `source` uses regex syntax that RE2 (the API server's engine) does not accept. */
export function assertRe2Compatible(source: string, where: string): void {
  for (const [re, what] of RE2_UNSAFE) {
    if (re.test(source)) throw new Error(`${where}: regex uses ${what}, which RE2 rejects: ${source}`);
  }
}

/** zod → JSON Schema with the options the CRD needs. */
export function zodToOpenApi(schema: z.ZodType): SchemaNode {
  return z.toJSONSchema(schema, {
    target: "openapi-3.0",
    io: "input",
    reused: "inline",
    cycles: "throw",
    unrepresentable: "throw",
  });
}

/**
 * Post-processes a zod JSON Schema into a Kubernetes structural schema (returns a new tree):
 * - drops `additionalProperties: false` beside `properties` (the API server prunes unknown fields);
 * - `uniqueItems` → `x-kubernetes-list-type: set`;
 * - drops zod's ±2^53 integer bounds and adds `format: int64` when no format was given;
 * - drops zod's pattern on `format: date-time` strings (the API server checks the format itself);
 * - rejects `$ref`/`definitions`/`anyOf`/`oneOf`/`nullable`/type arrays/tuple items, nodes without
 *   `type`, and RE2-incompatible regexes in `pattern` and CEL rules.
 */
export function toStructural(node: SchemaNode, path = "openAPIV3Schema"): SchemaNode {
  const out: SchemaNode = {};
  for (const key of FORBIDDEN_KEYWORDS) {
    if (key in node) throw new Error(`${path}: '${key}' is not allowed in a structural CRD schema`);
  }
  if (typeof node["type"] !== "string") throw new Error(`${path}: every node needs a single 'type'`);
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case "properties": {
        const props: SchemaNode = {};
        for (const [name, child] of Object.entries(value as Record<string, SchemaNode>)) {
          props[name] = toStructural(child, `${path}.${name}`);
        }
        out[key] = props;
        break;
      }
      case "items":
        if (Array.isArray(value)) throw new Error(`${path}: tuple 'items' is not structural`);
        out[key] = toStructural(value as SchemaNode, `${path}[]`);
        break;
      case "additionalProperties":
        if (value === false) {
          if (node["properties"] === undefined) throw new Error(`${path}: additionalProperties:false without properties`);
          // dropped: the API server prunes unknown fields anyway
        } else if (typeof value === "object" && value !== null && Object.keys(value).length === 0) {
          out["x-kubernetes-preserve-unknown-fields"] = true;
        } else {
          out[key] = toStructural(value as SchemaNode, `${path}{}`);
        }
        break;
      case "uniqueItems":
        if (value === true) out["x-kubernetes-list-type"] = "set";
        break;
      case "maximum":
        if (!(node["type"] === "integer" && typeof value === "number" && value >= MAX_SAFE)) out[key] = value;
        break;
      case "minimum":
        if (!(node["type"] === "integer" && typeof value === "number" && value <= -MAX_SAFE)) out[key] = value;
        break;
      case "pattern":
        assertRe2Compatible(String(value), `${path}.pattern`);
        if (node["format"] !== "date-time") out[key] = value;
        break;
      case "x-kubernetes-validations":
        for (const v of value as { rule: string }[]) assertRe2Compatible(v.rule, `${path}.x-kubernetes-validations`);
        out[key] = value;
        break;
      default:
        out[key] = value;
    }
  }
  if (node["type"] === "integer" && out["format"] === undefined) out["format"] = "int64";
  return out;
}

/** The `openAPIV3Schema` of the CRD. */
export function buildOpenApiSchema(): SchemaNode {
  return {
    type: "object",
    description:
      "EcsInstanceAttributes keeps the mutable attributes of one Alibaba Cloud ECS instance equal to its spec. Deleting it stops management; it never deletes the instance.",
    properties: {
      apiVersion: {
        type: "string",
        description: "APIVersion defines the versioned schema of this representation of an object.",
      },
      kind: { type: "string", description: "Kind is a string value representing the REST resource this object represents." },
      metadata: { type: "object" },
      spec: toStructural(zodToOpenApi(specSchema), "spec"),
      status: toStructural(zodToOpenApi(statusSchema), "status"),
    },
    required: ["spec"],
  };
}

const condColumn = (name: string, type: string, field: "status" | "reason", description: string) => ({
  name,
  type: "string",
  jsonPath: `.status.conditions[?(@.type=="${type}")].${field}`,
  description,
});

/** The CustomResourceDefinition object (apiextensions.k8s.io/v1). */
export function buildCrd(): SchemaNode {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: CRD_NAME,
      labels: { "app.kubernetes.io/name": "ecs-attributes-controller", "app.kubernetes.io/part-of": "ecs-attributes-controller" },
    },
    spec: {
      group: GROUP,
      names: { kind: KIND, listKind: LIST_KIND, plural: PLURAL, singular: SINGULAR, shortNames: [...SHORT_NAMES], categories: ["alicloud", "ecs"] },
      scope: "Namespaced",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: "Instance", type: "string", jsonPath: ".spec.instanceId", description: "ECS instance ID" },
            { name: "Region", type: "string", jsonPath: ".spec.regionId", description: "Region" },
            condColumn("Ready", "Ready", "status", "Observed attributes equal the spec"),
            condColumn("Synced", "Synced", "status", "Last reconcile reached ECS without error"),
            condColumn("Reason", "Ready", "reason", "Reason of the Ready condition"),
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: { openAPIV3Schema: buildOpenApiSchema() },
        },
      ],
    },
  };
}

/** Header of the generated file. */
export const CRD_YAML_HEADER = `# Generated by scripts/gen-crd.ts from src/api (npm run gen:crd). Do not edit by hand.\n# ${API_VERSION} ${KIND}\n`;

/** The CRD as the YAML text committed under crds/ (deterministic). */
export function renderCrdYaml(): string {
  return CRD_YAML_HEADER + stringify(buildCrd(), { lineWidth: 0, aliasDuplicateObjects: false });
}
