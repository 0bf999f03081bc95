/**
 * `spec` of EcsInstanceAttributes: the single source of truth. The TypeScript types are inferred from
 * these schemas and the CRD's openAPIV3Schema is generated from them (crd.ts). Every `description`
 * becomes `kubectl explain` text.
 *
 * Rules the API server can check are rendered into the CRD (lengths, patterns, enums, CEL); the same
 * rules run again in zod so the controller can validate objects it reads (see validate.ts).
 */
import { z } from "zod";
import { DEFAULT_MANAGEMENT_POLICY, MAX_SECURITY_GROUPS_PER_INSTANCE, MAX_USER_DATA_BASE64_LENGTH, MAX_USER_DATA_BYTES } from "./constants.js";
import {
  BASE64_PATTERN,
  type CelValidation,
  DATA_KEY_MAX_LENGTH,
  DATA_KEY_PATTERN,
  dataKeyNotDots,
  DESCRIPTION_MAX_LENGTH,
  DESCRIPTION_MIN_LENGTH,
  DESCRIPTION_RULES,
  DNS_SUBDOMAIN_MAX_LENGTH,
  DNS_SUBDOMAIN_PATTERN,
  HOST_NAME_MAX_LENGTH,
  HOST_NAME_MIN_LENGTH,
  HOST_NAME_RULES,
  immutable,
  INLINE_USER_DATA_RULES,
  INSTANCE_ID_MAX_LENGTH,
  INSTANCE_ID_PATTERN,
  INSTANCE_NAME_MAX_LENGTH,
  INSTANCE_NAME_MIN_LENGTH,
  INSTANCE_NAME_RULES,
  queueNumberValue,
  REGION_ID_MAX_LENGTH,
  REGION_ID_PATTERN,
  SECURITY_GROUP_ID_MAX_LENGTH,
  SECURITY_GROUP_ID_PATTERN,
  securityGroupIdsUnique,
  userDataBase64,
  userDataExactlyOneSource,
  type ValueRule,
} from "./rules.js";

/**
 * Attaches rules to a schema: each becomes a zod refinement (controller side) and, when it has a CEL
 * rendering, an `x-kubernetes-validations` entry whose message starts with the field's name.
 */
function withRules<S extends z.ZodType>(
  schema: S,
  field: string,
  description: string,
  rules: readonly ValueRule<z.output<S>>[],
  extraMeta: Record<string, unknown> = {},
): S {
  let s = schema;
  for (const r of rules) s = s.refine((v) => r.test(v), { message: `${field} ${r.message}` });
  const cel: CelValidation[] = rules.filter((r) => r.cel !== undefined).map((r) => ({ rule: r.cel as string, message: `${field} ${r.message}` }));
  return s.meta({ description, ...(cel.length > 0 ? { "x-kubernetes-validations": cel } : {}), ...extraMeta });
}

const re = (source: string) => new RegExp(source);

/** metadata.name of a Secret/ConfigMap in the resource's namespace. */
function objectName(field: string, description: string) {
  return z
    .string()
    .min(1)
    .max(DNS_SUBDOMAIN_MAX_LENGTH)
    .regex(re(DNS_SUBDOMAIN_PATTERN), { message: `${field} must be a DNS-1123 subdomain (lower-case letters, digits, '-', '.')` })
    .meta({ description });
}

function dataKey(field: string, description: string) {
  return withRules(
    z
      .string()
      .min(1)
      .max(DATA_KEY_MAX_LENGTH)
      .regex(re(DATA_KEY_PATTERN), {
        message: `${field} may contain only letters, digits, '-', '_' and '.'`,
      }),
    field,
    description,
    [dataKeyNotDots],
  );
}

function keyRef(kind: "Secret" | "ConfigMap", what: string) {
  return z.object({
    name: objectName("name", `Name of the ${kind} in the same namespace as this resource.`),
    key: dataKey("key", `Key in the ${kind}'s data whose value is ${what}.`),
  });
}

const int32 = { format: "int32" } as const;

// ---------------------------------------------------------------------------------------------

export const instanceIdSchema = withRules(
  z.string().max(INSTANCE_ID_MAX_LENGTH).regex(re(INSTANCE_ID_PATTERN), { message: "instanceId must look like i-bp67acfmxazb4ph00001" }),
  "instanceId",
  "ID of the ECS instance whose attributes this resource manages, e.g. i-bp67acfmxazb4ph00001. Required; immutable (create a new resource to manage another instance).",
  [immutable],
);

export const regionIdSchema = withRules(
  z.string().max(REGION_ID_MAX_LENGTH).regex(re(REGION_ID_PATTERN), { message: "regionId must look like cn-hangzhou" }),
  "regionId",
  "Alibaba Cloud region of the instance, e.g. cn-hangzhou. Required; immutable.",
  [immutable],
);

export const instanceNameSchema = withRules(
  z.string().min(INSTANCE_NAME_MIN_LENGTH).max(INSTANCE_NAME_MAX_LENGTH),
  "instanceName",
  `Desired instance name (ECS InstanceName). ${INSTANCE_NAME_MIN_LENGTH}-${INSTANCE_NAME_MAX_LENGTH} characters; starts with a letter or a Chinese character; letters, digits, Chinese characters, ':', '_', '-' and '.'; must not start with http:// or https://. Omit to leave the name unmanaged.`,
  INSTANCE_NAME_RULES,
);

export const descriptionSchema = withRules(
  z.string().min(DESCRIPTION_MIN_LENGTH).max(DESCRIPTION_MAX_LENGTH),
  "description",
  `Desired instance description. ${DESCRIPTION_MIN_LENGTH}-${DESCRIPTION_MAX_LENGTH} characters; must not start with http:// or https://. Omit to leave it unmanaged.`,
  DESCRIPTION_RULES,
);

export const hostNameSchema = withRules(
  z.string().min(HOST_NAME_MIN_LENGTH).max(HOST_NAME_MAX_LENGTH),
  "hostName",
  `Desired operating-system hostname. Linux and other OSes: ${HOST_NAME_MIN_LENGTH}-${HOST_NAME_MAX_LENGTH} characters; '.' separates segments of letters, digits and '-'; no '..' or '--'; must not start or end with '.' or '-'. Windows additionally: at most 15 characters, no '.', not all digits (checked by the controller once it knows the OS type). Takes effect after the instance is restarted from ECS (the RestartRequired condition reports this).`,
  HOST_NAME_RULES,
);

export const passwordSecretRefSchema = keyRef("Secret", "the instance's login password").meta({
  description:
    "Secret holding the desired instance login password (8-30 characters, at least three of upper case, lower case, digits and specials). The value is applied when the Secret's resourceVersion changes and is never logged or written to status. Takes effect after the instance is restarted from ECS.",
});

export const userDataSchema = withRules(
  z.object({
    secretRef: keyRef("Secret", "the user data (raw, not Base64)").optional().meta({
      description: "Read the user data from a key of a Secret (raw content; the controller Base64-encodes it).",
    }),
    configMapRef: keyRef("ConfigMap", "the user data (raw, not Base64)").optional().meta({
      description: "Read the user data from a key of a ConfigMap (raw content; the controller Base64-encodes it).",
    }),
    inlineBase64: withRules(
      z
        .string()
        .min(4)
        .max(MAX_USER_DATA_BASE64_LENGTH)
        .regex(re(BASE64_PATTERN), { message: `inlineBase64 ${userDataBase64.message}` }),
      "inlineBase64",
      `User data given inline, standard padded Base64, at most ${MAX_USER_DATA_BYTES} bytes once decoded. Do not put secrets here; use secretRef.`,
      INLINE_USER_DATA_RULES,
    ).optional(),
  }),
  "userData",
  `Desired instance user data (cloud-init). Exactly one of secretRef, configMapRef, inlineBase64. At most ${MAX_USER_DATA_BYTES} bytes before Base64 encoding. ECS accepts it only while the instance is Stopped; it is shown after the next start but not executed again.`,
  [userDataExactlyOneSource],
);

export const securityGroupIdsSchema = withRules(
  z
    .array(
      z
        .string()
        .max(SECURITY_GROUP_ID_MAX_LENGTH)
        .regex(re(SECURITY_GROUP_ID_PATTERN), { message: "securityGroupIds entries must look like sg-bp15ed6xe1yxeycg7o01" })
        .meta({ description: "Security group ID, e.g. sg-bp15ed6xe1yxeycg7o01." }),
    )
    .min(1)
    .max(MAX_SECURITY_GROUPS_PER_INSTANCE),
  "securityGroupIds",
  `Desired security groups of the instance, as a set (1-${MAX_SECURITY_GROUPS_PER_INSTANCE} unique IDs). This REPLACES the instance's whole set: the instance leaves every group not listed. All groups must be in the instance's VPC and of one kind (basic or enterprise). The default ECS quota is 5 groups per instance.`,
  [securityGroupIdsUnique],
  { "x-kubernetes-list-type": "set" },
);

export const creditSpecificationSchema = z
  .enum(["Standard", "Unlimited"])
  .meta({ description: "Performance mode of a burstable instance (t5, t6, ...): Standard or Unlimited." });

export const networkInterfaceQueueNumberSchema = withRules(
  z.int().min(-1),
  "networkInterfaceQueueNumber",
  "Queue count of the primary network interface; -1 restores the instance type's default. At most the type's per-ENI maximum. ECS accepts it only while the instance is Stopped.",
  [queueNumberValue],
  int32,
);

export const cpuOptionsSchema = z
  .object({
    core: z
      .int()
      .min(1)
      .meta({
        description: "Number of physical CPU cores. ECS accepts only the instance type's default value. Stopped instances only.",
        ...int32,
      }),
    threadsPerCore: z
      .int()
      .min(1)
      .meta({
        description: "Threads per core; 1 disables hyper-threading. Supported by some instance types only. Stopped instances only.",
        ...int32,
      }),
    topologyType: z.enum(["ContinuousCoreToHTMapping", "DiscreteCoreToHTMapping"]).meta({
      description: "CPU topology: ContinuousCoreToHTMapping or DiscreteCoreToHTMapping. Some instance families only. Stopped instances only.",
    }),
  })
  .partial()
  .meta({ description: "Desired CPU options. Each field is managed only when set. ECS accepts them only while the instance is Stopped." });

export const privateDnsNameOptionsSchema = z
  .object({
    hostnameType: z.enum(["Custom", "IpBased", "InstanceIdBased"]).meta({
      description: "Type of the private DNS hostname: Custom, IpBased or InstanceIdBased. Windows supports only Custom (checked by the controller).",
    }),
    enableInstanceIdDnsARecord: z.boolean().meta({ description: "Resolve the instance-ID-based hostname to an IPv4 address (A record)." }),
    enableInstanceIdDnsAAAARecord: z.boolean().meta({ description: "Resolve the instance-ID-based hostname to an IPv6 address (AAAA record)." }),
    enableIpDnsARecord: z.boolean().meta({ description: "Resolve the IP-based hostname to an IPv4 address (A record)." }),
    enableIpDnsPtrRecord: z.boolean().meta({ description: "Reverse-resolve the IP address to the IP-based hostname (PTR record)." }),
  })
  .partial()
  .meta({ description: "Desired private DNS name options of the instance. Each field is managed only when set." });

export const managementPolicySchema = z.enum(["Apply", "Observe"]).default(DEFAULT_MANAGEMENT_POLICY).meta({
  description: "Apply (default): write differences to ECS. Observe: read the instance and report drift in status, never write.",
});

export const credentialsSecretRefSchema = z
  .object({
    name: objectName(
      "name",
      "Name of a Secret in the same namespace with keys ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (optional ALIBABA_CLOUD_SECURITY_TOKEN).",
    ),
  })
  .meta({
    description:
      "Credentials for this resource's ECS calls, from a Secret in the same namespace. When omitted the controller's default credential chain is used (environment, RRSA, RAM role).",
  });

export const providerConfigRefSchema = z
  .object({
    name: objectName("name", "Name of the cluster-scoped EcsProviderConfig."),
  })
  .meta({
    description:
      "The EcsProviderConfig (cluster-scoped, admin-owned) whose credentials, endpoints and constraints apply to this resource. Omitted: default. While no config named default exists, default means the controller's own credentials without constraints, unless the controller runs with --require-provider-config (the Helm chart sets it); any other missing name is ProviderConfigNotFound.",
  });

/** The spec of an EcsInstanceAttributes resource. Omitted optional fields are not managed. */
export const specSchema = z
  .object({
    instanceId: instanceIdSchema,
    regionId: regionIdSchema,
    instanceName: instanceNameSchema.optional(),
    description: descriptionSchema.optional(),
    hostName: hostNameSchema.optional(),
    passwordSecretRef: passwordSecretRefSchema.optional(),
    userData: userDataSchema.optional(),
    securityGroupIds: securityGroupIdsSchema.optional(),
    deletionProtection: z
      .boolean()
      .meta({ description: "Protect the instance from release through the console or DeleteInstance. Pay-as-you-go instances only." })
      .optional(),
    creditSpecification: creditSpecificationSchema.optional(),
    networkInterfaceQueueNumber: networkInterfaceQueueNumberSchema.optional(),
    enableJumboFrame: z
      .boolean()
      .meta({ description: "true sets MTU 8500 (jumbo frames), false MTU 1500. VPC instances of supported types only; Running or Stopped." })
      .optional(),
    cpuOptions: cpuOptionsSchema.optional(),
    privateDnsNameOptions: privateDnsNameOptionsSchema.optional(),
    managementPolicy: managementPolicySchema,
    credentialsSecretRef: credentialsSecretRefSchema.optional(),
    providerConfigRef: providerConfigRefSchema.optional(),
  })
  .meta({
    description: "Desired attributes of one ECS instance. Fields left out are not managed: the controller leaves them as they are in ECS.",
  });

/** The spec after parsing (defaults applied): what the reconciler works with. */
export type EcsInstanceAttributesSpec = z.output<typeof specSchema>;
/** The spec as a user writes it (managementPolicy optional). */
export type EcsInstanceAttributesSpecInput = z.input<typeof specSchema>;
// The API's named types, for code that embeds or generates resources (not used inside src/).
/** @public */
export type SecretKeyRef = z.output<typeof passwordSecretRefSchema>;
/** @public */
export type UserDataSource = z.output<typeof userDataSchema>;
/** @public */
export type CpuOptions = z.output<typeof cpuOptionsSchema>;
/** @public */
export type PrivateDnsNameOptions = z.output<typeof privateDnsNameOptionsSchema>;
/** @public */
export type ManagementPolicy = z.output<typeof managementPolicySchema>;
/** @public */
export type CreditSpecification = z.output<typeof creditSpecificationSchema>;
