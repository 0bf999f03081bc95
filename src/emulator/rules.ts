/**
 * Server-side rules of ModifyInstanceAttribute. `planModify` validates every parameter first and
 * returns the mutations to apply; nothing is written unless every rule passes, so a rejected call
 * changes nothing (atomic writes).
 *
 * The official docs list the codes but not always which violation yields which; where the
 * mapping is our choice it is marked "(choice)" and listed in docs/emulator.md.
 */
import type { InstanceTypeSpec } from "./catalog.js";
import { ecsError, type EcsError, type KnownErrorCode } from "./errors.js";
import { hashPassword } from "./password.js";
import type { Params } from "./protocol.js";
import type { AccountSettings } from "./seed.js";
import type { Instance, InstanceStatus, PrivateDnsNameOptions, SecurityGroup, Store } from "./state.js";

/**
 * Password specials: the union of the official lists (docs/emulator.md "Rules and their sources"): the
 * SDK model lists the backtick and `"`, the API pages list `'` (the current English page also lost the
 * backtick, a Markdown rendering slip). Where they disagree the emulator accepts both (choice).
 */
const PASSWORD_SPECIALS = "()`~!@#$%^&*-_+=|{}[]:;'\"<>,.?/";
const USER_DATA_MAX_BYTES = 32 * 1024;
const TOPOLOGY_TYPES = new Set(["ContinuousCoreToHTMapping", "DiscreteCoreToHTMapping"]);
const HOSTNAME_TYPES = new Set(["Custom", "IpBased", "InstanceIdBased"]);
const NESTED_VIRT = new Set(["enabled", "disabled"]);

/**
 * InstanceName: the newest API metadata (SDK model of ModifyInstanceAttribute) allows letters, digits,
 * `:`, `_` and `-`, no `.`; the 2021 error description allowed `.`. `periodAllowed` models the older
 * reading (account setting `instanceNamePeriodAllowed`).
 */
export function validInstanceName(v: string, periodAllowed = false): boolean {
  if (v.length < 2 || v.length > 128) return false;
  if (/^https?:\/\//i.test(v)) return false;
  if (!/^[A-Za-z\p{Script=Han}]/u.test(v)) return false;
  return (periodAllowed ? /^[A-Za-z0-9\p{Script=Han}:_.-]+$/u : /^[A-Za-z0-9\p{Script=Han}:_-]+$/u).test(v);
}

export function validDescription(v: string): boolean {
  return v.length >= 2 && v.length <= 256 && !/^https?:\/\//i.test(v);
}

/** Length, charset and "three of four classes". The Windows leading-slash rule is separate. */
export function validPassword(v: string): boolean {
  if (v.length < 8 || v.length > 30) return false;
  let upper = 0;
  let lower = 0;
  let digit = 0;
  let special = 0;
  for (const c of v) {
    if (c >= "A" && c <= "Z") upper = 1;
    else if (c >= "a" && c <= "z") lower = 1;
    else if (c >= "0" && c <= "9") digit = 1;
    else if (PASSWORD_SPECIALS.includes(c)) special = 1;
    else return false;
  }
  return upper + lower + digit + special >= 3;
}

export function validHostName(v: string, osType: "linux" | "windows"): boolean {
  if (osType === "windows") {
    return v.length >= 2 && v.length <= 15 && /^[A-Za-z0-9-]+$/.test(v) && !v.startsWith("-") && !v.endsWith("-") && !v.includes("--") && !/^\d+$/.test(v);
  }
  return v.length >= 2 && v.length <= 64 && /^[A-Za-z0-9.-]+$/.test(v) && !v.includes("..") && !v.includes("--") && !/^[.-]/.test(v) && !/[.-]$/.test(v);
}

/** Strict Base64 (standard alphabet, padded). */
export function isBase64(v: string): boolean {
  return v.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(v);
}

type Mutation = (inst: Instance) => void;

/** What every per-parameter check of ModifyInstanceAttribute reads. */
interface ModifyContext {
  store: Store;
  params: Params;
  inst: Instance;
  type: InstanceTypeSpec;
  account: AccountSettings;
  status: InstanceStatus;
}

/** One parameter's (or parameter group's) rules: throws its ECS error, or returns its change if present. */
type ParameterCheck = (ctx: ModifyContext) => Mutation | undefined;

/**
 * The checks in the order they run. When several rules fail, the first one's error is the answer, so
 * this order is observable behaviour (which code a caller sees): do not reorder.
 */
const MODIFY_CHECKS: readonly ParameterCheck[] = [
  checkInstanceName,
  checkDescription,
  checkPassword,
  checkHostName,
  checkUserData,
  checkRecyclable,
  checkCreditSpecification,
  checkDeletionProtection,
  checkSecurityGroupIds,
  checkJumboFrame,
  checkNetworkEncryption,
  checkQueueNumber,
  checkCpuOptions,
  checkPrivateDnsNameOptions,
];

/**
 * The lock reasons that make ModifyInstanceAttribute fail, with the code ECS answers. Only `security`
 * is documented to block it ("Security lock impact on ECS API calls"; the API page: "not supported for
 * instances protected by a resource security lock"); the overdue-payment page lists the action as
 * normal logic under a `financial` lock, and `Recycling`, `dedicatedhostfinancial`, `refunded` have no
 * documented effect on it. Sources: docs/emulator.md, "Rules and their sources".
 */
const MODIFY_BLOCKING_LOCKS: Readonly<Record<string, KnownErrorCode>> = { security: "InstanceLockedForSecurity" };

function checkLocks(inst: Instance): void {
  for (const l of inst.operationLocks) {
    const code = MODIFY_BLOCKING_LOCKS[l.lockReason.toLowerCase()];
    if (code) throw ecsError(code);
  }
}

/**
 * Validates a ModifyInstanceAttribute call. Returns the instance and a function that applies
 * every change; throws the ECS error of the first failed rule (checked in a fixed order).
 */
export function planModify(store: Store, params: Params): { instance: Instance; apply: () => void } {
  const id = params.required("InstanceId");
  const inst = store.getInstance(id);
  checkLocks(inst);
  const ctx: ModifyContext = {
    store,
    params,
    inst,
    type: store.typeSpec(inst.instanceType),
    account: store.account,
    status: inst.status,
  };
  const muts: Mutation[] = [];
  for (const check of MODIFY_CHECKS) {
    const mut = check(ctx);
    if (mut) muts.push(mut);
  }
  return {
    instance: inst,
    apply: () => {
      for (const m of muts) m(inst);
    },
  };
}

function checkInstanceName({ params, account }: ModifyContext): Mutation | undefined {
  const name = params.str("InstanceName");
  if (name === undefined) return undefined;
  if (!validInstanceName(name, account.instanceNamePeriodAllowed)) throw ecsError("InvalidInstanceName.Malformed");
  return (i) => (i.instanceName = name);
}

function checkDescription({ params }: ModifyContext): Mutation | undefined {
  const description = params.str("Description");
  if (description === undefined) return undefined;
  if (!validDescription(description)) throw ecsError("InvalidDescription.Malformed");
  return (i) => (i.description = description);
}

/**
 * Password: charset/classes → InvalidPassword.Malformed; Windows leading "/" → InvalidHostPassword.Malformed
 * (choice); Starting → IncorrectInstanceStatus (choice of code, rule from the state matrix).
 */
function checkPassword({ params, inst, status }: ModifyContext): Mutation | undefined {
  const password = params.str("Password");
  if (password === undefined) return undefined;
  if (!validPassword(password)) throw ecsError("InvalidPassword.Malformed");
  if (inst.osType === "windows" && password.startsWith("/")) throw ecsError("InvalidHostPassword.Malformed");
  if (status === "Starting") throw ecsError("IncorrectInstanceStatus");
  return (i) => {
    i.passwordHash = hashPassword(password);
    i.passwordChangedAt = new Date().toISOString();
    i.restartPending.password = true;
  };
}

/**
 * HostName: OS-specific syntax; Pending/Starting → IncorrectInstanceStatus; a second, different
 * hostname while the previous one still awaits a restart → InvalidInstanceStatus.NeedRestart (choice).
 */
function checkHostName({ params, inst, account, status }: ModifyContext): Mutation | undefined {
  const hostName = params.str("HostName");
  if (hostName === undefined) return undefined;
  if (!validHostName(hostName, inst.osType)) throw ecsError("InvalidHostName.Malformed");
  if (status === "Pending" || status === "Starting") throw ecsError("IncorrectInstanceStatus");
  if (inst.restartPending.hostName && hostName !== inst.hostName && account.secondHostNameBeforeRestart === "InvalidInstanceStatus.NeedRestart") {
    throw ecsError("InvalidInstanceStatus.NeedRestart");
  }
  if (hostName === inst.hostName) return undefined;
  return (i) => {
    i.hostName = hostName;
    i.restartPending.hostName = true;
  };
}

function checkUserData({ params, inst, account, status }: ModifyContext): Mutation | undefined {
  const userData = params.str("UserData");
  if (userData === undefined) return undefined;
  if (!account.userDataAllowed) throw ecsError("InvalidUserData.Forbidden");
  if (!isBase64(userData)) throw ecsError("InvalidUserData.Base64FormatInvalid");
  if (Buffer.from(userData, "base64").length > USER_DATA_MAX_BYTES) throw ecsError("InvalidUserData.SizeExceeded");
  if (inst.instanceNetworkType !== "vpc" || !inst.ioOptimized) throw ecsError("InvalidUserData.NotSupported");
  if (userData !== "" && !inst.imageSupportsCloudInit) throw ecsError("ImageNotSupportCloudInit");
  // The current API page and SDK model give no state rule for UserData; older pages required Stopped.
  // Default: the current text; `userDataRequiresStopped` models the older one (code: choice).
  if (account.userDataRequiresStopped && status !== "Stopped") throw ecsError("IncorrectInstanceStatus");
  return (i) => {
    i.userData = userData;
    i.restartPending.userData = true;
  };
}

/** Recyclable (invitation-only preview). */
function checkRecyclable({ params, account }: ModifyContext): Mutation | undefined {
  const recyclable = params.bool("Recyclable");
  if (recyclable === undefined) return undefined;
  if (!account.recycleBinAllowed) throw ecsError("InvalidParameter.RecycleBin");
  return (i) => (i.recyclable = recyclable);
}

/**
 * CreditSpecification: bad value → InvalidParameter.CreditSpecification; non-burstable type →
 * Credit.NotFound (choice); overdue account → InvalidInstanceStatus.CreditSpecRestricted.
 */
function checkCreditSpecification({ params, type, account }: ModifyContext): Mutation | undefined {
  const credit = params.str("CreditSpecification");
  if (credit === undefined) return undefined;
  if (credit !== "Standard" && credit !== "Unlimited") throw ecsError("InvalidParameter.CreditSpecification");
  if (!type.burstable) throw ecsError("Credit.NotFound");
  if (account.creditOverdue) throw ecsError("InvalidInstanceStatus.CreditSpecRestricted");
  return (i) => (i.creditSpecification = credit);
}

/** DeletionProtection: enabling needs PostPaid and not spot. */
function checkDeletionProtection({ params, inst }: ModifyContext): Mutation | undefined {
  const deletionProtection = params.bool("DeletionProtection");
  if (deletionProtection === undefined) return undefined;
  if (deletionProtection && (inst.instanceChargeType !== "PostPaid" || inst.spotStrategy !== "NoSpot")) {
    throw ecsError("InvalidChargeType.ValueNotSupported");
  }
  return (i) => (i.deletionProtection = deletionProtection);
}

/** SecurityGroupIds: replaces the whole set. */
function checkSecurityGroupIds({ store, params, inst }: ModifyContext): Mutation | undefined {
  const groups = params.list("SecurityGroupIds");
  return groups === undefined ? undefined : checkSecurityGroups(store, inst, groups);
}

/** EnableJumboFrame: enabling needs a jumbo-capable type in a VPC; Running or Stopped only. */
function checkJumboFrame({ params, inst, type, status }: ModifyContext): Mutation | undefined {
  const jumbo = params.bool("EnableJumboFrame");
  if (jumbo === undefined) return undefined;
  if (jumbo && (!type.jumboFrame || inst.instanceNetworkType !== "vpc")) {
    throw ecsError("InvalidParam.NotSupportJumboFrame");
  }
  if (status !== "Running" && status !== "Stopped") throw ecsError("InvalidOperation.InstanceStatusNotSupport");
  return (i) => (i.enableJumboFrame = jumbo);
}

/** EnableNetworkEncryption (invitation-only preview). */
function checkNetworkEncryption({ params, type, account }: ModifyContext): Mutation | undefined {
  const encryption = params.bool("EnableNetworkEncryption");
  if (encryption === undefined) return undefined;
  if (!account.networkEncryptionAllowed) throw ecsError("InvalidOperation.UserNotSupportNetworkEncryption");
  if (encryption && !type.networkEncryption) {
    throw ecsError("InvalidOperation.InstanceTypeNotSupportNetworkEncryption");
  }
  return (i) => (i.enableNetworkEncryption = encryption);
}

/** NetworkInterfaceQueueNumber: -1 restores the type default; limits per ENI and per type; Stopped only. */
function checkQueueNumber({ params, inst, type, status }: ModifyContext): Mutation | undefined {
  const queueRaw = params.str("NetworkInterfaceQueueNumber");
  if (queueRaw === undefined) return undefined;
  const invalid = (): EcsError => ecsError("InvalidParameter.InvalidEniQueueNumber", "The specified parameter NetworkInterfaceQueueNumber is not valid.");
  if (!/^-?\d+$/.test(queueRaw.trim())) throw invalid();
  const requested = Number.parseInt(queueRaw, 10);
  const queues = requested === -1 ? type.primaryEniQueueNumber : requested;
  if (queues < 1) throw invalid();
  if (queues > type.maxQueueNumberPerEni) {
    throw ecsError(
      "InvalidOperation.MaxEniQueueNumberExceeded",
      `The maximum queue number of an ENI of instance type ${type.instanceType} is ${type.maxQueueNumberPerEni}.`,
    );
  }
  const others = inst.secondaryEniQueueNumbers.reduce((a, b) => a + b, 0);
  if (queues + others > type.totalEniQueueQuantity) {
    throw ecsError(
      "InvalidOperation.ExceedInstanceTypeQueueNumber",
      `The total queue number of all ENIs of instance type ${type.instanceType} cannot exceed ${type.totalEniQueueQuantity}.`,
    );
  }
  if (status !== "Stopped") throw ecsError("InvalidStatus.StoppedRequired");
  return (i) => (i.primaryEni.queueNumber = queues);
}

interface CpuOptionsInput {
  core: number | undefined;
  threads: number | undefined;
  topology: string | undefined;
  nested: string | undefined;
}

/**
 * CpuOptions: all four values are read first, then each one's value rules run, then the state rules
 * (TopologyType has its own state code), so a bad value wins over a wrong state.
 */
function checkCpuOptions({ params, type, status }: ModifyContext): Mutation | undefined {
  const cpu: CpuOptionsInput = {
    core: params.int("CpuOptions.Core"),
    threads: params.int("CpuOptions.ThreadsPerCore"),
    topology: params.str("CpuOptions.TopologyType"),
    nested: params.str("CpuOptions.NestedVirtualization"),
  };
  checkCpuOptionValues(cpu, type);
  const { core, threads, topology, nested } = cpu;
  if (topology !== undefined && status !== "Stopped") throw ecsError("InvalidOperation.InstanceStatusUnsupported");
  if ((core !== undefined || threads !== undefined || nested !== undefined) && status !== "Stopped") {
    throw ecsError("InvalidStatus.StoppedRequired");
  }
  if (core === undefined && threads === undefined && topology === undefined && nested === undefined) return undefined;
  return (i) => {
    if (core !== undefined) i.cpuOptions.core = core;
    if (threads !== undefined) i.cpuOptions.threadsPerCore = threads;
    if (topology !== undefined) i.cpuOptions.topologyType = topology;
    if (nested !== undefined) i.cpuOptions.nestedVirtualization = nested;
  };
}

function checkCpuOptionValues({ core, threads, topology, nested }: CpuOptionsInput, type: InstanceTypeSpec): void {
  if (core !== undefined && core !== type.coreCount) throw ecsError("InvalidParameter.CpuOptionsCore");
  if (threads !== undefined) {
    if (!type.threadsPerCoreModifiable && threads !== type.threadsPerCore) {
      throw ecsError("InvalidInstanceType.CpuOptionsThreadsPerCoreUnsupported");
    }
    if (threads < 1 || threads > type.threadsPerCore) throw ecsError("InvalidParameter.CpuOptionsThreadsPerCore");
  }
  if (topology !== undefined && topology !== "") {
    if (!TOPOLOGY_TYPES.has(topology)) throw ecsError("InvalidParameter.CpuOptionsTopologyType", topology);
    if (!type.topologyTypes.includes(topology)) {
      throw ecsError("InvalidInstanceType.NotSupportCpuOptionsTopologyType", topology);
    }
  }
  if (nested !== undefined) {
    if (!NESTED_VIRT.has(nested)) throw ecsError("InvalidParameter.CpuOptionsNestedVirtualization", nested);
    if (nested === "enabled" && !type.nestedVirtualization) {
      throw ecsError("InvalidInstanceType.NotSupportCpuOptionsNestedVirtualization", nested);
    }
  }
}

const DNS_RECORD_FLAGS = ["EnableInstanceIdDnsARecord", "EnableInstanceIdDnsAAAARecord", "EnableIpDnsARecord", "EnableIpDnsPtrRecord"] as const;

/** PrivateDnsNameOptions: enum; Windows supports only Custom → OSType.ValueNotSupported (choice). */
function checkPrivateDnsNameOptions({ params, inst }: ModifyContext): Mutation | undefined {
  if (!params.hasPrefix("PrivateDnsNameOptions")) return undefined;
  const hostnameType = params.str("PrivateDnsNameOptions.HostnameType");
  if (hostnameType !== undefined && !HOSTNAME_TYPES.has(hostnameType)) {
    throw ecsError("InvalidParameter", "PrivateDnsNameOptions.HostnameType");
  }
  if (inst.osType === "windows" && hostnameType !== undefined && hostnameType !== "Custom") {
    throw ecsError("OSType.ValueNotSupported");
  }
  const patch: Partial<PrivateDnsNameOptions> = {};
  if (hostnameType !== undefined) patch.hostnameType = hostnameType as PrivateDnsNameOptions["hostnameType"];
  for (const k of DNS_RECORD_FLAGS) {
    const v = params.bool(`PrivateDnsNameOptions.${k}`);
    if (v !== undefined) patch[(k[0]!.toLowerCase() + k.slice(1)) as keyof PrivateDnsNameOptions] = v as never;
  }
  return (i) => Object.assign(i.privateDnsNameOptions, patch);
}

/** The SecurityGroupIds rules, in order: the list itself, each group's placement, membership changes, limits. */
function checkSecurityGroups(store: Store, inst: Instance, groups: string[]): Mutation {
  checkGroupList(store, inst, groups);
  const sgs = groups.map((g) => {
    const sg = store.securityGroups.get(g);
    if (!sg) throw ecsError("InvalidSecurityGroupId.NotFound");
    return sg;
  });
  checkGroupPlacement(store, inst, sgs);
  const joining = sgs.filter((sg) => !inst.securityGroupIds.includes(sg.securityGroupId));
  const leaving = inst.securityGroupIds.filter((g) => !groups.includes(g));
  checkNotServiceManaged([...joining, ...leaving.map((g) => store.securityGroups.get(g)).filter((g) => g !== undefined)]);
  if (new Set(sgs.map((sg) => sg.securityGroupType)).size > 1) throw ecsError("EnterpriseGroupLimited.MutliGroupType");
  for (const sg of joining) checkGroupCapacity(store, sg);
  const rules = sgs.reduce((n, sg) => n + sg.ruleCount, 0);
  if (rules > store.account.aclRuleLimitPerEni) {
    throw ecsError("AclLimitExceed", `The number of security group rules of the ENI (${rules}) exceeds the limit ${store.account.aclRuleLimitPerEni}.`);
  }
  const next = [...groups];
  return (i) => (i.securityGroupIds = next);
}

function checkGroupList(store: Store, inst: Instance, groups: string[]): void {
  if (inst.instanceNetworkType === "classic") throw ecsError("InvalidNetworkType.NotSupported");
  if (groups.length === 0) throw ecsError("InvalidParameter", "SecurityGroupIds");
  if (new Set(groups).size !== groups.length) throw ecsError("InvalidParameter.SecurityGroupIdRepeated");
  const quota = store.account.securityGroupQuotaPerInstance;
  if (groups.length > quota) {
    throw ecsError("JoinedGroupLimitExceed", `The maximum number of security groups that an instance can join is ${quota}.`);
  }
}

/** Every group in the instance's region first, then every group in a VPC, then all in the instance's VPC. */
function checkGroupPlacement(store: Store, inst: Instance, sgs: SecurityGroup[]): void {
  for (const sg of sgs) {
    if (sg.regionId !== inst.regionId) {
      if (store.account.securityGroupOtherRegionCode === "InvalidSecurityGroupId.NotFound") {
        throw ecsError("InvalidSecurityGroupId.NotFound");
      }
      throw ecsError("InvalidOperation.InvalidRegion", `The security group ${sg.securityGroupId} is not in the region ${inst.regionId} of the instance.`);
    }
  }
  for (const sg of sgs) if (!sg.vpcId) throw ecsError("InvalidSecurityGroupType.NotSupportClassic");
  for (const sg of sgs) if (sg.vpcId !== inst.vpcId) throw ecsError("InvalidSecurityGroupVpc.NotBelongToOneVpc");
}

function checkNotServiceManaged(changing: SecurityGroup[]): void {
  for (const sg of changing) {
    if (sg.serviceManaged) {
      throw ecsError(
        "InvalidOperation.ResourceManagedByCloudProduct",
        `The security group ${sg.securityGroupId} is managed by a cloud product and cannot be modified.`,
      );
    }
  }
}

/** A joined group must have room: enterprise groups count ENIs, basic ones instances. */
function checkGroupCapacity(store: Store, sg: SecurityGroup): void {
  const members = store.membersOf(sg.securityGroupId);
  if (sg.securityGroupType === "enterprise") {
    if (members >= (sg.capacity ?? store.account.enterpriseGroupEniLimit)) {
      throw ecsError("InvalidOperation.EniCountExceeded");
    }
  } else if (members >= (sg.capacity ?? store.account.basicGroupInstanceLimit)) {
    if (store.account.fullBasicGroupCode === "SecurityGroupInstanceLimitExceed") {
      throw ecsError("SecurityGroupInstanceLimitExceed", `The security group ${sg.securityGroupId} reached its instance limit.`);
    }
    throw ecsError("OperationDenied");
  }
}
