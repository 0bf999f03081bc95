/** DescribeInstances, DescribeInstanceAttribute, DescribeUserData. */
import { ecsError } from "../errors.js";
import type { Instance, Store } from "../state.js";
import { matchesTags, tagFilters } from "../tags.js";
import { paginate, wildcardMatch } from "./paging.js";
import type { ActionHandler } from "./types.js";

function locks(i: Instance): { LockReason: Array<{ LockReason: string; LockMsg: string }> } {
  return { LockReason: i.operationLocks.map((l) => ({ LockReason: l.lockReason, LockMsg: l.lockMsg })) };
}

function cpuOptionsShape(i: Instance): Record<string, unknown> {
  return {
    CoreCount: i.cpuOptions.core,
    ThreadsPerCore: i.cpuOptions.threadsPerCore,
    Numa: "",
    TopologyType: i.cpuOptions.topologyType,
  };
}

function networkInterfacesShape(i: Instance): Record<string, unknown> {
  return {
    NetworkInterface: [
      {
        Type: "Primary",
        NetworkInterfaceId: i.primaryEni.networkInterfaceId,
        MacAddress: i.primaryEni.macAddress,
        PrimaryIpAddress: i.privateIpAddress,
      },
    ],
  };
}

function privateDnsNameOptionsShape(i: Instance): Record<string, unknown> {
  return {
    HostnameType: i.privateDnsNameOptions.hostnameType,
    EnableInstanceIdDnsARecord: i.privateDnsNameOptions.enableInstanceIdDnsARecord,
    EnableInstanceIdDnsAAAARecord: i.privateDnsNameOptions.enableInstanceIdDnsAAAARecord,
    EnableIpDnsARecord: i.privateDnsNameOptions.enableIpDnsARecord,
    EnableIpDnsPtrRecord: i.privateDnsNameOptions.enableIpDnsPtrRecord,
  };
}

export function describeInstanceShape(store: Store, i: Instance): Record<string, unknown> {
  const type = store.typeSpec(i.instanceType);
  return {
    InstanceId: i.instanceId,
    RegionId: i.regionId,
    ZoneId: i.zoneId,
    InstanceName: i.instanceName,
    Description: i.description,
    HostName: i.hostName,
    Status: i.status,
    StoppedMode: i.status === "Stopped" ? "KeepCharging" : "Not-applicable",
    OSType: i.osType,
    OSName: i.osName,
    ImageId: i.imageId,
    InstanceNetworkType: i.instanceNetworkType,
    IoOptimized: i.ioOptimized,
    InstanceType: i.instanceType,
    InstanceTypeFamily: type.family,
    InstanceChargeType: i.instanceChargeType,
    SpotStrategy: i.spotStrategy,
    CreditSpecification: i.creditSpecification,
    DeletionProtection: i.deletionProtection,
    Recyclable: i.recyclable,
    Cpu: type.cpu,
    Memory: type.memory,
    CpuOptions: cpuOptionsShape(i),
    SecurityGroupIds: { SecurityGroupId: [...i.securityGroupIds] },
    VpcAttributes: {
      VpcId: i.vpcId,
      VSwitchId: i.vSwitchId,
      NatIpAddress: "",
      PrivateIpAddress: { IpAddress: i.instanceNetworkType === "vpc" ? [i.privateIpAddress] : [] },
    },
    InnerIpAddress: { IpAddress: i.instanceNetworkType === "classic" ? [i.privateIpAddress] : [] },
    PublicIpAddress: { IpAddress: [] },
    NetworkInterfaces: networkInterfacesShape(i),
    PrivateDnsNameOptions: privateDnsNameOptionsShape(i),
    OperationLocks: locks(i),
    Tags: { Tag: i.tags.map((t) => ({ TagKey: t.key, TagValue: t.value })) },
    CreationTime: i.creationTime.replace(/:\d{2}Z$/, "Z"),
    StartTime: i.startTime.replace(/:\d{2}Z$/, "Z"),
    SerialNumber: `emu-${i.instanceId}`,
  };
}

export const describeInstances: ActionHandler = ({ store, params }) => {
  const regionId = params.required("RegionId");
  const ids = params.jsonArray("InstanceIds");
  if (ids && ids.length > 100) throw ecsError("InvalidParameter", "InstanceIds");
  const status = params.str("Status");
  const vpcId = params.str("VpcId");
  const vSwitchId = params.str("VSwitchId");
  const sgId = params.str("SecurityGroupId");
  const name = params.str("InstanceName");
  const networkType = params.str("InstanceNetworkType");
  const tags = tagFilters(params);
  const idSet = ids ? new Set(ids) : undefined;
  const view = store.reader("DescribeInstances");
  const matched = [...store.instances.values()]
    .map(view)
    .filter(
      (i) =>
        i.regionId === regionId &&
        (!idSet || idSet.has(i.instanceId)) &&
        (!status || i.status === status) &&
        (!vpcId || i.vpcId === vpcId) &&
        (!vSwitchId || i.vSwitchId === vSwitchId) &&
        (!sgId || i.securityGroupIds.includes(sgId)) &&
        (!name || wildcardMatch(name, i.instanceName)) &&
        (!networkType || i.instanceNetworkType === networkType) &&
        matchesTags(i.tags, tags),
    );
  const page = paginate(matched, params, { min: 10, max: 100, overMax: "clamp" });
  return {
    TotalCount: page.totalCount,
    PageSize: page.pageSize,
    PageNumber: page.pageNumber,
    NextToken: page.nextToken,
    Instances: { Instance: page.items.map((i) => describeInstanceShape(store, i)) },
  };
};

export const describeInstanceAttribute: ActionHandler = ({ store, params }) => {
  const i = store.reader("DescribeInstanceAttribute")(store.getInstance(params.required("InstanceId")));
  return {
    InstanceId: i.instanceId,
    InstanceName: i.instanceName,
    Description: i.description,
    HostName: i.hostName,
    RegionId: i.regionId,
    ZoneId: i.zoneId,
    Status: i.status,
    ImageId: i.imageId,
    InstanceType: i.instanceType,
    InstanceTypeFamily: store.typeSpec(i.instanceType).family,
    Cpu: store.typeSpec(i.instanceType).cpu,
    Memory: store.typeSpec(i.instanceType).memory,
    InstanceChargeType: i.instanceChargeType,
    InstanceNetworkType: i.instanceNetworkType,
    IoOptimized: i.ioOptimized ? "optimized" : "none",
    CreditSpecification: i.creditSpecification,
    EnableJumboFrame: i.enableJumboFrame,
    EnableNetworkEncryption: i.enableNetworkEncryption,
    NetworkOptions: {
      EnableJumboFrame: i.enableJumboFrame,
      EnableNetworkEncryption: i.enableNetworkEncryption,
      BandwidthWeighting: "Vpc-L1",
    },
    SecurityGroupIds: { SecurityGroupId: [...i.securityGroupIds] },
    VpcAttributes: {
      VpcId: i.vpcId,
      VSwitchId: i.vSwitchId,
      NatIpAddress: "",
      PrivateIpAddress: { IpAddress: i.instanceNetworkType === "vpc" ? [i.privateIpAddress] : [] },
    },
    InnerIpAddress: { IpAddress: i.instanceNetworkType === "classic" ? [i.privateIpAddress] : [] },
    PublicIpAddress: { IpAddress: [] },
    OperationLocks: locks(i),
    CreationTime: i.creationTime.replace(/:\d{2}Z$/, "Z"),
  };
};

export const describeUserData: ActionHandler = ({ store, params }) => {
  const regionId = params.required("RegionId");
  const id = params.required("InstanceId");
  const found = store.instances.get(id);
  if (!found || found.regionId !== regionId) throw ecsError("InvalidInstanceId.NotFound");
  const i = store.reader("DescribeUserData")(found);
  return { InstanceId: i.instanceId, RegionId: i.regionId, UserData: i.userData };
};
