// The RPC transport (src/cloud/client.ts RpcClient + src/cloud/rpc.ts) against the official generated
// client it replaces (`@alicloud/ecs20140526`, a devDependency): for each action, both hand the
// core's callApi the same Params and the same flat query, and read the same answer into the same
// shape. Both go through the core's one `callApi`, which is stubbed here (no network); the wire
// itself is compared through the emulator's call log in test/integration/cloud/transport.test.ts.
import * as $Ecs from "@alicloud/ecs20140526";
import EcsModule from "@alicloud/ecs20140526";
import CoreModule, { $OpenApiUtil } from "@alicloud/openapi-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FIELD_ROWS } from "../../../src/api/fields.js";
import { RpcClient } from "../../../src/cloud/client.js";
import { modifyParams } from "../../../src/cloud/ecs.js";
import type { ModifyRequest } from "../../../src/cloud/model.js";
import { type EcsAction, modelKey, regionalHost, type RpcParams, toModelKeys } from "../../../src/cloud/rpc.js";

type Ctor<T> = { default: T } | T;
const interop = <T>(m: Ctor<T>): T => (typeof m === "function" ? m : (m as { default: T }).default);
const EcsClient = interop(EcsModule as Ctor<(typeof EcsModule)["default"]>);
const Core = interop(CoreModule as Ctor<(typeof CoreModule)["default"]>);

const config = () =>
  new $OpenApiUtil.Config({ accessKeyId: "AKID", accessKeySecret: "secret", regionId: "cn-hangzhou", endpoint: "127.0.0.1:1", protocol: "http" });

interface Captured {
  params: Record<string, unknown>;
  query: Record<string, string>;
}

/** Stubs the core's callApi: records what it is handed and answers `body` with HTTP 200. */
function stubCallApi(body: unknown): Captured[] {
  const seen: Captured[] = [];
  vi.spyOn(Core.prototype, "callApi").mockImplementation((params: $OpenApiUtil.Params, request: $OpenApiUtil.OpenApiRequest) => {
    seen.push({ params: { ...params }, query: { ...(request.query ?? {}) } });
    return Promise.resolve({ statusCode: 200, headers: {}, body: structuredClone(body) });
  });
  return seen;
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** Every managed field set, nested groups complete. */
const fullModify: ModifyRequest = {
  instanceId: "i-1",
  instanceName: "web-1",
  description: "a web server",
  hostName: "web-1",
  password: "Secr3t!pass",
  userData: "aGk=",
  securityGroupIds: ["sg-b", "sg-a"],
  deletionProtection: false,
  creditSpecification: "Unlimited",
  networkInterfaceQueueNumber: -1,
  enableJumboFrame: false,
  cpuOptions: { core: 2, threadsPerCore: 1, topologyType: "DiscreteCoreToHTMapping" },
  privateDnsNameOptions: {
    hostnameType: "Custom",
    enableInstanceIdDnsARecord: true,
    enableInstanceIdDnsAAAARecord: false,
    enableIpDnsARecord: true,
    enableIpDnsPtrRecord: false,
  },
};

type Sdk = InstanceType<typeof EcsClient>;

/** One case per action: our parameters, the generated client's call for the same request, a typical answer. */
const CASES: { action: EcsAction; ours: RpcParams; sdk: (c: Sdk) => Promise<{ body?: unknown }>; answer: unknown }[] = [
  {
    action: "DescribeInstances",
    ours: { RegionId: "cn-hangzhou", InstanceIds: JSON.stringify(["i-1", "i-2"]), MaxResults: 100, NextToken: "tok" },
    sdk: (c) =>
      c.describeInstances(
        new $Ecs.DescribeInstancesRequest({ regionId: "cn-hangzhou", instanceIds: JSON.stringify(["i-1", "i-2"]), maxResults: 100, nextToken: "tok" }),
      ),
    answer: {
      RequestId: "R",
      NextToken: "",
      TotalCount: 1,
      Instances: {
        Instance: [
          {
            InstanceId: "i-1",
            InstanceName: "web-1",
            OSType: "linux",
            Status: "Running",
            DeletionProtection: true,
            VpcAttributes: { VpcId: "vpc-1", VSwitchId: "vsw-1", PrivateIpAddress: { IpAddress: ["10.0.0.1"] } },
            SecurityGroupIds: { SecurityGroupId: ["sg-1"] },
            CpuOptions: { CoreCount: 2, ThreadsPerCore: 1, TopologyType: "" },
            PrivateDnsNameOptions: { HostnameType: "Custom", EnableIpDnsARecord: true },
            OperationLocks: { LockReason: [{ LockReason: "security" }] },
            NetworkInterfaces: { NetworkInterface: [{ NetworkInterfaceId: "eni-1", Type: "Primary" }] },
            Tags: { Tag: [{ TagKey: "env", TagValue: "prod" }] },
          },
        ],
      },
    },
  },
  {
    action: "DescribeInstanceAttribute",
    ours: { InstanceId: "i-1" },
    sdk: (c) => c.describeInstanceAttribute(new $Ecs.DescribeInstanceAttributeRequest({ instanceId: "i-1" })),
    answer: { RequestId: "R", InstanceId: "i-1", NetworkOptions: { EnableJumboFrame: true } },
  },
  {
    action: "DescribeUserData",
    ours: { RegionId: "cn-hangzhou", InstanceId: "i-1" },
    sdk: (c) => c.describeUserData(new $Ecs.DescribeUserDataRequest({ regionId: "cn-hangzhou", instanceId: "i-1" })),
    answer: { RequestId: "R", InstanceId: "i-1", RegionId: "cn-hangzhou", UserData: "aGk=" },
  },
  {
    action: "DescribeNetworkInterfaces",
    ours: { RegionId: "cn-hangzhou", NetworkInterfaceId: ["eni-1", "eni-2"], MaxResults: 100 },
    sdk: (c) =>
      c.describeNetworkInterfaces(
        new $Ecs.DescribeNetworkInterfacesRequest({ regionId: "cn-hangzhou", networkInterfaceId: ["eni-1", "eni-2"], maxResults: 100 }),
      ),
    answer: {
      RequestId: "R",
      NextToken: "",
      NetworkInterfaceSets: { NetworkInterfaceSet: [{ NetworkInterfaceId: "eni-1", Type: "Primary", QueueNumber: 8, VSwitchId: "vsw-1" }] },
    },
  },
  {
    action: "DescribeNetworkInterfaces",
    ours: { RegionId: "cn-hangzhou", InstanceId: "i-1", Type: "Primary" },
    sdk: (c) => c.describeNetworkInterfaces(new $Ecs.DescribeNetworkInterfacesRequest({ regionId: "cn-hangzhou", instanceId: "i-1", type: "Primary" })),
    answer: { RequestId: "R", NetworkInterfaceSets: { NetworkInterfaceSet: [{ Type: "Primary", QueueNumber: 4 }] } },
  },
  {
    action: "ModifyInstanceAttribute",
    ours: modifyParams(fullModify),
    sdk: (c) =>
      c.modifyInstanceAttribute(
        new $Ecs.ModifyInstanceAttributeRequest({
          ...fullModify,
          cpuOptions: new $Ecs.ModifyInstanceAttributeRequestCpuOptions({ ...fullModify.cpuOptions }),
          privateDnsNameOptions: new $Ecs.ModifyInstanceAttributeRequestPrivateDnsNameOptions({ ...fullModify.privateDnsNameOptions }),
        }),
      ),
    answer: { RequestId: "R" },
  },
];

describe("RpcClient vs the generated client", () => {
  it.each(CASES.map((c, i) => [`${c.action} #${i}`, c] as const))("%s: same Params, same query, same answer shape", async (_name, c) => {
    const seen = stubCallApi(c.answer);
    const sdkAnswer = await c.sdk(new EcsClient(config()));
    const ours = await new RpcClient(config()).call(c.action, c.ours);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.params).toEqual(seen[0]!.params);
    expect(seen[1]!.query).toEqual(seen[0]!.query);
    expect(Object.keys(seen[0]!.query).length).toBeGreaterThan(0);
    // The generated models' view of the answer is our key renaming of it (toEqual ignores classes).
    expect(toModelKeys(ours.body)).toEqual(sdkAnswer.body);
    expect(ours.statusCode).toBe(200);
  });

  it("the full ModifyInstanceAttribute carries every field of the table, lists and groups flattened", () => {
    const seen = stubCallApi({ RequestId: "R" });
    return new RpcClient(config()).call("ModifyInstanceAttribute", modifyParams(fullModify)).then(() => {
      const q = seen[0]!.query;
      expect(q).toMatchObject({
        InstanceId: "i-1",
        "SecurityGroupIds.1": "sg-b",
        "SecurityGroupIds.2": "sg-a",
        "CpuOptions.Core": "2",
        "PrivateDnsNameOptions.EnableIpDnsPtrRecord": "false",
        NetworkInterfaceQueueNumber: "-1",
        DeletionProtection: "false",
      });
      const heads = new Set(Object.keys(q).map((k) => k.replace(/\.\d+$/, "")));
      for (const row of FIELD_ROWS) expect(heads, row.param).toContain(row.param.replace(/\.N$/, ""));
    });
  });
});

describe("response field names", () => {
  it("modelKey gives the generated models' property name for every response field of the package", () => {
    let checked = 0;
    for (const [name, cls] of Object.entries($Ecs)) {
      if (!name.includes("ResponseBody") || typeof cls !== "function" || !("names" in cls)) continue;
      for (const [prop, wire] of Object.entries((cls as { names(): Record<string, string> }).names())) {
        expect(modelKey(wire), `${name}.${wire}`).toBe(prop);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });
});

describe("regional host", () => {
  const sdkHost = (regionId: string, network?: string) =>
    (new EcsClient(new $OpenApiUtil.Config({ regionId, ...(network ? { network } : {}) })) as unknown as { _endpoint: string })._endpoint;

  it("matches the generated client's endpoint map and its rule, with and without network=vpc", () => {
    const mapped = Object.keys((new EcsClient(new $OpenApiUtil.Config({ regionId: "cn-beijing" })) as unknown as { _endpointMap: object })._endpointMap);
    expect(mapped.length).toBeGreaterThan(10);
    for (const region of [...mapped, "cn-beijing", "eu-central-1", "ap-southeast-1", "us-west-1"]) {
      expect(regionalHost(region, undefined), region).toBe(sdkHost(region));
      expect(regionalHost(region, "vpc"), region).toBe(sdkHost(region, "vpc"));
    }
    expect(regionalHost("cn-beijing", "vpc")).toBe("ecs-vpc.cn-beijing.aliyuncs.com");
  });
});
