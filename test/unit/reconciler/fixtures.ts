/** Shared fixtures for the reconciler's unit tests. */
import type { ObservedInstance } from "../../../src/cloud/model.js";

/** A running Linux VPC instance as the cloud layer reports it; override what a test needs. */
export function observedInstance(over: Partial<ObservedInstance> = {}): ObservedInstance {
  return {
    instanceId: "i-bp1abc",
    regionId: "cn-hangzhou",
    zoneId: "cn-hangzhou-g",
    status: "Running",
    osType: "linux",
    instanceName: "old-name",
    description: "old description",
    hostName: "old-host",
    securityGroupIds: ["sg-a"],
    deletionProtection: false,
    creditSpecification: "",
    instanceType: "ecs.g7.large",
    instanceChargeType: "PostPaid",
    instanceNetworkType: "vpc",
    vpcId: "vpc-1",
    startTime: "2026-11-27T09:00:00Z",
    operationLocks: [],
    cpuOptions: { core: 1, threadsPerCore: 2, topologyType: "" },
    privateDnsNameOptions: {
      hostnameType: "Custom",
      enableInstanceIdDnsARecord: false,
      enableInstanceIdDnsAAAARecord: false,
      enableIpDnsARecord: false,
      enableIpDnsPtrRecord: false,
    },
    primaryNetworkInterfaceId: "eni-1",
    ...over,
  };
}
