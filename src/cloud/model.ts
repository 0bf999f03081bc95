// Typed, normalised views of what ECS returns and of what ModifyInstanceAttribute accepts.
// Pure: no I/O. ecs.ts maps SDK responses through here.
//
// What DescribeInstances can and cannot read back (ecs-api.md §6.5, §6.6):
//
// | desired field                      | read from                                   | key                                 |
// |------------------------------------|---------------------------------------------|-------------------------------------|
// | instanceName, description, hostName| DescribeInstances (batched, 100 IDs/call)   | InstanceName, Description, HostName |
// | deletionProtection                 | DescribeInstances                           | DeletionProtection                  |
// | creditSpecification                | DescribeInstances                           | CreditSpecification ("" non-burst.) |
// | securityGroupIds                   | DescribeInstances                           | SecurityGroupIds.SecurityGroupId[]  |
// | cpuOptions.core/threadsPerCore/topo| DescribeInstances                           | CpuOptions.CoreCount (!)/…          |
// | privateDnsNameOptions.*            | DescribeInstances                           | PrivateDnsNameOptions.*             |
// | status, locks, osType, startTime   | DescribeInstances                           | Status, OperationLocks, OSType, …   |
// | enableJumboFrame                   | DescribeInstanceAttribute (1 call/instance) | EnableJumboFrame                    |
// | userData                           | DescribeUserData (1 call/instance)          | UserData (Base64, "" = none)        |
// | networkInterfaceQueueNumber        | DescribeNetworkInterfaces Type=Primary      | QueueNumber                         |
// | password                           | NOTHING — write-only; record which Secret version was applied instead |
//
// Also: a changed HostName/Password takes effect in the OS only after a console/API restart;
// whether DescribeInstances shows the new HostName before that restart is undocumented (§14.7).

/** Instance lifecycle states (`Status`). Other strings may appear and are passed through. */
export type InstanceStatus = "Pending" | "Starting" | "Running" | "Stopping" | "Stopped" | (string & {});

export type OsType = "linux" | "windows";

export interface ObservedCpuOptions {
  /** Read as `CpuOptions.CoreCount`, written as `CpuOptions.Core`. */
  core: number | undefined;
  threadsPerCore: number | undefined;
  /** `""` when unset (the ECS default). */
  topologyType: string;
}

export interface PrivateDnsNameOptions {
  hostnameType: string;
  enableInstanceIdDnsARecord: boolean;
  enableInstanceIdDnsAAAARecord: boolean;
  enableIpDnsARecord: boolean;
  enableIpDnsPtrRecord: boolean;
}

/** One instance as the controller sees it. */
export interface ObservedInstance {
  instanceId: string;
  regionId: string;
  zoneId: string;
  status: InstanceStatus;
  osType: OsType;
  instanceName: string;
  description: string;
  hostName: string;
  /** Sorted, deduplicated (compare as a set). */
  securityGroupIds: string[];
  deletionProtection: boolean;
  /** `""` on non-burstable types. */
  creditSpecification: string;
  instanceType: string;
  /** `PostPaid` | `PrePaid` (DeletionProtection needs PostPaid). */
  instanceChargeType: string;
  instanceNetworkType: string;
  vpcId: string;
  /** RFC 3339-ish as ECS returns it (e.g. `2017-12-10T04:04Z`); undefined when never started. */
  startTime: string | undefined;
  /** `OperationLocks.LockReason[].LockReason`: `security`, `financial`, `recycling`, … */
  operationLocks: string[];
  cpuOptions: ObservedCpuOptions;
  privateDnsNameOptions: PrivateDnsNameOptions;
  /** The primary ENI (from DescribeInstances' NetworkInterfaces), when reported. */
  primaryNetworkInterfaceId: string | undefined;
  /** Only when requested (`extras.jumboFrame`): DescribeInstanceAttribute. */
  enableJumboFrame?: boolean | undefined;
  /** Only when requested (`extras.nicQueue`): DescribeNetworkInterfaces Type=Primary. */
  networkInterfaceQueueNumber?: number | undefined;
  /** Only when requested (`extras.userData`): DescribeUserData, Base64; `""` means none. */
  userData?: string | undefined;
}

/** Which extra single-instance reads to make (each costs one call per instance). */
export interface ReadExtras {
  /** DescribeInstanceAttribute → enableJumboFrame. */
  jumboFrame?: boolean | undefined;
  /** DescribeUserData → userData. */
  userData?: boolean | undefined;
  /** DescribeNetworkInterfaces (primary ENI) → networkInterfaceQueueNumber. */
  nicQueue?: boolean | undefined;
}

/**
 * ModifyInstanceAttribute parameters (ecs-api.md §2, the seed page). Everything but `instanceId`
 * is optional; an omitted field is left unchanged by ECS. Values are absolute, so a repeated call
 * is idempotent. There is no DryRun and no ClientToken on this action.
 */
export interface ModifyRequest {
  instanceId: string;
  /** 2–128 chars, starts with a letter, not `http(s)://`. */
  instanceName?: string | undefined;
  /** 2–256 chars, not `http(s)://`. */
  description?: string | undefined;
  /** Windows: 2–15 chars; others 2–64 with `.` segments. Effective after a console/API restart. */
  hostName?: string | undefined;
  /** SECRET. 8–30 chars, 3 of 4 classes. Effective after a console/API restart. Never logged. */
  password?: string | undefined;
  /** SECRET. Base64, ≤ 32 KB raw. Needs Stopped (treated so; §14.1). Never logged. */
  userData?: string | undefined;
  /** REPLACES the whole set: the instance leaves every group not listed. Same VPC, one kind. */
  securityGroupIds?: readonly string[] | undefined;
  /** Pay-as-you-go only (`InvalidChargeType.ValueNotSupported`). */
  deletionProtection?: boolean | undefined;
  /** Burstable types only. */
  creditSpecification?: "Standard" | "Unlimited" | undefined;
  /** Primary ENI queue count; `-1` restores the type default. Needs Stopped. */
  networkInterfaceQueueNumber?: number | undefined;
  /** MTU 8500 (true) / 1500 (false). Running or Stopped. */
  enableJumboFrame?: boolean | undefined;
  /** Needs Stopped. `core` must equal the type default. */
  cpuOptions?: { core?: number | undefined; threadsPerCore?: number | undefined; topologyType?: string | undefined } | undefined;
  privateDnsNameOptions?: Partial<PrivateDnsNameOptions> | undefined;
}

/** Field names of a ModifyRequest that carry a value (for logs/Events; never the values). */
export function modifyFields(req: ModifyRequest): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(req)) {
    if (k === "instanceId" || v === undefined) continue;
    if (k === "cpuOptions" || k === "privateDnsNameOptions") {
      for (const [sk, sv] of Object.entries(v as Record<string, unknown>)) if (sv !== undefined) out.push(`${k}.${sk}`);
      continue;
    }
    out.push(k);
  }
  return out.sort();
}

/** The secret values in a request (for scrubbing error text). */
export function modifySecrets(req: ModifyRequest): string[] {
  return [req.password, req.userData].filter((s): s is string => !!s);
}

// ---- normalisation of SDK response models ------------------------------------------------------

/** The parts of the SDK's DescribeInstances instance model we read (lower-camel; OSType keeps case). */
export interface RawInstance {
  instanceId?: string | undefined;
  regionId?: string | undefined;
  zoneId?: string | undefined;
  status?: string | undefined;
  OSType?: string | undefined;
  instanceName?: string | undefined;
  description?: string | undefined;
  hostName?: string | undefined;
  securityGroupIds?: { securityGroupId?: string[] | undefined } | undefined;
  deletionProtection?: boolean | undefined;
  creditSpecification?: string | undefined;
  instanceType?: string | undefined;
  instanceChargeType?: string | undefined;
  instanceNetworkType?: string | undefined;
  vpcAttributes?: { vpcId?: string | undefined } | undefined;
  startTime?: string | undefined;
  operationLocks?: { lockReason?: { lockReason?: string | undefined }[] | undefined } | undefined;
  cpuOptions?: { coreCount?: number | undefined; threadsPerCore?: number | undefined; topologyType?: string | undefined } | undefined;
  privateDnsNameOptions?:
    | {
        hostnameType?: string | undefined;
        enableInstanceIdDnsARecord?: boolean | undefined;
        enableInstanceIdDnsAAAARecord?: boolean | undefined;
        enableIpDnsARecord?: boolean | undefined;
        enableIpDnsPtrRecord?: boolean | undefined;
      }
    | undefined;
  networkInterfaces?: { networkInterface?: { networkInterfaceId?: string | undefined; type?: string | undefined }[] | undefined } | undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function bool(v: unknown): boolean {
  return v === true || v === "true";
}

/** Normalises one DescribeInstances entry. `regionId` fills in when the entry lacks it. */
export function normaliseInstance(raw: RawInstance, regionId: string): ObservedInstance {
  const sgs = [...new Set(raw.securityGroupIds?.securityGroupId ?? [])].sort();
  const locks = (raw.operationLocks?.lockReason ?? []).map((l) => l.lockReason ?? "").filter((r) => r !== "");
  const enis = raw.networkInterfaces?.networkInterface ?? [];
  const primary = enis.find((n) => n.type === "Primary") ?? (enis.length === 1 ? enis[0] : undefined);
  const dns = raw.privateDnsNameOptions;
  return {
    instanceId: raw.instanceId ?? "",
    regionId: raw.regionId || regionId,
    zoneId: raw.zoneId ?? "",
    status: raw.status ?? "",
    osType: (raw.OSType ?? "").toLowerCase() === "windows" ? "windows" : "linux",
    instanceName: raw.instanceName ?? "",
    description: raw.description ?? "",
    hostName: raw.hostName ?? "",
    securityGroupIds: sgs,
    deletionProtection: bool(raw.deletionProtection),
    creditSpecification: raw.creditSpecification ?? "",
    instanceType: raw.instanceType ?? "",
    instanceChargeType: raw.instanceChargeType ?? "",
    instanceNetworkType: raw.instanceNetworkType ?? "",
    vpcId: raw.vpcAttributes?.vpcId ?? "",
    startTime: raw.startTime || undefined,
    operationLocks: locks,
    cpuOptions: {
      core: num(raw.cpuOptions?.coreCount),
      threadsPerCore: num(raw.cpuOptions?.threadsPerCore),
      topologyType: raw.cpuOptions?.topologyType ?? "",
    },
    privateDnsNameOptions: {
      hostnameType: dns?.hostnameType ?? "",
      enableInstanceIdDnsARecord: bool(dns?.enableInstanceIdDnsARecord),
      enableInstanceIdDnsAAAARecord: bool(dns?.enableInstanceIdDnsAAAARecord),
      enableIpDnsARecord: bool(dns?.enableIpDnsARecord),
      enableIpDnsPtrRecord: bool(dns?.enableIpDnsPtrRecord),
    },
    primaryNetworkInterfaceId: primary?.networkInterfaceId || undefined,
  };
}

/** `EnableJumboFrame` from DescribeInstanceAttribute (top level, else NetworkOptions). */
export function jumboFrameFrom(body: { enableJumboFrame?: boolean | undefined; networkOptions?: { enableJumboFrame?: boolean | undefined } | undefined } | undefined): boolean {
  return bool(body?.enableJumboFrame ?? body?.networkOptions?.enableJumboFrame);
}

/** The primary ENI's QueueNumber from DescribeNetworkInterfaces items. */
export function primaryQueueNumberFrom(items: readonly { type?: string | undefined; queueNumber?: number | undefined }[]): number | undefined {
  const primary = items.find((n) => n.type === "Primary") ?? (items.length === 1 ? items[0] : undefined);
  return num(primary?.queueNumber);
}
