/**
 * EcsInstanceAttributesSet: the single source of its API (spec, status, names, CRD). One set keeps
 * every ECS instance matching a selector in line with a template by owning one child
 * EcsInstanceAttributes per matched instance (src/sets/). The template reuses the attribute schemas
 * of spec.ts; its text fields (instanceName, description, hostName) may hold per-instance variables,
 * so their value rules run on the rendered text, per child (an invalid result fails that child only).
 */
import { stringify } from "yaml";
import { z } from "zod";
import { GROUP, VERSION } from "./constants.js";
import { DESCRIPTION_MAX_LENGTH, HOST_NAME_MAX_LENGTH, INSTANCE_ID_MAX_LENGTH, INSTANCE_ID_PATTERN, INSTANCE_NAME_MAX_LENGTH } from "./rules.js";
import { managementPolicySchema, regionIdSchema, specSchema } from "./spec.js";
import { conditionSchema } from "./status.js";
import { toStructural, zodToOpenApi, type SchemaNode } from "./crd.js";

export const SET_KIND = "EcsInstanceAttributesSet";
export const SET_LIST_KIND = "EcsInstanceAttributesSetList";
export const SET_PLURAL = "ecsinstanceattributessets";
export const SET_SINGULAR = "ecsinstanceattributesset";
export const SET_SHORT_NAMES = ["ecsattrsets"] as const;
export const SET_CRD_NAME = `${SET_PLURAL}.${GROUP}`;
/** Label on every child: the name of the set that owns it. */
export const SET_LABEL = `${GROUP}/set`;
/** Most failing children listed in status (the counts cover all of them). */
export const MAX_FAILING_LISTED = 20;
/** maxInFlight when a template change needs a restart or sets a password/user data and none is given. */
export const RESTART_DEFAULT_MAX_IN_FLIGHT = "10%";

/** The variables a template text may use: `{{ .InstanceId }}`, `{{ .ZoneId }}`, `{{ .InstanceName }}`, `{{ .Tags.<key> }}`. */
export const TEMPLATE_VARIABLES = ["InstanceId", "ZoneId", "InstanceName"] as const;
const TAG_KEY_CHARS = "A-Za-z0-9_.:/@+=-";
/**
 * A text whose every `{{` opens a known variable: plain characters, a lone `{`, or a placeholder.
 * RE2-compatible, so the API server checks it at admission (the CRD's `pattern`).
 */
export const TEMPLATE_TEXT_PATTERN = `^([^{]|\\{[^{]|\\{$|\\{\\{ *\\.(${TEMPLATE_VARIABLES.join("|")}|Tags\\.[${TAG_KEY_CHARS}]+) *\\}\\})*$`;
/** One placeholder, for rendering (src/sets/template.ts). */
export const TEMPLATE_PLACEHOLDER = new RegExp(`\\{\\{ *\\.(${TEMPLATE_VARIABLES.join("|")}|Tags\\.([${TAG_KEY_CHARS}]+)) *\\}\\}`, "g");

const VARIABLES_TEXT = "{{ .InstanceId }}, {{ .ZoneId }}, {{ .InstanceName }} and {{ .Tags.<key> }}";

/** A template text field: the rules of the rendered value are those of the same EcsInstanceAttributes field. */
function templateText(field: string, maxLength: number) {
  // Room for placeholders that render shorter than they are written; the rendered text is checked per child.
  return z
    .string()
    .min(1)
    .max(maxLength * 4)
    .regex(new RegExp(TEMPLATE_TEXT_PATTERN), { message: `${field} may use only the variables ${VARIABLES_TEXT}, written as {{ .Name }}` })
    .meta({
      description: `Desired ${field} of every matched instance, with optional variables ${VARIABLES_TEXT}. The rendered text must satisfy the rules of EcsInstanceAttributes spec.${field}; an instance whose rendered text does not fails alone (InvalidSpec).`,
    });
}

const attr = specSchema.shape;

/** The attribute fields of EcsInstanceAttributes (not instanceId/regionId/policy/credentials). */
export const templateSchema = z
  .object({
    instanceName: templateText("instanceName", INSTANCE_NAME_MAX_LENGTH).optional(),
    description: templateText("description", DESCRIPTION_MAX_LENGTH).optional(),
    hostName: templateText("hostName", HOST_NAME_MAX_LENGTH).optional(),
    passwordSecretRef: attr.passwordSecretRef,
    userData: attr.userData,
    securityGroupIds: attr.securityGroupIds,
    deletionProtection: attr.deletionProtection,
    creditSpecification: attr.creditSpecification,
    networkInterfaceQueueNumber: attr.networkInterfaceQueueNumber,
    enableJumboFrame: attr.enableJumboFrame,
    cpuOptions: attr.cpuOptions,
    privateDnsNameOptions: attr.privateDnsNameOptions,
  })
  .meta({ description: "Attributes every matched instance should have: the attribute fields of EcsInstanceAttributes. Omitted fields are not managed." });

const TAG_MAX = 128;
const SELECTOR_NOT_EMPTY =
  "(has(self.matchAll) && self.matchAll) || (has(self.tags) && size(self.tags) > 0) || has(self.vpcId) || (has(self.instanceIds) && size(self.instanceIds) > 0) || has(self.instanceNamePattern)";
const selectorNotEmpty = (s: Selector) =>
  s.matchAll === true ||
  Object.keys(s.tags ?? {}).length > 0 ||
  s.vpcId !== undefined ||
  (s.instanceIds?.length ?? 0) > 0 ||
  s.instanceNamePattern !== undefined;
const SELECTOR_EMPTY_MESSAGE =
  "selector must name tags, vpcId, instanceIds or instanceNamePattern, or set matchAll: true to select every instance in the region";

const selectorShape = z.object({
  tags: z
    .record(z.string(), z.string().max(TAG_MAX))
    .optional()
    .meta({
      maxProperties: 20,
      description: "Tags every matched instance carries (key: value; all must match). Sent to ECS as Tag.N.Key/Value filters.",
      "x-kubernetes-validations": [{ rule: `self.all(k, size(k) >= 1 && size(k) <= ${TAG_MAX})`, message: `tags keys must be 1-${TAG_MAX} characters` }],
    }),
  vpcId: z.string().min(1).max(64).optional().meta({ description: "Only instances in this VPC." }),
  instanceIds: z
    .array(z.string().max(INSTANCE_ID_MAX_LENGTH).regex(new RegExp(INSTANCE_ID_PATTERN)))
    .max(1000)
    .optional()
    .meta({ description: "Only these instances (at most 1000).", "x-kubernetes-list-type": "set" }),
  instanceNamePattern: z
    .string()
    .min(1)
    .max(INSTANCE_NAME_MAX_LENGTH)
    .optional()
    .meta({ description: "Only instances whose current name matches this glob ('*' any run of characters, '?' one character)." }),
  matchAll: z.boolean().optional().meta({ description: "Set true to select every instance in the region when no other selector field is given." }),
});
type Selector = z.output<typeof selectorShape>;

export const selectorSchema = selectorShape.refine(selectorNotEmpty, { message: SELECTOR_EMPTY_MESSAGE }).meta({
  description: "Which instances of the region the set manages. Every given field must match. An empty selector is rejected unless matchAll is true.",
  "x-kubernetes-validations": [{ rule: SELECTOR_NOT_EMPTY, message: SELECTOR_EMPTY_MESSAGE }],
});

/** `10%` or `3`: a count, or a percentage of the matched instances (rounded up, at least 1). */
export const MAX_IN_FLIGHT_PERCENT_PATTERN = "^([1-9][0-9]?|100)%$";
const maxInFlightSchema = z.union([z.int().min(1), z.string().regex(new RegExp(MAX_IN_FLIGHT_PERCENT_PATTERN))]);
const MAX_IN_FLIGHT_DESCRIPTION = `How many children may have a change pending at once: a number, or a percentage of the matched instances ('25%', rounded up, at least 1). Default: all at once, except ${RESTART_DEFAULT_MAX_IN_FLIGHT} for a template that needs a restart (hostName) or sets a password or user data.`;

export const rolloutSchema = z
  .object({
    maxInFlight: maxInFlightSchema.optional(),
    paused: z
      .boolean()
      .optional()
      .meta({ description: "true stops creating and updating children (deleting children of instances that no longer match goes on)." }),
  })
  .meta({ description: "Staged rollout of template changes across the children." });

export const setSpecSchema = z
  .object({
    regionId: regionIdSchema,
    managementPolicy: managementPolicySchema,
    selector: selectorSchema,
    template: templateSchema,
    rollout: rolloutSchema.optional(),
  })
  .meta({ description: "Selector, template and rollout of a fleet of ECS instances." });

export type SetSpec = z.output<typeof setSpecSchema>;
export type SetTemplate = z.output<typeof templateSchema>;
export type MaxInFlight = z.output<typeof maxInFlightSchema>;

const count = (description: string) => z.int().min(0).meta({ description, format: "int64" });

export const failingChildSchema = z.object({
  name: z.string().max(253).meta({ description: "Child EcsInstanceAttributes (empty when it could not be made)." }),
  instanceId: z.string().max(64),
  reason: z.string().max(1024).meta({ description: "Reason of the child's Ready condition, or InvalidSpec for a template that renders an invalid spec." }),
  code: z.string().max(256).optional().meta({ description: "Raw ECS error code, when ECS answered with one." }),
  message: z.string().max(1024).optional(),
});

export const setStatusSchema = z
  .object({
    observedGeneration: z.int().min(0).optional().meta({ description: "metadata.generation the status reflects.", format: "int64" }),
    matched: count("Instances the selector matches now.").optional(),
    ready: count("Children that are Ready.").optional(),
    updating: count("Children with a change pending (counted against maxInFlight).").optional(),
    failing: count("Children that failed (and instances whose template renders an invalid spec).").optional(),
    waiting: count("Matched instances whose child waits for a rollout slot (or for paused to be lifted).").optional(),
    skipped: count("Matched instances left out because a standalone EcsInstanceAttributes manages them.").optional(),
    failingByReason: z.record(z.string(), z.int()).optional().meta({ description: "Failing children by reason." }),
    failingChildren: z
      .array(failingChildSchema)
      .max(MAX_FAILING_LISTED)
      .optional()
      .meta({ description: `Up to ${MAX_FAILING_LISTED} failing children.` }),
    skippedInstances: z
      .array(z.object({ instanceId: z.string().max(64), resource: z.string().max(512) }))
      .max(MAX_FAILING_LISTED)
      .optional()
      .meta({ description: `Up to ${MAX_FAILING_LISTED} instances managed by a standalone resource (namespace/name).` }),
    maxInFlight: count("The rollout's resolved maxInFlight.").optional(),
    lastDiscoveryTime: z.string().optional().meta({ description: "When ECS was last asked which instances match.", format: "date-time" }),
    conditions: z
      .array(conditionSchema)
      .max(16)
      .optional()
      .meta({ description: "Ready, Synced, Reconciling and Stalled.", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }),
  })
  .meta({ description: "Observed state of the fleet, written by the controller." });
export type SetStatus = z.output<typeof setStatusSchema>;

/** Condition reasons of a set (documented in docs/fleets.md). */
export const SetReason = {
  AllReady: "AllReady",
  RolloutInProgress: "RolloutInProgress",
  RolloutPaused: "RolloutPaused",
  ChildrenFailing: "ChildrenFailing",
  NoMatches: "NoMatches",
  DiscoverySucceeded: "DiscoverySucceeded",
  DiscoveryFailed: "DiscoveryFailed",
  InvalidSpec: "InvalidSpec",
} as const;

// ---- CRD ----------------------------------------------------------------------------------------

/** int-or-string (no single `type`, so written by hand; zod's anyOf is not structural), checked with CEL. */
const MAX_IN_FLIGHT_NODE: SchemaNode = {
  "x-kubernetes-int-or-string": true,
  description: MAX_IN_FLIGHT_DESCRIPTION,
  "x-kubernetes-validations": [
    {
      rule: `type(self) == int ? self >= 1 : self.matches('${MAX_IN_FLIGHT_PERCENT_PATTERN}')`,
      message: "maxInFlight must be a number of at least 1 or a percentage from 1% to 100%",
    },
  ],
};

function specOpenApi(): SchemaNode {
  const raw = zodToOpenApi(setSpecSchema);
  const rollout = (raw["properties"] as Record<string, SchemaNode>)["rollout"] as SchemaNode;
  const props = rollout["properties"] as Record<string, SchemaNode>;
  delete props["maxInFlight"];
  const spec = toStructural(raw, "spec");
  const structuralRollout = (spec["properties"] as Record<string, SchemaNode>)["rollout"] as SchemaNode;
  (structuralRollout["properties"] as Record<string, SchemaNode>)["maxInFlight"] = MAX_IN_FLIGHT_NODE;
  return spec;
}

/** The EcsInstanceAttributesSet CustomResourceDefinition. */
export function buildSetCrd(version: string = VERSION): SchemaNode {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: SET_CRD_NAME,
      labels: { "app.kubernetes.io/name": "ecs-attributes-controller", "app.kubernetes.io/part-of": "ecs-attributes-controller" },
    },
    spec: {
      group: GROUP,
      names: {
        kind: SET_KIND,
        listKind: SET_LIST_KIND,
        plural: SET_PLURAL,
        singular: SET_SINGULAR,
        shortNames: [...SET_SHORT_NAMES],
        categories: ["alicloud", "ecs"],
      },
      scope: "Namespaced",
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: "Matched", type: "integer", jsonPath: ".status.matched", description: "Instances the selector matches" },
            { name: "Ready", type: "integer", jsonPath: ".status.ready", description: "Children that are Ready" },
            { name: "Updating", type: "integer", jsonPath: ".status.updating", description: "Children with a change pending" },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: {
            openAPIV3Schema: {
              type: "object",
              description:
                "EcsInstanceAttributesSet keeps every ECS instance matching its selector in line with its template, through one child EcsInstanceAttributes per instance. Deleting it deletes the children; the instances are left as they are.",
              properties: {
                apiVersion: { type: "string", description: "APIVersion defines the versioned schema of this representation of an object." },
                kind: { type: "string", description: "Kind is a string value representing the REST resource this object represents." },
                metadata: { type: "object" },
                spec: specOpenApi(),
                status: toStructural(zodToOpenApi(setStatusSchema), "status"),
              },
              required: ["spec"],
            },
          },
        },
      ],
    },
  };
}

/** The set CRD as committed under crds/ (deterministic; scripts/gen-crd.ts). */
export function renderSetCrdYaml(): string {
  const header = `# Generated by scripts/gen-crd.ts from src/api/set.ts (npm run gen:crd). Do not edit by hand.\n# ${GROUP}/${VERSION} ${SET_KIND}\n`;
  return header + stringify(buildSetCrd(), { lineWidth: 0, aliasDuplicateObjects: false });
}
