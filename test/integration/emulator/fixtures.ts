/** Shared seed and assertions for the SDK-driven emulator tests. */
import { expect } from "vitest";
import type { SeedInput } from "../../../harness/emulator.js";

export const REGION = "cn-hangzhou";

/** A fleet that lets every modelled ModifyInstanceAttribute rule be reached. */
export const RICH_SEED: SeedInput = {
  delays: { stopMs: 50, startMs: 50 },
  vpcs: [
    { vpcId: "vpc-1", regionId: REGION },
    { vpcId: "vpc-2", regionId: REGION },
  ],
  securityGroups: [
    { securityGroupId: "sg-a", vpcId: "vpc-1", securityGroupName: "web" },
    { securityGroupId: "sg-b", vpcId: "vpc-1" },
    { securityGroupId: "sg-c", vpcId: "vpc-1" },
    { securityGroupId: "sg-d", vpcId: "vpc-1" },
    { securityGroupId: "sg-e", vpcId: "vpc-1" },
    { securityGroupId: "sg-f", vpcId: "vpc-1" },
    { securityGroupId: "sg-ent", vpcId: "vpc-1", securityGroupType: "enterprise" },
    { securityGroupId: "sg-vpc2", vpcId: "vpc-2" },
    { securityGroupId: "sg-classic", vpcId: "" },
    { securityGroupId: "sg-managed", vpcId: "vpc-1", serviceManaged: true },
    { securityGroupId: "sg-full", vpcId: "vpc-1", capacity: 1 },
    { securityGroupId: "sg-ent-full", vpcId: "vpc-1", securityGroupType: "enterprise", capacity: 1 },
    { securityGroupId: "sg-rules-1", vpcId: "vpc-1", ruleCount: 600 },
    { securityGroupId: "sg-rules-2", vpcId: "vpc-1", ruleCount: 600 },
    { securityGroupId: "sg-beijing", vpcId: "vpc-1", regionId: "cn-beijing" },
  ],
  instances: [
    { instanceId: "i-linux", vpcId: "vpc-1", securityGroupIds: ["sg-a"], instanceType: "ecs.g7.large", instanceName: "linux-1" },
    { instanceId: "i-win", vpcId: "vpc-1", securityGroupIds: ["sg-a"], osType: "windows", instanceType: "ecs.g7.large" },
    { instanceId: "i-burst", vpcId: "vpc-1", securityGroupIds: ["sg-a"], instanceType: "ecs.t6-c1m1.large" },
    { instanceId: "i-prepaid", vpcId: "vpc-1", securityGroupIds: ["sg-a"], instanceChargeType: "PrePaid" },
    { instanceId: "i-spot", vpcId: "vpc-1", securityGroupIds: ["sg-a"], spotStrategy: "SpotAsPriceGo" },
    { instanceId: "i-classic", instanceNetworkType: "classic", securityGroupIds: ["sg-classic"] },
    { instanceId: "i-noio", vpcId: "vpc-1", securityGroupIds: ["sg-a"], ioOptimized: false, status: "Stopped" },
    { instanceId: "i-nocloudinit", vpcId: "vpc-1", securityGroupIds: ["sg-a"], imageSupportsCloudInit: false, status: "Stopped" },
    { instanceId: "i-g5", vpcId: "vpc-1", securityGroupIds: ["sg-a"], instanceType: "ecs.g5.large", status: "Stopped" },
    { instanceId: "i-g8i", vpcId: "vpc-1", securityGroupIds: ["sg-a"], instanceType: "ecs.g8i.xlarge", status: "Stopped" },
    {
      instanceId: "i-xl",
      vpcId: "vpc-1",
      securityGroupIds: ["sg-a"],
      instanceType: "ecs.g7.xlarge",
      secondaryEniQueueNumbers: [4, 2],
      status: "Stopped",
    },
    {
      instanceId: "i-locked",
      vpcId: "vpc-1",
      securityGroupIds: ["sg-a"],
      operationLocks: [{ lockReason: "security", lockMsg: "locked by test" }],
    },
    { instanceId: "i-full-member", vpcId: "vpc-1", securityGroupIds: ["sg-full"] },
    { instanceId: "i-ent-member", vpcId: "vpc-1", securityGroupIds: ["sg-ent-full"] },
  ],
};

/** Awaits a rejected SDK call and checks the ECS code and HTTP status it surfaced. */
export async function expectEcsError(call: Promise<unknown>, code: string, statusCode: number): Promise<Record<string, unknown>> {
  let caught: unknown;
  try {
    await call;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${code}`).toBeDefined();
  const e = caught as { code?: string; statusCode?: number; data?: Record<string, unknown> };
  expect({ code: e.code, statusCode: e.statusCode }).toEqual({ code, statusCode });
  expect(e.data?.["Code"]).toBe(code);
  expect(typeof e.data?.["RequestId"]).toBe("string");
  return e;
}
