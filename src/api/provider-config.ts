/**
 * EcsProviderConfig (group ecs.alicloud.dev, v1alpha1, cluster-scoped): the single source of truth.
 *
 * An admin-owned object that says with which cloud identity the controller calls ECS for the
 * EcsInstanceAttributes resources that name it (spec.providerConfigRef.name, default `default`),
 * and what those resources may do: which namespaces may use it, which regions, which instance tags
 * an instance must carry, which fields may be set. The TypeScript types are inferred from these
 * schemas and the CRD (crds/ecs.alicloud.dev_ecsproviderconfigs.yaml) is generated from them by
 * buildProviderConfigCrd below; every `description` becomes `kubectl explain` text. Rules the API
 * server can check are CEL rules here; the controller parses what it reads with the same schemas.
 */
import { z } from "zod";
import { CONDITION_TYPE_MAX_LENGTH, GROUP, VERSION } from "./constants.js";
import { FIELDS, type FieldName } from "./fields.js";
import { REGION_ID_MAX_LENGTH, REGION_ID_PATTERN, DNS_SUBDOMAIN_MAX_LENGTH, DNS_SUBDOMAIN_PATTERN } from "./rules.js";
import { conditionSchema } from "./status.js";

export const PROVIDER_CONFIG_KIND = "EcsProviderConfig";
export const PROVIDER_CONFIG_LIST_KIND = "EcsProviderConfigList";
export const PROVIDER_CONFIG_PLURAL = "ecsproviderconfigs";
export const PROVIDER_CONFIG_SINGULAR = "ecsproviderconfig";
export const PROVIDER_CONFIG_SHORT_NAMES = ["ecspc"] as const;
export const PROVIDER_CONFIG_CRD_NAME = `${PROVIDER_CONFIG_PLURAL}.${GROUP}`;
export const PROVIDER_CONFIG_API_VERSION = `${GROUP}/${VERSION}`;
/** The config a resource uses when spec.providerConfigRef is omitted. @public */
export const DEFAULT_PROVIDER_CONFIG_NAME = "default";
/** Where the ACK pod-identity webhook mounts the RRSA OIDC token (ALIBABA_CLOUD_OIDC_TOKEN_FILE). */
export const DEFAULT_RRSA_TOKEN_FILE = "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token";
/** AssumeRole DurationSeconds bounds (RAM: 900 s up to the role's MaxSessionDuration, at most 12 h). */
export const MIN_SESSION_DURATION_SECONDS = 900;
export const MAX_SESSION_DURATION_SECONDS = 43200;

const re = (source: string) => new RegExp(source);
const int32 = { format: "int32" } as const;
const int64 = { format: "int64" } as const;

/** Alibaba Cloud resource name, e.g. acs:ram::123456789012:role/ecs-attrs. */
const ARN_PATTERN = "^acs:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:[A-Za-z0-9_./:*-]+$";
function arn(description: string) {
  return z.string().min(1).max(512).regex(re(ARN_PATTERN), { message: "must look like acs:ram::123456789012:role/name" }).meta({ description });
}

function dnsName(description: string) {
  return z.string().min(1).max(DNS_SUBDOMAIN_MAX_LENGTH).regex(re(DNS_SUBDOMAIN_PATTERN), { message: "must be a DNS-1123 subdomain" }).meta({ description });
}

/** A Secret named by namespace and name: the config is cluster-scoped, so the namespace is explicit. */
function namespacedSecretRef(description: string) {
  return z
    .object({
      namespace: z
        .string()
        .min(1)
        .max(63)
        .regex(re("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"), { message: "must be a DNS-1123 label" })
        .meta({ description: "Namespace of the Secret (keep it admin-only: whoever reads it holds the cloud identity)." }),
      name: dnsName("Name of the Secret."),
    })
    .meta({ description });
}

const regionId = z.string().max(REGION_ID_MAX_LENGTH).regex(re(REGION_ID_PATTERN), { message: "must look like cn-hangzhou" });

// --- credentials --------------------------------------------------------------------------------

export const CREDENTIAL_SOURCES = ["RRSA", "AssumeRole", "Secret", "Default"] as const;
/** @public */
export type CredentialSource = (typeof CREDENTIAL_SOURCES)[number];

export const rrsaSchema = z
  .object({
    roleArn: arn("ARN of the RAM role to assume with the pod's OIDC token, e.g. acs:ram::123456789012:role/ecs-attrs."),
    oidcProviderArn: arn("ARN of the cluster's OIDC identity provider, e.g. acs:ram::123456789012:oidc-provider/ack-rrsa-c123."),
    oidcTokenFile: z
      .string()
      .min(1)
      .max(1024)
      .regex(re("^/"), { message: "must be an absolute path" })
      .default(DEFAULT_RRSA_TOKEN_FILE)
      .meta({
        description: `Path of the projected ServiceAccount token in the controller's Pod. Default ${DEFAULT_RRSA_TOKEN_FILE} (where the ACK pod-identity webhook mounts it).`,
      }),
    roleSessionName: z
      .string()
      .min(2)
      .max(64)
      .regex(re("^[A-Za-z0-9._@-]+$"), { message: "may contain only letters, digits, '.', '_', '@' and '-'" })
      .optional()
      .meta({ description: "RoleSessionName shown in ActionTrail. Default: the controller's name." }),
  })
  .meta({
    description: "RRSA (AssumeRoleWithOIDC): the controller's ServiceAccount token is exchanged for temporary credentials of roleArn. Refreshed before expiry.",
  });

export const assumeRoleSchema = z
  .object({
    roleArn: arn("ARN of the RAM role to assume, e.g. acs:ram::123456789012:role/team-a-ecs."),
    externalId: z
      .string()
      .min(2)
      .max(1224)
      .regex(re("^[A-Za-z0-9=,.@:/_-]+$"), { message: "may contain only letters, digits and =,.@:/_-" })
      .optional()
      .meta({ description: "ExternalId the role's trust policy requires (confused-deputy protection for cross-account roles)." }),
    sessionDurationSeconds: z
      .int()
      .min(MIN_SESSION_DURATION_SECONDS)
      .max(MAX_SESSION_DURATION_SECONDS)
      .optional()
      .meta({
        description: `Lifetime of the temporary credentials, ${MIN_SESSION_DURATION_SECONDS}-${MAX_SESSION_DURATION_SECONDS} s (at most the role's MaxSessionDuration). Default 3600.`,
        ...int32,
      }),
    baseCredentialsSecretRef: namespacedSecretRef(
      "Secret with the AccessKey that calls AssumeRole (keys ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET). Omit to call AssumeRole with the controller's own credentials chain.",
    ).optional(),
  })
  .meta({ description: "AssumeRole: temporary credentials of roleArn, obtained with base credentials. Refreshed before expiry." });

export const credentialsSchema = z
  .object({
    source: z.enum(CREDENTIAL_SOURCES).meta({
      description:
        "Where the credentials come from: RRSA (AssumeRoleWithOIDC with the Pod's token), AssumeRole (a RAM role assumed with base credentials), Secret (an AccessKey in a Secret), Default (the controller's own chain: environment, RRSA environment, and instance metadata only when allowInstanceMetadata).",
    }),
    rrsa: rrsaSchema.optional(),
    assumeRole: assumeRoleSchema.optional(),
    secretRef: namespacedSecretRef(
      "Secret (source Secret) with keys ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (optional ALIBABA_CLOUD_SECURITY_TOKEN).",
    ).optional(),
    allowInstanceMetadata: z.boolean().default(false).meta({
      description:
        "Source Default only: let the chain fall back to the node's RAM role from instance metadata. Off by default: that role usually belongs to the cluster's nodes, not to this controller.",
    }),
  })
  .superRefine((c, ctx) => {
    const block = { RRSA: "rrsa", AssumeRole: "assumeRole", Secret: "secretRef" } as const;
    for (const [source, key] of Object.entries(block)) {
      const has = c[key] !== undefined;
      if (has !== (c.source === source)) ctx.addIssue({ code: "custom", message: `credentials.${key} is required for source ${source} and allowed only then` });
    }
    if (c.source !== "Default" && c.allowInstanceMetadata)
      ctx.addIssue({ code: "custom", message: "credentials.allowInstanceMetadata applies to source Default only" });
  })
  .meta({
    description:
      "The cloud identity used for ECS calls of the resources that use this config. Exactly the block matching source is set (rrsa, assumeRole, secretRef; none for Default).",
    "x-kubernetes-validations": [
      { rule: "self.source == 'RRSA' ? has(self.rrsa) : !has(self.rrsa)", message: "credentials.rrsa is required for source RRSA and allowed only then" },
      {
        rule: "self.source == 'AssumeRole' ? has(self.assumeRole) : !has(self.assumeRole)",
        message: "credentials.assumeRole is required for source AssumeRole and allowed only then",
      },
      {
        rule: "self.source == 'Secret' ? has(self.secretRef) : !has(self.secretRef)",
        message: "credentials.secretRef is required for source Secret and allowed only then",
      },
      { rule: "self.source == 'Default' || !self.allowInstanceMetadata", message: "credentials.allowInstanceMetadata applies to source Default only" },
    ],
  });

// --- endpoint -----------------------------------------------------------------------------------

const ENDPOINT_URL_PATTERN = "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$";

export const regionOverrideSchema = z
  .object({
    regionId: regionId.meta({ description: "Region whose endpoint is overridden, e.g. cn-hangzhou." }),
    endpoint: z
      .string()
      .max(512)
      .regex(re(ENDPOINT_URL_PATTERN), { message: "must be scheme://host[:port]" })
      .meta({ description: "ECS endpoint for this region as scheme://host[:port]. https:// unless allowInsecure." }),
  })
  .meta({ description: "An explicit ECS endpoint for one region." });

const isHttps = (url: string) => url.startsWith("https://");

export const endpointSchema = z
  .object({
    network: z.enum(["public", "vpc"]).default("public").meta({
      description:
        "public: ecs.<region>.aliyuncs.com. vpc: ecs-vpc.<region>.aliyuncs.com (reachable only from inside the region's VPCs; no internet egress needed).",
    }),
    regionOverrides: z
      .array(regionOverrideSchema)
      .max(64)
      .optional()
      .meta({
        description: "Endpoints for single regions (e.g. a private endpoint); win over network.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["regionId"],
      }),
    allowInsecure: z
      .boolean()
      .default(false)
      .meta({ description: "Allow http:// endpoints. Requests carry passwords and user data: only for a local emulator." }),
  })
  .refine((e) => e.allowInsecure || (e.regionOverrides ?? []).every((o) => isHttps(o.endpoint)), {
    message: "endpoint.regionOverrides must use https:// unless endpoint.allowInsecure is true",
  })
  .meta({
    description: "Which ECS endpoints to call.",
    "x-kubernetes-validations": [
      {
        rule: "self.allowInsecure || !has(self.regionOverrides) || self.regionOverrides.all(o, o.endpoint.startsWith('https://'))",
        message: "endpoint.regionOverrides must use https:// unless endpoint.allowInsecure is true",
      },
    ],
  });

// --- rate limits --------------------------------------------------------------------------------

/** The ECS actions the controller calls (rate-limit keys). */
export const ECS_ACTIONS = [
  "DescribeInstances",
  "ModifyInstanceAttribute",
  "DescribeInstanceAttribute",
  "DescribeUserData",
  "DescribeNetworkInterfaces",
] as const;

export const actionRateSchema = z
  .object({
    action: z.enum(ECS_ACTIONS).meta({ description: "ECS API action." }),
    qps: z.number().gt(0).max(1000).meta({ description: "Sustained requests per second for this action, per resolved account and region." }),
    burst: z
      .int()
      .min(1)
      .max(1000)
      .optional()
      .meta({ description: "Requests that may go back to back after a quiet period. Default: the controller's burst.", ...int32 }),
  })
  .meta({ description: "Client-side rate for one ECS action." });

export const rateLimitsSchema = z
  .object({
    perAction: z
      .array(actionRateSchema)
      .max(ECS_ACTIONS.length)
      .optional()
      .meta({
        description: "Per-action rates; actions not listed use the controller's --ecs-qps.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["action"],
      }),
  })
  .meta({ description: "Client-side rate limits for this config's account. Buckets are keyed by the resolved account, so configs of one account share them." });

// --- constraints --------------------------------------------------------------------------------

const labelKey = z.string().min(1).max(317).meta({ description: "Label key." });

export const labelSelectorSchema = z
  .object({
    matchLabels: z.record(z.string().max(317), z.string().max(63)).optional().meta({ description: "Labels a namespace must carry, key: value." }),
    matchExpressions: z
      .array(
        z.object({
          key: labelKey,
          operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]).meta({ description: "In, NotIn, Exists or DoesNotExist." }),
          values: z
            .array(z.string().max(63))
            .max(64)
            .optional()
            .meta({ description: "Values for In and NotIn; empty for Exists and DoesNotExist.", "x-kubernetes-list-type": "atomic" }),
        }),
      )
      .max(16)
      .optional()
      .meta({ description: "Label selector requirements, all of which must hold.", "x-kubernetes-list-type": "atomic" }),
  })
  .meta({ description: "A metav1.LabelSelector over Namespace labels. An empty selector selects every namespace." });
/** @public */
export type LabelSelector = z.output<typeof labelSelectorSchema>;

export const instanceTagSchema = z
  .object({
    key: z.string().min(1).max(128).meta({ description: "Tag key the instance must carry." }),
    value: z.string().max(128).optional().meta({ description: "Value the tag must have. Omit to accept any value." }),
  })
  .meta({ description: "An ECS tag an instance must carry." });
/** @public */
export type InstanceTagRule = z.output<typeof instanceTagSchema>;

/** The names allowedFields accepts: the field table's rows (src/api/fields.ts). */
export const FIELD_NAMES = FIELDS.map((f) => f.name) as [FieldName, ...FieldName[]];

export const constraintsSchema = z
  .object({
    namespaceSelector: labelSelectorSchema.optional().meta({
      description: "Namespaces whose resources may use this config, by namespace labels. Omitted: every namespace.",
    }),
    allowedRegions: z
      .array(regionId.meta({ description: "Region ID, e.g. cn-hangzhou." }))
      .min(1)
      .max(64)
      .optional()
      .meta({ description: "Regions resources may name in spec.regionId. Omitted: every region.", "x-kubernetes-list-type": "set" }),
    instanceTags: z
      .array(instanceTagSchema)
      .min(1)
      .max(20)
      .optional()
      .meta({
        description:
          "Tags an instance must carry, all of them, before the controller writes to it (checked against DescribeInstances before every write). Omitted: no tag is required.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["key"],
      }),
    allowedFields: z
      .array(z.enum(FIELD_NAMES).meta({ description: "A managed field's name, e.g. instanceName, password, userData, cpuOptions.core." }))
      .max(FIELD_NAMES.length)
      .optional()
      .meta({
        description: `Fields resources may set (names from the field table, docs/api.md). Omitted: every field. Example: leave out password and userData to forbid them. Names: ${FIELD_NAMES.join(", ")}.`,
        "x-kubernetes-list-type": "set",
      }),
  })
  .meta({ description: "What resources using this config may do. Violations are reported as Forbidden before any ECS write." });
/** @public */
export type ProviderConfigConstraints = z.output<typeof constraintsSchema>;

// --- spec / status ------------------------------------------------------------------------------

export const providerConfigSpecSchema = z
  .object({
    credentials: credentialsSchema,
    endpoint: endpointSchema.optional(),
    rateLimits: rateLimitsSchema.optional(),
    constraints: constraintsSchema.optional(),
  })
  .meta({ description: "Cloud identity, endpoints, rate limits and constraints for the resources that use this config." });
export type EcsProviderConfigSpec = z.output<typeof providerConfigSpecSchema>;
/** @public */
export type EcsProviderConfigSpecInput = z.input<typeof providerConfigSpecSchema>;

export const providerConfigStatusSchema = z
  .object({
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .meta({ description: "metadata.generation the status reflects.", ...int64 }),
    conditions: z
      .array(conditionSchema)
      .max(8)
      .optional()
      .meta({ description: "Ready: the credentials resolved.", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }),
    resolvedSource: z
      .string()
      .max(CONDITION_TYPE_MAX_LENGTH)
      .optional()
      .meta({ description: "The credential source in use, e.g. RRSA, AssumeRole, Secret, Default/environment, Default/instance-metadata." }),
    accountId: z.string().max(64).optional().meta({ description: "Alibaba Cloud account ID of the resolved identity (never a key)." }),
    identity: z.string().max(512).optional().meta({ description: "The resolved principal, e.g. a role ARN or AccessKey ID prefix (never a secret)." }),
  })
  .meta({ description: "Observed state, written by the controller." });
export type EcsProviderConfigStatus = z.output<typeof providerConfigStatusSchema>;

/** The object as the controller reads it (metadata loosely typed: the informer owns it). @public */
export interface EcsProviderConfig {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; generation?: number; resourceVersion?: string; uid?: string };
  spec: EcsProviderConfigSpec;
  status?: EcsProviderConfigStatus;
}

/** Parses a spec read from the API server; the error names the first bad field. */
export function parseProviderConfigSpec(raw: unknown): { ok: true; spec: EcsProviderConfigSpec } | { ok: false; message: string } {
  const r = providerConfigSpecSchema.safeParse(raw);
  if (r.success) return { ok: true, spec: r.data };
  const issue = r.error.issues[0];
  const path = issue?.path.join(".") ?? "";
  return { ok: false, message: `${path === "" ? "spec" : `spec.${path}`}: ${issue?.message ?? "invalid"}` };
}
