/**
 * `status` of EcsInstanceAttributes (written only by the controller through the status subresource).
 * Types are inferred from the schemas; the CRD's status schema is generated from them.
 *
 * Nothing in status may contain a secret value, a hash of one, a RequestId or a per-attempt timestamp
 * inside a message.
 */
import { z } from "zod";
import {
  CONDITION_MESSAGE_MAX_LENGTH,
  CONDITION_REASON_MAX_LENGTH,
  CONDITION_REASON_PATTERN,
  CONDITION_TYPE_MAX_LENGTH,
  CONDITION_TYPE_PATTERN,
} from "./constants.js";

/** An RFC 3339 timestamp (metav1.Time). The CRD keeps `format: date-time` and drops zod's pattern. */
function timestamp(description: string) {
  return z.iso.datetime({ offset: true }).meta({ description });
}

const int64 = { format: "int64" } as const;
const int32 = { format: "int32" } as const;

export const conditionStatusSchema = z.enum(["True", "False", "Unknown"]);
export type ConditionStatus = z.output<typeof conditionStatusSchema>;

/** metav1.Condition. */
export const conditionSchema = z
  .object({
    type: z.string().max(CONDITION_TYPE_MAX_LENGTH).regex(new RegExp(CONDITION_TYPE_PATTERN)).meta({
      description:
        "Type of condition in CamelCase: Ready, Synced, RestartRequired, or the kstatus conditions Reconciling and Stalled (present only while True).",
    }),
    status: conditionStatusSchema.meta({ description: "Status of the condition: True, False or Unknown." }),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .meta({
        description: "metadata.generation the condition was computed from.",
        ...int64,
      }),
    lastTransitionTime: timestamp("Last time the condition changed status."),
    reason: z.string().min(1).max(CONDITION_REASON_MAX_LENGTH).regex(new RegExp(CONDITION_REASON_PATTERN)).meta({
      description: "Programmatic, CamelCase reason for the condition's last transition (see docs/api.md for the vocabulary).",
    }),
    message: z.string().max(CONDITION_MESSAGE_MAX_LENGTH).meta({
      description: "Human-readable detail. Never contains RequestIds or secret values.",
    }),
  })
  .meta({ description: "A metav1.Condition." });
export type Condition = z.output<typeof conditionSchema>;

export const ecsErrorSchema = z
  .object({
    code: z
      .string()
      .max(256)
      .meta({ description: "Raw ECS error code, e.g. InvalidHostName.Malformed, Throttling.User, or a transport error such as ECONNREFUSED." }),
    message: z.string().max(4096).meta({ description: "ECS error message (without RequestId)." }),
    retryable: z.boolean().meta({
      description: "Whether the controller retries on its own (transient, throttling, wait-for-state) or waits for a spec/credentials change (terminal).",
    }),
    lastTime: timestamp("When this error was last seen."),
    action: z.string().max(128).optional().meta({ description: "ECS API action that failed, e.g. ModifyInstanceAttribute." }),
  })
  .meta({ description: "The most recent ECS error for this resource; cleared after a successful reconcile." });
export type EcsErrorStatus = z.output<typeof ecsErrorSchema>;

const observedString = (description: string, max = 1024) => z.string().max(max).optional().meta({ description });
const observedBool = (description: string) => z.boolean().optional().meta({ description });

export const atProviderSchema = z
  .object({
    instanceName: observedString("Current InstanceName."),
    description: observedString("Current Description."),
    hostName: observedString("Current HostName."),
    status: observedString("Instance status: Pending, Starting, Running, Stopping or Stopped.", 64),
    osType: observedString("Operating system type: linux or windows.", 64),
    instanceType: observedString("Instance type, e.g. ecs.g5.large.", 128),
    zoneId: observedString("Zone of the instance, e.g. cn-hangzhou-g.", 128),
    instanceChargeType: observedString("Billing method: PostPaid or PrePaid.", 64),
    securityGroupIds: z.array(z.string().max(128)).max(64).optional().meta({ description: "Current security groups.", "x-kubernetes-list-type": "atomic" }),
    deletionProtection: observedBool("Current deletion protection."),
    creditSpecification: observedString("Current credit specification (empty on non-burstable types).", 64),
    networkInterfaceQueueNumber: z
      .int()
      .optional()
      .meta({ description: "Current queue count of the primary ENI.", ...int32 }),
    enableJumboFrame: observedBool("Current jumbo-frame setting."),
    cpuOptions: z
      .object({
        core: z
          .int()
          .optional()
          .meta({ description: "Current core count (CoreCount).", ...int32 }),
        threadsPerCore: z
          .int()
          .optional()
          .meta({ description: "Current threads per core.", ...int32 }),
        topologyType: observedString("Current CPU topology type.", 64),
      })
      .optional()
      .meta({ description: "Current CPU options." }),
    privateDnsNameOptions: z
      .object({
        hostnameType: observedString("Current hostname type.", 64),
        enableInstanceIdDnsARecord: observedBool("Current setting."),
        enableInstanceIdDnsAAAARecord: observedBool("Current setting."),
        enableIpDnsARecord: observedBool("Current setting."),
        enableIpDnsPtrRecord: observedBool("Current setting."),
      })
      .optional()
      .meta({ description: "Current private DNS name options." }),
    userDataPresent: observedBool("Whether the instance has user data (the content is never copied to status)."),
    lockReasons: z
      .array(z.string().max(128))
      .max(16)
      .optional()
      .meta({ description: "OperationLocks reasons (security, financial, ...); empty when unlocked.", "x-kubernetes-list-type": "atomic" }),
  })
  .meta({ description: "Attributes of the instance as last read from ECS." });
export type AtProvider = z.output<typeof atProviderSchema>;

/** Where a write-only value (password, user data) came from when it was last applied. */
export const appliedSourceSchema = z
  .object({
    kind: z.enum(["Secret", "ConfigMap", "Inline"]).meta({ description: "Secret, ConfigMap, or Inline (spec.userData.inlineBase64)." }),
    name: z.string().max(253).optional().meta({ description: "Name of the Secret or ConfigMap." }),
    key: z.string().max(253).optional().meta({ description: "Data key within it." }),
    uid: z.string().max(64).optional().meta({ description: "metadata.uid of the Secret or ConfigMap (detects delete and re-create)." }),
    resourceVersion: z.string().max(64).optional().meta({ description: "metadata.resourceVersion of the Secret or ConfigMap that was applied." }),
    generation: z
      .int()
      .min(0)
      .optional()
      .meta({ description: "For Inline: metadata.generation of this resource whose value was applied.", ...int64 }),
    appliedTime: timestamp("When the value was sent to ECS."),
  })
  .meta({ description: "Identifies the version applied; never the value or a hash of it." });
export type AppliedSource = z.output<typeof appliedSourceSchema>;

export const restartHoldSchema = z
  .object({
    field: z.string().max(64).meta({ description: "The field held (its name in pendingChanges)." }),
    cause: z.enum(["Applied", "NeedRestart", "NeedsStopped"]).meta({
      description:
        "Applied: the value was sent and ECS may show it only after a restart. NeedRestart: ECS refused a change until the instance restarts. NeedsStopped: ECS refused the field while the instance was not Stopped; it is sent once the instance is Stopped.",
    }),
    value: z.string().max(256).optional().meta({ description: "The value sent (Applied; never set for secret fields)." }),
    since: timestamp(
      "When the hold began; it ends when the instance's StartTime is later, or differs from startTime (NeedsStopped also when the field is applied).",
    ),
    startTime: z.string().max(64).optional().meta({ description: "The instance's StartTime (as ECS reports it) when the hold began." }),
  })
  .meta({ description: "A field that waits for the instance to be restarted from ECS, or (NeedsStopped) to be Stopped." });
export type RestartHold = z.output<typeof restartHoldSchema>;

export const statusSchema = z
  .object({
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .meta({ description: "metadata.generation the status reflects.", ...int64 }),
    conditions: z
      .array(conditionSchema)
      .max(16)
      .optional()
      .meta({
        description: "Ready, Synced and RestartRequired conditions.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
      }),
    error: ecsErrorSchema.optional(),
    atProvider: atProviderSchema.optional(),
    pendingChanges: z
      .array(z.string().max(64))
      .max(32)
      .optional()
      .meta({ description: "Spec fields whose desired value differs from ECS right now.", "x-kubernetes-list-type": "atomic" }),
    lastSyncTime: timestamp(
      "A successful read from ECS: set whenever status changes, and otherwise refreshed at most every max(resync period / 2, 5 min), so idle resyncs do not rewrite every status.",
    ).optional(),
    restartHolds: z
      .array(restartHoldSchema)
      .max(8)
      .optional()
      .meta({
        description:
          "Fields that wait for a restart of the instance (not sent again, nor reported as drift, until DescribeInstances shows a later StartTime), or for it to be Stopped (NeedsStopped).",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["field"],
      }),
    appliedSecretVersions: z
      .object({
        password: appliedSourceSchema.optional().meta({ description: "Source of the password last applied." }),
        userData: appliedSourceSchema.optional().meta({ description: "Source of the user data last applied." }),
      })
      .optional()
      .meta({ description: "Which version of the password and user data sources was last applied (write-only values cannot be read back from ECS)." }),
  })
  .meta({ description: "Observed state, written by the controller." });
export type EcsInstanceAttributesStatus = z.output<typeof statusSchema>;
