/**
 * Seed file format (JSON; also accepted by `POST /_emulator/seed`). Everything but IDs has a
 * default, so `{ "instances": [{ "instanceId": "i-1" }] }` is a valid seed.
 */
import { z } from "zod";
import { consistencySchema } from "./consistency.js";
import { iamSeedSchema } from "./iam.js";

const status = z.enum(["Pending", "Starting", "Running", "Stopping", "Stopped"]);

export const instanceTypeSchema = z.object({
  instanceType: z.string().min(1),
  family: z.string().optional(),
  cpu: z.number().int().positive().default(2),
  memory: z.number().int().positive().default(4096),
  burstable: z.boolean().default(false),
  jumboFrame: z.boolean().default(false),
  networkEncryption: z.boolean().default(false),
  coreCount: z.number().int().positive().optional(),
  threadsPerCore: z.number().int().positive().optional(),
  threadsPerCoreModifiable: z.boolean().default(false),
  topologyTypes: z.array(z.string()).default([]),
  nestedVirtualization: z.boolean().default(false),
  maxQueueNumberPerEni: z.number().int().positive().default(2),
  totalEniQueueQuantity: z.number().int().positive().default(4),
  primaryEniQueueNumber: z.number().int().positive().default(2),
});
export type InstanceTypeInput = z.input<typeof instanceTypeSchema>;

export const vpcSchema = z.object({
  vpcId: z.string().min(1),
  regionId: z.string().default("cn-hangzhou"),
  vpcName: z.string().default(""),
  cidrBlock: z.string().default("172.16.0.0/12"),
});
export type VpcInput = z.input<typeof vpcSchema>;

export const securityGroupSchema = z.object({
  securityGroupId: z.string().min(1),
  regionId: z.string().default("cn-hangzhou"),
  /** Empty = a classic-network group. */
  vpcId: z.string().default(""),
  securityGroupType: z.enum(["normal", "enterprise"]).default("normal"),
  securityGroupName: z.string().default(""),
  description: z.string().default(""),
  /** Owned by a cloud product (e.g. ACK): cannot be assigned (`InvalidOperation.ResourceManagedByCloudProduct`). */
  serviceManaged: z.boolean().default(false),
  /** Number of rules; the sum over an instance's groups is capped by `account.aclRuleLimitPerEni`. */
  ruleCount: z.number().int().nonnegative().default(0),
  /** Capacity: instances (basic) or ENIs (enterprise) the group can hold. */
  capacity: z.number().int().positive().optional(),
  tags: z.array(z.object({ key: z.string(), value: z.string().default("") })).default([]),
});
export type SecurityGroupInput = z.input<typeof securityGroupSchema>;

export const privateDnsSchema = z.object({
  hostnameType: z.enum(["Custom", "IpBased", "InstanceIdBased"]).default("Custom"),
  enableInstanceIdDnsARecord: z.boolean().default(false),
  enableInstanceIdDnsAAAARecord: z.boolean().default(false),
  enableIpDnsARecord: z.boolean().default(false),
  enableIpDnsPtrRecord: z.boolean().default(false),
});

export const instanceSchema = z.object({
  instanceId: z.string().min(1),
  regionId: z.string().default("cn-hangzhou"),
  zoneId: z.string().optional(),
  instanceName: z.string().optional(),
  description: z.string().default(""),
  hostName: z.string().optional(),
  status: status.default("Running"),
  osType: z.enum(["linux", "windows"]).default("linux"),
  osName: z.string().optional(),
  imageId: z.string().default("m-emulator-image"),
  /** The image supports cloud-init (UserData); `false` gives `ImageNotSupportCloudInit`. */
  imageSupportsCloudInit: z.boolean().default(true),
  instanceType: z.string().default("ecs.g7.large"),
  instanceChargeType: z.enum(["PostPaid", "PrePaid"]).default("PostPaid"),
  spotStrategy: z.enum(["NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo"]).default("NoSpot"),
  instanceNetworkType: z.enum(["vpc", "classic"]).default("vpc"),
  ioOptimized: z.boolean().default(true),
  vpcId: z.string().optional(),
  vSwitchId: z.string().optional(),
  privateIpAddress: z.string().optional(),
  securityGroupIds: z.array(z.string()).default([]),
  creditSpecification: z.enum(["", "Standard", "Unlimited"]).optional(),
  deletionProtection: z.boolean().default(false),
  recyclable: z.boolean().default(false),
  enableJumboFrame: z.boolean().default(false),
  enableNetworkEncryption: z.boolean().default(false),
  cpuOptions: z
    .object({
      core: z.number().int().positive().optional(),
      threadsPerCore: z.number().int().positive().optional(),
      topologyType: z.string().default(""),
      nestedVirtualization: z.string().default(""),
    })
    .optional(),
  privateDnsNameOptions: privateDnsSchema.optional(),
  /** Primary ENI queue count; defaults to the type's `primaryEniQueueNumber`. */
  networkInterfaceQueueNumber: z.number().int().positive().optional(),
  /** Queue counts of secondary ENIs (count toward the type's total). */
  secondaryEniQueueNumbers: z.array(z.number().int().positive()).default([]),
  operationLocks: z.array(z.object({ lockReason: z.string(), lockMsg: z.string().default("") })).default([]),
  tags: z.array(z.object({ key: z.string(), value: z.string().default("") })).default([]),
  /** Base64 user data ("" = none). */
  userData: z.string().default(""),
  /** Plain-text password to seed; stored only as a salted hash. */
  password: z.string().optional(),
});
export type InstanceInput = z.input<typeof instanceSchema>;

export const accountSchema = z.object({
  /** false → `InvalidUserData.Forbidden` for any UserData. */
  userDataAllowed: z.boolean().default(true),
  /**
   * true → UserData only while Stopped (`IncorrectInstanceStatus` otherwise), as older API pages said;
   * the current page and SDK model give no state rule (docs/emulator.md "Rules and their sources").
   */
  userDataRequiresStopped: z.boolean().default(false),
  /** true → `.` allowed in InstanceName, as the 2021 error description said; the current metadata does not list it. */
  instanceNamePeriodAllowed: z.boolean().default(false),
  // The emulator's trigger → code choices (docs/emulator.md), switchable so a client can be tested
  // against the alternatives.
  /** A second, different HostName while the first awaits a restart: rejected (default) or accepted. */
  secondHostNameBeforeRestart: z.enum(["InvalidInstanceStatus.NeedRestart", "accept"]).default("InvalidInstanceStatus.NeedRestart"),
  /** A security group from another region. */
  securityGroupOtherRegionCode: z.enum(["InvalidOperation.InvalidRegion", "InvalidSecurityGroupId.NotFound"]).default("InvalidOperation.InvalidRegion"),
  /** Joining a full basic security group. */
  fullBasicGroupCode: z.enum(["OperationDenied", "SecurityGroupInstanceLimitExceed"]).default("OperationDenied"),
  /** Recyclable is invitation-only: false → `InvalidParameter.RecycleBin`. */
  recycleBinAllowed: z.boolean().default(false),
  /** EnableNetworkEncryption is invitation-only: false → `InvalidOperation.UserNotSupportNetworkEncryption`. */
  networkEncryptionAllowed: z.boolean().default(false),
  /** Account overdue: CreditSpecification changes give `InvalidInstanceStatus.CreditSpecRestricted`. */
  creditOverdue: z.boolean().default(false),
  /** Security groups per instance (`JoinedGroupLimitExceed` beyond it). */
  securityGroupQuotaPerInstance: z.number().int().positive().default(5),
  /** Sum of rule counts over an instance's groups (`AclLimitExceed` beyond it). */
  aclRuleLimitPerEni: z.number().int().positive().default(1000),
  /** Default capacity of a basic group, in instances (`OperationDenied` when full). */
  basicGroupInstanceLimit: z.number().int().positive().default(2000),
  /** Default capacity of an enterprise group, in ENIs (`InvalidOperation.EniCountExceeded` when full). */
  enterpriseGroupEniLimit: z.number().int().positive().default(65536),
});
export type AccountSettings = z.output<typeof accountSchema>;

export const delaysSchema = z.object({
  /** Stopping → Stopped, ms. */
  stopMs: z.number().int().nonnegative().default(1000),
  /** Starting → Running, ms. */
  startMs: z.number().int().nonnegative().default(1000),
});
export type TransitionDelays = z.output<typeof delaysSchema>;

export const seedSchema = z.object({
  account: accountSchema.partial().optional(),
  delays: delaysSchema.partial().optional(),
  /** Read-after-write lag and stale reads (src/emulator/consistency.ts); replaces the current settings. */
  consistency: consistencySchema.optional(),
  /** Accounts, RAM users, roles, OIDC providers, STS lifetime (src/emulator/iam.ts); merged by key. */
  identity: iamSeedSchema.optional(),
  instanceTypes: z.array(instanceTypeSchema).default([]),
  vpcs: z.array(vpcSchema).default([]),
  securityGroups: z.array(securityGroupSchema).default([]),
  instances: z.array(instanceSchema).default([]),
});
export type SeedInput = z.input<typeof seedSchema>;

/** Admin PATCH of an instance: any subset of these fields (no defaults are applied). */
export const instancePatchSchema = z
  .object({
    instanceName: z.string(),
    description: z.string(),
    hostName: z.string(),
    status,
    osType: z.enum(["linux", "windows"]),
    osName: z.string(),
    imageId: z.string(),
    imageSupportsCloudInit: z.boolean(),
    instanceType: z.string(),
    instanceChargeType: z.enum(["PostPaid", "PrePaid"]),
    spotStrategy: z.enum(["NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo"]),
    instanceNetworkType: z.enum(["vpc", "classic"]),
    ioOptimized: z.boolean(),
    vpcId: z.string(),
    vSwitchId: z.string(),
    securityGroupIds: z.array(z.string()),
    creditSpecification: z.enum(["", "Standard", "Unlimited"]),
    deletionProtection: z.boolean(),
    recyclable: z.boolean(),
    enableJumboFrame: z.boolean(),
    enableNetworkEncryption: z.boolean(),
    cpuOptions: z
      .object({
        core: z.number().int().positive(),
        threadsPerCore: z.number().int().positive(),
        topologyType: z.string(),
        nestedVirtualization: z.string(),
      })
      .partial(),
    privateDnsNameOptions: z
      .object({
        hostnameType: z.enum(["Custom", "IpBased", "InstanceIdBased"]),
        enableInstanceIdDnsARecord: z.boolean(),
        enableInstanceIdDnsAAAARecord: z.boolean(),
        enableIpDnsARecord: z.boolean(),
        enableIpDnsPtrRecord: z.boolean(),
      })
      .partial(),
    networkInterfaceQueueNumber: z.number().int().positive(),
    secondaryEniQueueNumbers: z.array(z.number().int().positive()),
    operationLocks: z.array(z.object({ lockReason: z.string(), lockMsg: z.string().default("") })),
    tags: z.array(z.object({ key: z.string(), value: z.string().default("") })),
    userData: z.string(),
    password: z.string(),
    restartPending: z.object({ password: z.boolean(), hostName: z.boolean(), userData: z.boolean() }).partial(),
  })
  .partial()
  .strict();
export type InstancePatch = z.input<typeof instancePatchSchema>;

/**
 * Admin PATCH of a security group: any subset of these fields, merged into the stored group. Written
 * out without defaults on purpose: `securityGroupSchema.partial()` would still fill every absent key
 * with its default (zod applies `.default()` inside `.optional()`), turning a description-only PATCH
 * into a reset of VPC, type, name, rule count and tags.
 */
export const securityGroupPatchSchema = z
  .object({
    regionId: z.string(),
    vpcId: z.string(),
    securityGroupType: z.enum(["normal", "enterprise"]),
    securityGroupName: z.string(),
    description: z.string(),
    serviceManaged: z.boolean(),
    ruleCount: z.number().int().nonnegative(),
    capacity: z.number().int().positive(),
    tags: z.array(z.object({ key: z.string(), value: z.string().default("") })),
  })
  .partial()
  .strict();
