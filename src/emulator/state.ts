/**
 * In-memory cloud state: instances, security groups, VPCs, account settings, and the instance
 * state machine (Pending, Starting, Running, Stopping, Stopped) with configurable delays.
 */
import { createHash } from "node:crypto";
import { BUILTIN_INSTANCE_TYPES, genericInstanceType, type InstanceTypeSpec } from "./catalog.js";
import { Consistency, type ConsistencyInput } from "./consistency.js";
import { ecsError } from "./errors.js";
import { hashPassword } from "./password.js";
import { Iam } from "./iam.js";
import { mergeTags, uniqueTags, type Tag } from "./tags.js";
import {
  accountSchema,
  delaysSchema,
  instancePatchSchema,
  instanceSchema,
  instanceTypeSchema,
  securityGroupSchema,
  securityGroupPatchSchema,
  seedSchema,
  vpcSchema,
  type AccountSettings,
  type InstanceInput,
  type InstanceTypeInput,
  type SecurityGroupInput,
  type TransitionDelays,
  type VpcInput,
} from "./seed.js";

export type InstanceStatus = "Pending" | "Starting" | "Running" | "Stopping" | "Stopped";

export interface PrivateDnsNameOptions {
  hostnameType: "Custom" | "IpBased" | "InstanceIdBased";
  enableInstanceIdDnsARecord: boolean;
  enableInstanceIdDnsAAAARecord: boolean;
  enableIpDnsARecord: boolean;
  enableIpDnsPtrRecord: boolean;
}

export interface Instance {
  instanceId: string;
  regionId: string;
  zoneId: string;
  instanceName: string;
  description: string;
  hostName: string;
  status: InstanceStatus;
  osType: "linux" | "windows";
  osName: string;
  imageId: string;
  imageSupportsCloudInit: boolean;
  instanceType: string;
  instanceChargeType: "PostPaid" | "PrePaid";
  spotStrategy: "NoSpot" | "SpotWithPriceLimit" | "SpotAsPriceGo";
  instanceNetworkType: "vpc" | "classic";
  ioOptimized: boolean;
  vpcId: string;
  vSwitchId: string;
  privateIpAddress: string;
  securityGroupIds: string[];
  creditSpecification: "" | "Standard" | "Unlimited";
  deletionProtection: boolean;
  recyclable: boolean;
  enableJumboFrame: boolean;
  enableNetworkEncryption: boolean;
  cpuOptions: { core: number; threadsPerCore: number; topologyType: string; nestedVirtualization: string };
  privateDnsNameOptions: PrivateDnsNameOptions;
  primaryEni: { networkInterfaceId: string; macAddress: string; queueNumber: number };
  secondaryEniQueueNumbers: number[];
  operationLocks: Array<{ lockReason: string; lockMsg: string }>;
  tags: Array<{ key: string; value: string }>;
  userData: string;
  /** Salted hash; never leaves the emulator. */
  passwordHash: string | undefined;
  passwordChangedAt: string | undefined;
  /** Changes that take effect on the next StartInstance / RebootInstance. */
  restartPending: { password: boolean; hostName: boolean; userData: boolean };
  creationTime: string;
  startTime: string;
  /** Number of completed starts (StartInstance or RebootInstance); lets tests see restarts. */
  restartCount: number;
}

export interface SecurityGroup {
  securityGroupId: string;
  regionId: string;
  vpcId: string;
  securityGroupType: "normal" | "enterprise";
  securityGroupName: string;
  description: string;
  serviceManaged: boolean;
  ruleCount: number;
  capacity: number | undefined;
  tags: Array<{ key: string; value: string }>;
  creationTime: string;
}

export interface Vpc {
  vpcId: string;
  regionId: string;
  vpcName: string;
  cidrBlock: string;
}

/** What the admin API returns for an instance: everything except the password hash. */
export type InstanceView = Omit<Instance, "passwordHash"> & { passwordSet: boolean };

export function instanceView(i: Instance): InstanceView {
  const { passwordHash, ...rest } = i;
  return structuredClone({ ...rest, passwordSet: passwordHash !== undefined });
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function hex(seed: string, len: number): string {
  return createHash("sha1").update(seed).digest("hex").slice(0, len);
}

function ipFor(id: string): string {
  const h = createHash("sha1").update(id).digest();
  return `172.16.${h[0]! % 250}.${(h[1]! % 250) + 2}`;
}

export interface StoreOptions {
  delays?: Partial<TransitionDelays>;
  now?: () => number;
  /** Read-after-write lag and stale reads at startup (default: none). */
  consistency?: ConsistencyInput;
  /** Randomness for lags and stale reads when the consistency settings give no `randomSeed`. */
  random?: () => number;
}

type ParsedInstanceInput = ReturnType<typeof instanceSchema.parse>;

const DEFAULT_PRIVATE_DNS_NAME_OPTIONS: PrivateDnsNameOptions = {
  hostnameType: "Custom",
  enableInstanceIdDnsARecord: false,
  enableInstanceIdDnsAAAARecord: false,
  enableIpDnsARecord: false,
  enableIpDnsPtrRecord: false,
};

/** CPU options as given, the instance type's values where not. */
function cpuOptionsOf(i: ParsedInstanceInput, type: InstanceTypeSpec): Instance["cpuOptions"] {
  return {
    core: i.cpuOptions?.core ?? type.coreCount,
    threadsPerCore: i.cpuOptions?.threadsPerCore ?? type.threadsPerCore,
    topologyType: i.cpuOptions?.topologyType ?? "",
    nestedVirtualization: i.cpuOptions?.nestedVirtualization ?? "",
  };
}

/** The primary ENI: ID and MAC derived from the instance ID (stable across runs), the type's queue default. */
function primaryEniOf(i: ParsedInstanceInput, type: InstanceTypeSpec): Instance["primaryEni"] {
  return {
    networkInterfaceId: `eni-${hex(i.instanceId, 20)}`,
    macAddress: `00:16:3e:${hex(i.instanceId, 6).match(/../g)!.join(":")}`,
    queueNumber: i.networkInterfaceQueueNumber ?? type.primaryEniQueueNumber,
  };
}

export class Store {
  readonly instances = new Map<string, Instance>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  readonly vpcs = new Map<string, Vpc>();
  readonly instanceTypes = new Map<string, InstanceTypeSpec>();
  account: AccountSettings;
  delays: TransitionDelays;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly now: () => number;
  /** What the Describe actions show (src/emulator/consistency.ts); writes use the true state above. */
  readonly consistency: Consistency;
  /** Accounts, RAM users and roles, issued STS sessions (src/emulator/iam.ts). */
  readonly iam: Iam;

  constructor(options: StoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.iam = new Iam();
    this.consistency = new Consistency({ now: this.now, ...(options.random ? { random: options.random } : {}) }, options.consistency ?? {});
    this.account = accountSchema.parse({});
    this.delays = delaysSchema.parse(options.delays ?? {});
    for (const t of BUILTIN_INSTANCE_TYPES) this.instanceTypes.set(t.instanceType, t);
  }

  /** Drops everything (instances, groups, VPCs, custom types, account settings) and cancels transitions. */
  clear(delays?: Partial<TransitionDelays>): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.instances.clear();
    this.securityGroups.clear();
    this.vpcs.clear();
    this.instanceTypes.clear();
    for (const t of BUILTIN_INSTANCE_TYPES) this.instanceTypes.set(t.instanceType, t);
    this.account = accountSchema.parse({});
    if (delays) this.delays = delaysSchema.parse(delays);
    this.consistency.reset();
    this.iam.clear();
  }

  typeSpec(instanceType: string): InstanceTypeSpec {
    return this.instanceTypes.get(instanceType) ?? genericInstanceType(instanceType);
  }

  /** Adds (or replaces, by ID) everything in a seed. Returns the counts applied. */
  applySeed(input: unknown): { instances: number; securityGroups: number; vpcs: number } {
    const seed = seedSchema.parse(input);
    if (seed.account) this.patchAccount(seed.account);
    if (seed.delays) this.delays = delaysSchema.parse({ ...this.delays, ...seed.delays });
    if (seed.consistency) this.consistency.configure(seed.consistency);
    if (seed.identity) this.iam.applySeed(seed.identity);
    for (const t of seed.instanceTypes) this.putInstanceType(t);
    for (const v of seed.vpcs) this.putVpc(v);
    for (const g of seed.securityGroups) this.putSecurityGroup(g);
    for (const i of seed.instances) this.putInstance(i);
    return { instances: seed.instances.length, securityGroups: seed.securityGroups.length, vpcs: seed.vpcs.length };
  }

  patchAccount(patch: unknown): AccountSettings {
    this.account = accountSchema.parse({ ...this.account, ...(patch as object) });
    return this.account;
  }

  patchDelays(patch: unknown): TransitionDelays {
    this.delays = delaysSchema.parse({ ...this.delays, ...(patch as object) });
    return this.delays;
  }

  putInstanceType(input: InstanceTypeInput): InstanceTypeSpec {
    const t = instanceTypeSchema.parse(input);
    const threadsPerCore = t.threadsPerCore ?? (t.cpu >= 2 ? 2 : 1);
    const full: InstanceTypeSpec = {
      ...t,
      family: t.family ?? t.instanceType.split(".").slice(0, 2).join("."),
      threadsPerCore,
      coreCount: t.coreCount ?? Math.max(1, Math.floor(t.cpu / threadsPerCore)),
    };
    this.instanceTypes.set(full.instanceType, full);
    return full;
  }

  putVpc(input: VpcInput): Vpc {
    const v = vpcSchema.parse(input);
    this.vpcs.set(v.vpcId, v);
    return v;
  }

  putSecurityGroup(input: SecurityGroupInput): SecurityGroup {
    const g = securityGroupSchema.parse(input);
    const sg: SecurityGroup = { ...g, capacity: g.capacity, creationTime: isoSeconds(this.now()) };
    this.securityGroups.set(sg.securityGroupId, sg);
    if (sg.vpcId && !this.vpcs.has(sg.vpcId)) this.putVpc({ vpcId: sg.vpcId, regionId: sg.regionId });
    return sg;
  }

  putInstance(input: InstanceInput): Instance {
    const i = instanceSchema.parse(input);
    const type = this.typeSpec(i.instanceType);
    const id = i.instanceId;
    const vpc = i.instanceNetworkType === "vpc" ? (i.vpcId ?? this.defaultVpcFor(i.securityGroupIds)) : "";
    const now = this.now();
    const inst: Instance = {
      instanceId: id,
      regionId: i.regionId,
      zoneId: i.zoneId ?? `${i.regionId}-g`,
      instanceName: i.instanceName ?? id,
      description: i.description,
      hostName: i.hostName ?? `iZ${id.replace(/^i-/, "")}Z`.slice(0, 60),
      status: i.status,
      osType: i.osType,
      osName: i.osName ?? (i.osType === "windows" ? "Windows Server 2022" : "Alibaba Cloud Linux 3"),
      imageId: i.imageId,
      imageSupportsCloudInit: i.imageSupportsCloudInit,
      instanceType: i.instanceType,
      instanceChargeType: i.instanceChargeType,
      spotStrategy: i.spotStrategy,
      instanceNetworkType: i.instanceNetworkType,
      ioOptimized: i.ioOptimized,
      vpcId: vpc,
      vSwitchId: i.vSwitchId ?? (vpc ? `vsw-${hex(vpc, 12)}` : ""),
      privateIpAddress: i.privateIpAddress ?? ipFor(id),
      securityGroupIds: [...i.securityGroupIds],
      creditSpecification: i.creditSpecification ?? (type.burstable ? "Standard" : ""),
      deletionProtection: i.deletionProtection,
      recyclable: i.recyclable,
      enableJumboFrame: i.enableJumboFrame,
      enableNetworkEncryption: i.enableNetworkEncryption,
      cpuOptions: cpuOptionsOf(i, type),
      privateDnsNameOptions: { ...DEFAULT_PRIVATE_DNS_NAME_OPTIONS, ...i.privateDnsNameOptions },
      primaryEni: primaryEniOf(i, type),
      secondaryEniQueueNumbers: [...i.secondaryEniQueueNumbers],
      operationLocks: i.operationLocks,
      tags: uniqueTags(i.tags),
      userData: i.userData,
      passwordHash: i.password !== undefined ? hashPassword(i.password) : undefined,
      passwordChangedAt: undefined,
      restartPending: { password: false, hostName: false, userData: false },
      creationTime: isoSeconds(now),
      startTime: isoSeconds(now),
      restartCount: 0,
    };
    this.cancelTransition(id);
    this.instances.set(id, inst);
    this.consistency.forget(id);
    this.consistency.recordVersion(inst);
    if (vpc && !this.vpcs.has(vpc)) this.putVpc({ vpcId: vpc, regionId: inst.regionId });
    return inst;
  }

  private defaultVpcFor(groupIds: readonly string[]): string {
    for (const g of groupIds) {
      const sg = this.securityGroups.get(g);
      if (sg?.vpcId) return sg.vpcId;
    }
    return "vpc-emulator-default";
  }

  /**
   * Admin patch of any subset of fields. `status` is forced at once (cancelling a transition);
   * `password` is hashed; `networkInterfaceQueueNumber` sets the primary ENI's queues.
   */
  patchInstance(id: string, input: unknown): Instance {
    const inst = this.getInstance(id);
    const p = instancePatchSchema.parse(input);
    const { cpuOptions, privateDnsNameOptions, networkInterfaceQueueNumber, password, restartPending, status, ...plain } = p;
    Object.assign(inst, plain);
    if (plain.tags) inst.tags = uniqueTags(inst.tags);
    if (cpuOptions) Object.assign(inst.cpuOptions, cpuOptions);
    if (privateDnsNameOptions) Object.assign(inst.privateDnsNameOptions, privateDnsNameOptions);
    if (restartPending) Object.assign(inst.restartPending, restartPending);
    if (networkInterfaceQueueNumber !== undefined) inst.primaryEni.queueNumber = networkInterfaceQueueNumber;
    if (password !== undefined) inst.passwordHash = hashPassword(password);
    if (status !== undefined) this.setStatus(id, status);
    // Admin writes model changes made elsewhere (console, another tool): visible at once.
    this.consistency.forget(id);
    this.consistency.recordVersion(inst);
    return inst;
  }

  /**
   * Admin: sets and removes tags (JSON merge patch: a string sets the key, `null` removes it), or
   * replaces them all. Tags change outside ModifyInstanceAttribute (TagResources, the console), so
   * reads see them at once, like any admin write.
   */
  patchTags(id: string, patch: Readonly<Record<string, string | null>>, opts: { replace?: boolean } = {}): Tag[] {
    const inst = this.getInstance(id);
    inst.tags = mergeTags(opts.replace ? [] : inst.tags, patch);
    this.consistency.forget(id);
    this.consistency.recordVersion(inst);
    return inst.tags;
  }

  /** A ModifyInstanceAttribute changed `after` (was `before`): lag its reads as configured. */
  recordWrite(before: Instance, after: Instance): void {
    this.consistency.recordWrite(before, after);
  }

  /** Maps instances to what one call of a Describe action shows (lagged or stale). */
  reader(action: string): (inst: Instance) => Instance {
    return this.consistency.reader(action);
  }

  patchSecurityGroup(id: string, input: unknown): SecurityGroup {
    const sg = this.securityGroups.get(id);
    if (!sg) throw ecsError("InvalidSecurityGroupId.NotFound");
    Object.assign(sg, securityGroupPatchSchema.parse(input));
    return sg;
  }

  getInstance(id: string): Instance {
    const i = this.instances.get(id);
    if (!i) throw ecsError("InvalidInstanceId.NotFound");
    return i;
  }

  deleteInstance(id: string): boolean {
    this.cancelTransition(id);
    this.consistency.deleted(id);
    return this.instances.delete(id);
  }

  deleteSecurityGroup(id: string): boolean {
    return this.securityGroups.delete(id);
  }

  /** Instances (basic groups) or primary ENIs (enterprise groups) currently in a group. */
  membersOf(groupId: string): number {
    let n = 0;
    for (const i of this.instances.values()) if (i.securityGroupIds.includes(groupId)) n++;
    return n;
  }

  // --- state machine ---------------------------------------------------------------------------

  private cancelTransition(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  private schedule(id: string, delayMs: number, fn: () => void): void {
    this.cancelTransition(id);
    if (delayMs <= 0) {
      fn();
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(id);
      if (this.instances.has(id)) fn();
    }, delayMs);
    t.unref();
    this.timers.set(id, t);
  }

  private completeStart(inst: Instance): void {
    inst.status = "Running";
    inst.startTime = isoSeconds(this.now());
    inst.restartPending = { password: false, hostName: false, userData: false };
    inst.restartCount++;
    this.consistency.restarted(inst);
  }

  /** StartInstance: Stopped → Starting → Running. */
  start(id: string): void {
    const inst = this.getInstance(id);
    if (inst.status !== "Stopped") throw ecsError("IncorrectInstanceStatus");
    inst.status = "Starting";
    this.schedule(id, this.delays.startMs, () => this.completeStart(inst));
  }

  /** StopInstance: Running → Stopping → Stopped. */
  stop(id: string): void {
    const inst = this.getInstance(id);
    if (inst.status !== "Running") throw ecsError("IncorrectInstanceStatus");
    inst.status = "Stopping";
    this.schedule(id, this.delays.stopMs, () => {
      inst.status = "Stopped";
    });
  }

  /** RebootInstance: Running → Stopping → Starting → Running (applies pending password/hostname). */
  reboot(id: string): void {
    const inst = this.getInstance(id);
    if (inst.status !== "Running") throw ecsError("IncorrectInstanceStatus");
    inst.status = "Stopping";
    this.schedule(id, this.delays.stopMs, () => {
      inst.status = "Starting";
      this.schedule(id, this.delays.startMs, () => this.completeStart(inst));
    });
  }

  /** Admin: force a status at once, cancelling any transition in flight. */
  setStatus(id: string, status: InstanceStatus): void {
    const inst = this.getInstance(id);
    this.cancelTransition(id);
    inst.status = status;
  }

  /** True while a timed transition is pending for the instance. */
  inTransition(id: string): boolean {
    return this.timers.has(id);
  }
}
