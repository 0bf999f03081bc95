/**
 * Instance type capabilities the rules consult. A small built-in catalog; seeds can add or
 * override types (`instanceTypes` in the seed file). Numbers are plausible, not authoritative.
 */

export interface InstanceTypeSpec {
  instanceType: string;
  family: string;
  cpu: number;
  /** MiB */
  memory: number;
  /** Burstable (t5, t6 …): CreditSpecification allowed. */
  burstable: boolean;
  /** Jumbo frames (MTU 8500) supported. */
  jumboFrame: boolean;
  /** VPC traffic encryption supported (preview parameter EnableNetworkEncryption). */
  networkEncryption: boolean;
  /** Default (and only accepted) CpuOptions.Core. */
  coreCount: number;
  /** Default threads per core. */
  threadsPerCore: number;
  /** Whether CpuOptions.ThreadsPerCore may be set (1 disables hyper-threading). */
  threadsPerCoreModifiable: boolean;
  /** Supported CpuOptions.TopologyType values; empty = the family does not support topology types. */
  topologyTypes: string[];
  /** Supported CpuOptions.NestedVirtualization (preview). */
  nestedVirtualization: boolean;
  /** MaximumQueueNumberPerEni */
  maxQueueNumberPerEni: number;
  /** TotalEniQueueQuantity */
  totalEniQueueQuantity: number;
  /** PrimaryEniQueueNumber (default; `-1` restores it) */
  primaryEniQueueNumber: number;
}

const TOPOLOGIES = ["ContinuousCoreToHTMapping", "DiscreteCoreToHTMapping"];

function spec(p: Partial<InstanceTypeSpec> & Pick<InstanceTypeSpec, "instanceType" | "cpu" | "memory">): InstanceTypeSpec {
  const family = p.instanceType.split(".").slice(0, 2).join(".");
  const threadsPerCore = p.threadsPerCore ?? (p.cpu >= 2 ? 2 : 1);
  return {
    family,
    burstable: false,
    jumboFrame: false,
    networkEncryption: false,
    coreCount: Math.max(1, Math.floor(p.cpu / threadsPerCore)),
    threadsPerCore,
    threadsPerCoreModifiable: false,
    topologyTypes: [],
    nestedVirtualization: false,
    maxQueueNumberPerEni: 2,
    totalEniQueueQuantity: 4,
    primaryEniQueueNumber: 2,
    ...p,
  };
}

export const BUILTIN_INSTANCE_TYPES: readonly InstanceTypeSpec[] = [
  spec({ instanceType: "ecs.g5.large", cpu: 2, memory: 8192 }),
  spec({ instanceType: "ecs.g6.large", cpu: 2, memory: 8192 }),
  spec({
    instanceType: "ecs.g7.large",
    cpu: 2,
    memory: 8192,
    jumboFrame: true,
    threadsPerCoreModifiable: true,
    topologyTypes: TOPOLOGIES,
  }),
  spec({
    instanceType: "ecs.g7.xlarge",
    cpu: 4,
    memory: 16384,
    jumboFrame: true,
    threadsPerCoreModifiable: true,
    topologyTypes: TOPOLOGIES,
    maxQueueNumberPerEni: 4,
    totalEniQueueQuantity: 8,
    primaryEniQueueNumber: 4,
  }),
  spec({
    instanceType: "ecs.g8i.xlarge",
    cpu: 4,
    memory: 16384,
    jumboFrame: true,
    networkEncryption: true,
    threadsPerCoreModifiable: true,
    topologyTypes: TOPOLOGIES,
    nestedVirtualization: true,
    maxQueueNumberPerEni: 8,
    totalEniQueueQuantity: 16,
    primaryEniQueueNumber: 4,
  }),
  spec({
    instanceType: "ecs.t6-c1m1.large",
    cpu: 2,
    memory: 2048,
    burstable: true,
    maxQueueNumberPerEni: 1,
    totalEniQueueQuantity: 2,
    primaryEniQueueNumber: 1,
  }),
  spec({
    instanceType: "ecs.t5-lc1m2.small",
    cpu: 1,
    memory: 2048,
    burstable: true,
    maxQueueNumberPerEni: 1,
    totalEniQueueQuantity: 1,
    primaryEniQueueNumber: 1,
  }),
];

/** Capabilities for a type not in the catalog: a plain 2-vCPU type with no optional features. */
export function genericInstanceType(instanceType: string): InstanceTypeSpec {
  return spec({ instanceType, cpu: 2, memory: 4096 });
}
