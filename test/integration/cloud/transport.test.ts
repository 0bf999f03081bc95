// The controller's RPC transport (src/cloud/client.ts, through the client pool as EcsCloud uses it)
// and the official generated client (`@alicloud/ecs20140526`, as the SDK's own request shapes) send
// the same request for each action the controller uses: compared in the emulator's call log, which
// records what arrived (parameters, signature version), and in the answers as each side reads them.
import * as $Ecs from "@alicloud/ecs20140526";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EcsClientPool } from "../../../src/cloud/client.js";
import { modifyParams } from "../../../src/cloud/ecs.js";
import type { ModifyRequest } from "../../../src/cloud/model.js";
import { type EcsAction, type RpcParams, toModelKeys } from "../../../src/cloud/rpc.js";
import { type CallRecord, ecsClient, type EmulatorHandle, startEmulatorInProcess, TEST_ACCESS_KEY } from "../../../harness/emulator.js";

const REGION = "cn-hangzhou";
let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulatorInProcess({
    seed: {
      vpcs: [{ vpcId: "vpc-1", regionId: REGION }],
      securityGroups: [
        { securityGroupId: "sg-1", vpcId: "vpc-1", regionId: REGION },
        { securityGroupId: "sg-2", vpcId: "vpc-1", regionId: REGION },
      ],
      instances: [
        { instanceId: "i-wire1", regionId: REGION, instanceName: "one", vpcId: "vpc-1", securityGroupIds: ["sg-1"], userData: "aGk=", enableJumboFrame: true },
        { instanceId: "i-wire2", regionId: REGION, instanceName: "two", vpcId: "vpc-1", securityGroupIds: ["sg-1"], status: "Stopped" },
      ],
    },
  });
});
afterAll(async () => {
  await emu?.stop();
});
beforeEach(async () => {
  await emu.admin.reset();
});

type Sdk = ReturnType<typeof ecsClient>;

const modify: ModifyRequest = {
  instanceId: "i-wire2",
  instanceName: "renamed",
  description: "by the wire test",
  password: "Xy9!secretPass",
  securityGroupIds: ["sg-2", "sg-1"],
  deletionProtection: false,
  networkInterfaceQueueNumber: -1,
  privateDnsNameOptions: { hostnameType: "Custom", enableIpDnsARecord: true },
};

const CASES: { action: EcsAction; ours: RpcParams; sdk: (c: Sdk) => Promise<{ body?: unknown }> }[] = [
  {
    action: "DescribeInstances",
    ours: { RegionId: REGION, InstanceIds: JSON.stringify(["i-wire1", "i-wire2", "i-missing"]), MaxResults: 100 },
    sdk: (c) =>
      c.describeInstances(
        new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: JSON.stringify(["i-wire1", "i-wire2", "i-missing"]), maxResults: 100 }),
      ),
  },
  {
    action: "DescribeInstanceAttribute",
    ours: { InstanceId: "i-wire1" },
    sdk: (c) => c.describeInstanceAttribute(new $Ecs.DescribeInstanceAttributeRequest({ instanceId: "i-wire1" })),
  },
  {
    action: "DescribeUserData",
    ours: { RegionId: REGION, InstanceId: "i-wire1" },
    sdk: (c) => c.describeUserData(new $Ecs.DescribeUserDataRequest({ regionId: REGION, instanceId: "i-wire1" })),
  },
  {
    action: "DescribeNetworkInterfaces",
    ours: { RegionId: REGION, InstanceId: "i-wire1", Type: "Primary" },
    sdk: (c) => c.describeNetworkInterfaces(new $Ecs.DescribeNetworkInterfacesRequest({ regionId: REGION, instanceId: "i-wire1", type: "Primary" })),
  },
  {
    action: "ModifyInstanceAttribute",
    ours: modifyParams(modify),
    sdk: (c) =>
      c.modifyInstanceAttribute(
        new $Ecs.ModifyInstanceAttributeRequest({
          ...modify,
          privateDnsNameOptions: new $Ecs.ModifyInstanceAttributeRequestPrivateDnsNameOptions({ ...modify.privateDnsNameOptions }),
        }),
      ),
  },
];

/** What a call-log record says about the request as it arrived (not when or with which RequestId). */
const arrived = (r: CallRecord) => ({ action: r.action, params: r.params, code: r.code, signatureVersion: r.signatureVersion, accessKeyId: r.accessKeyId });

/** An answer without what differs on every call. */
function comparable(body: unknown): unknown {
  const { requestId: _r, ...rest } = body as { requestId?: string };
  return rest;
}

describe("the controller's transport and the generated client send the same requests", () => {
  it.each(CASES.map((c) => [c.action, c] as const))("%s", async (_name, c) => {
    const sdkAnswer = await c.sdk(ecsClient(emu));
    const ours = await new EcsClientPool({ endpoint: emu.url }).get({ type: "accessKey", ...TEST_ACCESS_KEY }, REGION).call(c.action, c.ours);
    const log = await emu.admin.callLog();
    expect(log).toHaveLength(2);
    const [sdkCall, ourCall] = log as [CallRecord, CallRecord];
    expect(sdkCall.code).toBe("OK");
    expect(arrived(ourCall)).toEqual(arrived(sdkCall));
    expect(ourCall.userAgent).toContain("ecs-attributes-controller/");
    // Every field the generated models read, ours reads under the same key with the same value (the
    // emulator also answers fields those models leave out, which the generated client drops).
    expect(comparable(toModelKeys(ours.body))).toMatchObject(comparable(sdkAnswer.body) as object);
  });

  it("the Modify call carried every field set, lists and groups flattened", async () => {
    await new EcsClientPool({ endpoint: emu.url }).get({ type: "accessKey", ...TEST_ACCESS_KEY }, REGION).call("ModifyInstanceAttribute", modifyParams(modify));
    const [call] = await emu.admin.callLog({ action: "ModifyInstanceAttribute" });
    expect(call!.params).toMatchObject({
      InstanceId: "i-wire2",
      Password: "******",
      "SecurityGroupIds.1": "sg-2",
      "SecurityGroupIds.2": "sg-1",
      DeletionProtection: "false",
      NetworkInterfaceQueueNumber: "-1",
      "PrivateDnsNameOptions.HostnameType": "Custom",
      "PrivateDnsNameOptions.EnableIpDnsARecord": "true",
    });
    expect(await emu.admin.verifyPassword("i-wire2", "Xy9!secretPass")).toBe(true);
  });
});
