/**
 * Every error code of the ModifyInstanceAttribute table (and the common codes) that a
 * single-account emulator models, each reached through a real SDK call, asserting code and HTTP
 * status. docs/emulator.md lists the codes deliberately not modelled.
 */
import * as $Ecs from "@alicloud/ecs20140526";
import { $OpenApiUtil } from "@alicloud/openapi-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ERROR_TABLE } from "../../../src/emulator/errors.js";
import { ecsClient, startEmulatorInProcess, type EmulatorHandle } from "../../../harness/emulator.js";
import { expectEcsError, REGION, RICH_SEED } from "./fixtures.js";

type Client = ReturnType<typeof ecsClient>;

interface ModifyFields {
  instanceId?: string;
  instanceName?: string;
  description?: string;
  password?: string;
  hostName?: string;
  userData?: string;
  recyclable?: boolean;
  creditSpecification?: string;
  deletionProtection?: boolean;
  securityGroupIds?: string[];
  enableJumboFrame?: boolean;
  enableNetworkEncryption?: boolean;
  networkInterfaceQueueNumber?: number;
  cpuOptions?: { core?: number; threadsPerCore?: number; topologyType?: string; nestedVirtualization?: string };
  privateDnsNameOptions?: { hostnameType?: string; enableIpDnsARecord?: boolean };
}

function modify(c: Client, f: ModifyFields): Promise<unknown> {
  const { cpuOptions, privateDnsNameOptions, ...rest } = f;
  return c.modifyInstanceAttribute(
    new $Ecs.ModifyInstanceAttributeRequest({
      ...rest,
      ...(cpuOptions ? { cpuOptions: new $Ecs.ModifyInstanceAttributeRequestCpuOptions(cpuOptions) } : {}),
      ...(privateDnsNameOptions ? { privateDnsNameOptions: new $Ecs.ModifyInstanceAttributeRequestPrivateDnsNameOptions(privateDnsNameOptions) } : {}),
    }),
  );
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString("base64");

interface Row {
  name: string;
  code: string;
  status: number;
  setup?: (emu: EmulatorHandle) => Promise<unknown>;
  call: (c: Client, emu: EmulatorHandle) => Promise<unknown>;
}

const rows: Row[] = [
  // --- lookup, lock, required parameters ---
  { name: "unknown instance", code: "InvalidInstanceId.NotFound", status: 404, call: (c) => modify(c, { instanceId: "i-nope", instanceName: "abc" }) },
  { name: "no InstanceId", code: "MissingParameter", status: 400, call: (c) => modify(c, { instanceName: "abc" }) },
  { name: "security lock", code: "InstanceLockedForSecurity", status: 403, call: (c) => modify(c, { instanceId: "i-locked", instanceName: "abc" }) },
  // --- names ---
  {
    name: "name starting with a digit",
    code: "InvalidInstanceName.Malformed",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-linux", instanceName: "1web" }),
  },
  {
    name: "name with a period (current metadata)",
    code: "InvalidInstanceName.Malformed",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-linux", instanceName: "web.example" }),
  },
  {
    name: "description with http:// prefix",
    code: "InvalidDescription.Malformed",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-linux", description: "http://example.com" }),
  },
  // --- password ---
  { name: "password too short", code: "InvalidPassword.Malformed", status: 400, call: (c) => modify(c, { instanceId: "i-linux", password: "Ab1!" }) },
  {
    name: "Windows password starting with /",
    code: "InvalidHostPassword.Malformed",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-win", password: "/Abc12345" }),
  },
  {
    name: "password while Starting",
    code: "IncorrectInstanceStatus",
    status: 403,
    setup: (emu) => emu.admin.setState("i-linux", "Starting"),
    call: (c) => modify(c, { instanceId: "i-linux", password: "Passw0rd!x" }),
  },
  // --- hostname ---
  {
    name: "Windows hostname with a dot",
    code: "InvalidHostName.Malformed",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-win", hostName: "web.example" }),
  },
  {
    name: "hostname while Pending",
    code: "IncorrectInstanceStatus",
    status: 403,
    setup: (emu) => emu.admin.setState("i-linux", "Pending"),
    call: (c) => modify(c, { instanceId: "i-linux", hostName: "web-2" }),
  },
  {
    name: "second hostname before the restart",
    code: "InvalidInstanceStatus.NeedRestart",
    status: 404,
    setup: (emu) => modify(ecsClient(emu), { instanceId: "i-linux", hostName: "host-a" }),
    call: (c) => modify(c, { instanceId: "i-linux", hostName: "host-b" }),
  },
  // --- user data ---
  {
    name: "user data not permitted for the account",
    code: "InvalidUserData.Forbidden",
    status: 403,
    setup: (emu) => emu.admin.patchAccount({ userDataAllowed: false }),
    call: (c) => modify(c, { instanceId: "i-noio", userData: b64("#!/bin/sh\n") }),
  },
  {
    name: "user data not Base64",
    code: "InvalidUserData.Base64FormatInvalid",
    status: 403,
    call: (c) => modify(c, { instanceId: "i-g5", userData: "not base64!" }),
  },
  {
    name: "user data over 32 KB",
    code: "InvalidUserData.SizeExceeded",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-g5", userData: b64(Buffer.alloc(32 * 1024 + 1, 0x61)) }),
  },
  {
    name: "user data on a non-I/O-optimized instance",
    code: "InvalidUserData.NotSupported",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-noio", userData: b64("echo hi") }),
  },
  {
    name: "user data on a classic instance",
    code: "InvalidUserData.NotSupported",
    status: 400,
    setup: (emu) => emu.admin.setState("i-classic", "Stopped"),
    call: (c) => modify(c, { instanceId: "i-classic", userData: b64("echo hi") }),
  },
  {
    name: "user data with an image without cloud-init",
    code: "ImageNotSupportCloudInit",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-nocloudinit", userData: b64("echo hi") }),
  },
  {
    name: "user data while Running, under the older Stopped-only reading",
    code: "IncorrectInstanceStatus",
    status: 403,
    setup: (emu) => emu.admin.patchAccount({ userDataRequiresStopped: true }),
    call: (c) => modify(c, { instanceId: "i-linux", userData: b64("echo hi") }),
  },
  // --- preview parameters ---
  {
    name: "Recyclable without invitation",
    code: "InvalidParameter.RecycleBin",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-linux", recyclable: true }),
  },
  {
    name: "network encryption without invitation",
    code: "InvalidOperation.UserNotSupportNetworkEncryption",
    status: 403,
    call: (c) => modify(c, { instanceId: "i-linux", enableNetworkEncryption: true }),
  },
  {
    name: "network encryption on a type without it",
    code: "InvalidOperation.InstanceTypeNotSupportNetworkEncryption",
    status: 403,
    setup: (emu) => emu.admin.patchAccount({ networkEncryptionAllowed: true }),
    call: (c) => modify(c, { instanceId: "i-linux", enableNetworkEncryption: true }),
  },
  // --- credit specification, deletion protection ---
  {
    name: "unknown credit mode",
    code: "InvalidParameter.CreditSpecification",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-burst", creditSpecification: "Turbo" }),
  },
  {
    name: "credit mode on a non-burstable type",
    code: "Credit.NotFound",
    status: 404,
    call: (c) => modify(c, { instanceId: "i-linux", creditSpecification: "Unlimited" }),
  },
  {
    name: "credit mode with an overdue account",
    code: "InvalidInstanceStatus.CreditSpecRestricted",
    status: 400,
    setup: (emu) => emu.admin.patchAccount({ creditOverdue: true }),
    call: (c) => modify(c, { instanceId: "i-burst", creditSpecification: "Unlimited" }),
  },
  {
    name: "deletion protection on PrePaid",
    code: "InvalidChargeType.ValueNotSupported",
    status: 403,
    call: (c) => modify(c, { instanceId: "i-prepaid", deletionProtection: true }),
  },
  {
    name: "deletion protection on spot",
    code: "InvalidChargeType.ValueNotSupported",
    status: 403,
    call: (c) => modify(c, { instanceId: "i-spot", deletionProtection: true }),
  },
  // --- security groups ---
  {
    name: "groups on a classic instance",
    code: "InvalidNetworkType.NotSupported",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-classic", securityGroupIds: ["sg-classic"] }),
  },
  {
    name: "duplicate group IDs",
    code: "InvalidParameter.SecurityGroupIdRepeated",
    status: 404,
    call: (c) => modify(c, { instanceId: "i-linux", securityGroupIds: ["sg-a", "sg-a"] }),
  },
  {
    name: "six groups (quota 5)",
    code: "JoinedGroupLimitExceed",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-linux", securityGroupIds: ["sg-a", "sg-b", "sg-c", "sg-d", "sg-e", "sg-f"] }),
  },
  {
    name: "unknown group",
    code: "InvalidSecurityGroupId.NotFound",
    status: 404,
    call: (c) => modify(c, { instanceId: "i-linux", securityGroupIds: ["sg-a", "sg-nope"] }),
  },
  {
    name: "group in another region",
    code: "InvalidOperation.InvalidRegion",
    status: 403,
    call: (c) => modify(c, { instanceId: "i-linux", securityGroupIds: ["sg-beijing"] }),
  },
  {
    name: "classic group on a VPC instance",
    code: "InvalidSecurityGroupType.NotSupportClassic",
    status: 404,
    call: (c) => modify(c, { instanceId: "i-linux", securityGroupIds: ["sg-classic"] }),
  },
  {
    name: "group in another VPC",
    code: "InvalidSecurityGroupVpc.NotBelongToOneVpc",
    status: 404,
    call: (c) => modify(c, { instanceId: "i-linux", securityGroupIds: ["sg-a", "sg-vpc2"] }),
  },
  {
    name: "group managed by a cloud product",
    code: "InvalidOperation.ResourceManagedByCloudProduct",
    status: 403,
    call: (c) => modify(c, { instanceId: "i-linux", securityGroupIds: ["sg-managed"] }),
  },
  {
    name: "basic and enterprise mixed",
    code: "EnterpriseGroupLimited.MutliGroupType",
    status: 403,
    call: (c) => modify(c, { instanceId: "i-linux", securityGroupIds: ["sg-a", "sg-ent"] }),
  },
  { name: "full basic group", code: "OperationDenied", status: 403, call: (c) => modify(c, { instanceId: "i-linux", securityGroupIds: ["sg-full"] }) },
  {
    name: "full enterprise group",
    code: "InvalidOperation.EniCountExceeded",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-linux", securityGroupIds: ["sg-ent-full"] }),
  },
  {
    name: "too many rules across groups",
    code: "AclLimitExceed",
    status: 403,
    call: (c) => modify(c, { instanceId: "i-linux", securityGroupIds: ["sg-rules-1", "sg-rules-2"] }),
  },
  // --- jumbo frames ---
  {
    name: "jumbo frames on a type without them",
    code: "InvalidParam.NotSupportJumboFrame",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-g5", enableJumboFrame: true }),
  },
  {
    name: "jumbo frames while Stopping",
    code: "InvalidOperation.InstanceStatusNotSupport",
    status: 400,
    setup: (emu) => emu.admin.setState("i-linux", "Stopping"),
    call: (c) => modify(c, { instanceId: "i-linux", enableJumboFrame: true }),
  },
  // --- NIC queues ---
  {
    name: "queue number 0",
    code: "InvalidParameter.InvalidEniQueueNumber",
    status: 403,
    call: (c) => modify(c, { instanceId: "i-g8i", networkInterfaceQueueNumber: 0 }),
  },
  {
    name: "queue number over the per-ENI maximum",
    code: "InvalidOperation.MaxEniQueueNumberExceeded",
    status: 403,
    call: (c) => modify(c, { instanceId: "i-g8i", networkInterfaceQueueNumber: 9 }),
  },
  {
    name: "queues over the type's total",
    code: "InvalidOperation.ExceedInstanceTypeQueueNumber",
    status: 403,
    call: (c) => modify(c, { instanceId: "i-xl", networkInterfaceQueueNumber: 4 }),
  },
  {
    name: "queue number while Running",
    code: "InvalidStatus.StoppedRequired",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-linux", networkInterfaceQueueNumber: 2 }),
  },
  // --- CPU options ---
  {
    name: "core count other than the default",
    code: "InvalidParameter.CpuOptionsCore",
    status: 403,
    call: (c) => modify(c, { instanceId: "i-g8i", cpuOptions: { core: 3 } }),
  },
  {
    name: "threads per core on a fixed type",
    code: "InvalidInstanceType.CpuOptionsThreadsPerCoreUnsupported",
    status: 403,
    call: (c) => modify(c, { instanceId: "i-g5", cpuOptions: { threadsPerCore: 1 } }),
  },
  {
    name: "threads per core out of range",
    code: "InvalidParameter.CpuOptionsThreadsPerCore",
    status: 403,
    call: (c) => modify(c, { instanceId: "i-g8i", cpuOptions: { threadsPerCore: 3 } }),
  },
  {
    name: "unknown topology type",
    code: "InvalidParameter.CpuOptionsTopologyType",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-g8i", cpuOptions: { topologyType: "Weird" } }),
  },
  {
    name: "topology on a type without it",
    code: "InvalidInstanceType.NotSupportCpuOptionsTopologyType",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-g5", cpuOptions: { topologyType: "DiscreteCoreToHTMapping" } }),
  },
  {
    name: "topology while Running",
    code: "InvalidOperation.InstanceStatusUnsupported",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-linux", cpuOptions: { topologyType: "DiscreteCoreToHTMapping" } }),
  },
  {
    name: "threads per core while Running",
    code: "InvalidStatus.StoppedRequired",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-linux", cpuOptions: { threadsPerCore: 1 } }),
  },
  {
    name: "unknown nested virtualization value",
    code: "InvalidParameter.CpuOptionsNestedVirtualization",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-g8i", cpuOptions: { nestedVirtualization: "maybe" } }),
  },
  {
    name: "nested virtualization on a type without it",
    code: "InvalidInstanceType.NotSupportCpuOptionsNestedVirtualization",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-g5", cpuOptions: { nestedVirtualization: "enabled" } }),
  },
  // --- private DNS ---
  {
    name: "IP-based hostname on Windows",
    code: "OSType.ValueNotSupported",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-win", privateDnsNameOptions: { hostnameType: "IpBased" } }),
  },
  {
    name: "unknown hostname type",
    code: "InvalidParameter",
    status: 400,
    call: (c) => modify(c, { instanceId: "i-linux", privateDnsNameOptions: { hostnameType: "Bogus" } }),
  },
  // --- injected server-side and throttling failures ---
  {
    name: "injected internal error",
    code: "InternalError",
    status: 500,
    setup: (emu) => emu.admin.addFault({ action: "ModifyInstanceAttribute", code: "InternalError", count: 1 }),
    call: (c) => modify(c, { instanceId: "i-linux", instanceName: "abc" }),
  },
  {
    name: "injected service unavailable",
    code: "ServiceUnavailable",
    status: 503,
    setup: (emu) => emu.admin.addFault({ action: "DescribeInstances", code: "ServiceUnavailable", count: 1 }),
    call: (c) => c.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION })),
  },
  {
    name: "per-minute limit of 0",
    code: "Throttling.User",
    status: 400,
    setup: (emu) => emu.admin.addFault({ action: "ModifyInstanceAttribute", kind: "throttle", limitPerMinute: 0 }),
    call: (c) => modify(c, { instanceId: "i-linux", instanceName: "abc" }),
  },
  // --- other actions and common codes ---
  {
    name: "StartInstance on a Running instance",
    code: "IncorrectInstanceStatus",
    status: 403,
    call: (c) => c.startInstance(new $Ecs.StartInstanceRequest({ instanceId: "i-linux" })),
  },
  {
    name: "StopInstance with DryRun",
    code: "DryRunOperation",
    status: 400,
    call: (c) => c.stopInstance(new $Ecs.StopInstanceRequest({ instanceId: "i-linux", dryRun: true })),
  },
  {
    name: "DescribeInstances without RegionId",
    code: "MissingParameter",
    status: 400,
    call: (c) => c.describeInstances(new $Ecs.DescribeInstancesRequest({})),
  },
  {
    name: "DescribeInstances with 101 IDs",
    code: "InvalidParameter",
    status: 400,
    call: (c) =>
      c.describeInstances(
        new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: JSON.stringify(Array.from({ length: 101 }, (_, n) => `i-${n}`)) }),
      ),
  },
  {
    name: "DescribeUserData of an unknown instance",
    code: "InvalidInstanceId.NotFound",
    status: 404,
    call: (c) => c.describeUserData(new $Ecs.DescribeUserDataRequest({ regionId: REGION, instanceId: "i-nope" })),
  },
  {
    name: "unknown action",
    code: "InvalidAction.NotFound",
    status: 404,
    call: (c) =>
      (c as unknown as { callApi: (p: unknown, r: unknown, rt: unknown) => Promise<unknown> }).callApi(
        new $OpenApiUtil.Params({
          action: "NoSuchAction",
          version: "2014-05-26",
          protocol: "HTTPS",
          pathname: "/",
          method: "POST",
          authType: "AK",
          style: "RPC",
          reqBodyType: "formData",
          bodyType: "json",
        }),
        new $OpenApiUtil.OpenApiRequest({ query: { RegionId: REGION } }),
        {},
      ),
  },
  {
    name: "unknown access key",
    code: "InvalidAccessKeyId.NotFound",
    status: 404,
    call: (_c, emu) => modify(ecsClient(emu, { accessKeyId: "nobody" }), { instanceId: "i-linux", instanceName: "abc" }),
  },
  {
    name: "wrong secret",
    code: "SignatureDoesNotMatch",
    status: 400,
    call: (_c, emu) => modify(ecsClient(emu, { accessKeySecret: "wrong" }), { instanceId: "i-linux", instanceName: "abc" }),
  },
  {
    name: "STS key with the wrong token",
    code: "InvalidSecurityToken.MismatchWithAccessKey",
    status: 400,
    setup: (emu) => emu.admin.addAccessKey({ accessKeyId: "STS.k", accessKeySecret: "s", securityToken: "tok" }),
    call: (_c, emu) =>
      modify(ecsClient(emu, { accessKeyId: "STS.k", accessKeySecret: "s", securityToken: "other" }), { instanceId: "i-linux", instanceName: "abc" }),
  },
  {
    name: "expired STS key",
    code: "InvalidSecurityToken.Expired",
    status: 400,
    setup: (emu) => emu.admin.addAccessKey({ accessKeyId: "STS.old", accessKeySecret: "s", securityToken: "tok", expiration: "2020-01-01T00:00:00Z" }),
    call: (_c, emu) =>
      modify(ecsClient(emu, { accessKeyId: "STS.old", accessKeySecret: "s", securityToken: "tok" }), { instanceId: "i-linux", instanceName: "abc" }),
  },
];

describe("error codes through the official SDK", () => {
  let emu: EmulatorHandle;
  let client: Client;
  let v1: Client;

  beforeAll(async () => {
    emu = await startEmulatorInProcess({ seed: RICH_SEED });
    client = ecsClient(emu);
    v1 = ecsClient(emu, { signatureAlgorithm: "v2" });
  });
  afterAll(() => emu.stop());
  beforeEach(() => emu.admin.reset());

  for (const row of rows) {
    it(`${row.name} → ${row.code} (${row.status})`, async () => {
      await row.setup?.(emu);
      const before = JSON.stringify(await emu.admin.listInstances());
      await expectEcsError(row.call(client, emu), row.code, row.status);
      // a rejected call changes nothing
      expect(JSON.stringify(await emu.admin.listInstances())).toBe(before);
      // the status matches the emulator's table, which the docs list
      const spec = (ERROR_TABLE as Record<string, { status: number }>)[row.code];
      expect(spec?.status).toBe(row.status);
    });
  }

  it("V1 (HMAC-SHA1) clients get the same codes", async () => {
    await expectEcsError(modify(v1, { instanceId: "i-nope", instanceName: "abc" }), "InvalidInstanceId.NotFound", 404);
    await expectEcsError(modify(v1, { instanceId: "i-linux", networkInterfaceQueueNumber: 2 }), "InvalidStatus.StoppedRequired", 400);
    await expectEcsError(
      modify(ecsClient(emu, { signatureAlgorithm: "v2", accessKeySecret: "wrong" }), { instanceId: "i-linux", instanceName: "abc" }),
      "SignatureDoesNotMatch",
      400,
    );
  });

  it("covers every modelled code of the seed's ModifyInstanceAttribute table", () => {
    const seedTable = [
      "InvalidInstanceName.Malformed",
      "InvalidDescription.Malformed",
      "InvalidHostPassword.Malformed",
      "InvalidHostName.Malformed",
      "InvalidPassword.Malformed",
      "InvalidUserData.SizeExceeded",
      "InvalidUserData.NotSupported",
      "ImageNotSupportCloudInit",
      "OSType.ValueNotSupported",
      "InvalidParameter.RecycleBin",
      "InvalidParameter.CreditSpecification",
      "InvalidInstanceStatus.CreditSpecRestricted",
      "InvalidNetworkType.NotSupported",
      "InvalidOperation.EniCountExceeded",
      "JoinedGroupLimitExceed",
      "InvalidParameter",
      "InvalidParam.NotSupportJumboFrame",
      "InvalidOperation.InstanceStatusNotSupport",
      "InvalidOperation.InstanceStatusUnsupported",
      "InvalidParameter.CpuOptionsTopologyType",
      "InvalidInstanceType.NotSupportCpuOptionsTopologyType",
      "InvalidStatus.StoppedRequired",
      "InvalidParameter.CpuOptionsNestedVirtualization",
      "InvalidInstanceType.NotSupportCpuOptionsNestedVirtualization",
      "InternalError",
      "IncorrectInstanceStatus",
      "InstanceLockedForSecurity",
      "OperationDenied",
      "InvalidUserData.Forbidden",
      "InvalidUserData.Base64FormatInvalid",
      "InvalidChargeType.ValueNotSupported",
      "EnterpriseGroupLimited.MutliGroupType",
      "InvalidOperation.InvalidRegion",
      "InvalidOperation.ResourceManagedByCloudProduct",
      "InvalidParameter.InvalidEniQueueNumber",
      "InvalidOperation.MaxEniQueueNumberExceeded",
      "InvalidOperation.ExceedInstanceTypeQueueNumber",
      "AclLimitExceed",
      "InvalidInstanceType.CpuOptionsThreadsPerCoreUnsupported",
      "InvalidParameter.CpuOptionsCore",
      "InvalidParameter.CpuOptionsThreadsPerCore",
      "InvalidOperation.UserNotSupportNetworkEncryption",
      "InvalidOperation.InstanceTypeNotSupportNetworkEncryption",
      "InvalidInstanceId.NotFound",
      "InvalidSecurityGroupId.NotFound",
      "Credit.NotFound",
      "InvalidInstanceStatus.NeedRestart",
      "InvalidParameter.SecurityGroupIdRepeated",
      "InvalidSecurityGroupType.NotSupportClassic",
      "InvalidSecurityGroupVpc.NotBelongToOneVpc",
    ];
    const reached = new Set(rows.map((r) => r.code));
    expect(seedTable.filter((c) => !reached.has(c))).toEqual([]);
  });
});
