// src/cloud against the real ECS emulator over HTTP, through the official SDK (V3 signatures).
// Every assertion about what was sent reads the emulator's call log.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { DEFAULT_CREDENTIALS } from "../../../src/cloud/client.js";
import { EcsCloud, type EcsCloudOptions, type EcsTarget } from "../../../src/cloud/ecs.js";
import { EcsError, SyntheticCode } from "../../../src/cloud/errors.js";
import { startEmulatorInProcess, TEST_ACCESS_KEY, type EmulatorHandle, type InstanceInput } from "../../../harness/emulator.js";

const REGION = "cn-hangzhou";
const N = 200;
const id = (i: number) => `i-cloudit${String(i).padStart(4, "0")}`;

const seedInstances: InstanceInput[] = [
  ...Array.from({ length: N }, (_, i): InstanceInput => ({
    instanceId: id(i),
    regionId: REGION,
    instanceName: `web-${i}`,
    vpcId: "vpc-1",
    securityGroupIds: ["sg-1"],
  })),
  {
    instanceId: "i-extras",
    regionId: REGION,
    instanceName: "extras",
    vpcId: "vpc-1",
    securityGroupIds: ["sg-2", "sg-1"],
    enableJumboFrame: true,
    userData: "IyEvYmluL3NoCmVjaG8gaGkK",
    networkInterfaceQueueNumber: 2,
    osType: "windows",
  },
  { instanceId: "i-locked", regionId: REGION, instanceName: "locked", vpcId: "vpc-1", operationLocks: [{ lockReason: "security" }] },
];

let emu: EmulatorHandle;
let ecs: EcsCloud | undefined;
const target: EcsTarget = { credentials: { type: "accessKey", ...TEST_ACCESS_KEY }, regionId: REGION };

function makeCloud(over: EcsCloudOptions = {}): EcsCloud {
  ecs = new EcsCloud({
    endpoint: emu.url,
    instanceId: "itest-cloud",
    retry: { retries: 3, minTimeoutMs: 20, maxTimeoutMs: 200, randomize: true, maxRetryTimeMs: 5_000 },
    rateLimit: { default: { qps: 500, burst: 500 } },
    ...over,
  });
  return ecs;
}

async function failure(p: Promise<unknown>): Promise<EcsError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(EcsError);
  return e as EcsError;
}

beforeAll(async () => {
  emu = await startEmulatorInProcess({
    seed: {
      vpcs: [{ vpcId: "vpc-1", regionId: REGION }],
      securityGroups: [
        { securityGroupId: "sg-1", vpcId: "vpc-1", regionId: REGION },
        { securityGroupId: "sg-2", vpcId: "vpc-1", regionId: REGION },
      ],
      instances: seedInstances,
    },
  });
});
afterAll(async () => {
  await emu?.stop();
});
beforeEach(async () => {
  await emu.admin.reset();
});
afterEach(() => {
  ecs?.close();
  ecs = undefined;
});

describe("batched reads", () => {
  it("200 concurrent getInstance calls → 2 DescribeInstances calls of 100 IDs", async () => {
    const cloud = makeCloud();
    const got = await Promise.all(Array.from({ length: N }, (_, i) => cloud.getInstance(target, id(i))));
    expect(got.map((g) => g?.instanceName)).toEqual(Array.from({ length: N }, (_, i) => `web-${i}`));
    const calls = await emu.admin.callLog({ action: "DescribeInstances" });
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => (JSON.parse(c.params["InstanceIds"]!) as string[]).length)).toEqual([100, 100]);
    expect(calls.every((c) => c.code === "OK" && c.signatureVersion === "v3")).toBe(true);
    // The call log can tell this writer apart.
    expect(calls[0]!.userAgent).toContain("ecs-attributes-controller/");
    expect(calls[0]!.userAgent).toContain(`pid/${process.pid}`);
    expect(calls[0]!.userAgent).toContain("instance/itest-cloud");
  });

  it("a missing instance is null; extras are read only when asked", async () => {
    const cloud = makeCloud();
    const [missing, plain] = await Promise.all([cloud.getInstance(target, "i-doesnotexist", { jumboFrame: true }), cloud.getInstance(target, "i-extras")]);
    expect(missing).toBeNull();
    expect(plain).toMatchObject({ instanceId: "i-extras", osType: "windows", securityGroupIds: ["sg-1", "sg-2"], status: "Running", vpcId: "vpc-1" });
    expect(plain?.enableJumboFrame).toBeUndefined();
    expect((await emu.admin.callLog()).map((c) => c.action)).toEqual(["DescribeInstances"]);

    const full = await cloud.getInstance(target, "i-extras", { jumboFrame: true, userData: true, nicQueue: true });
    expect(full).toMatchObject({ enableJumboFrame: true, userData: "IyEvYmluL3NoCmVjaG8gaGkK", networkInterfaceQueueNumber: 2 });
    const actions = (await emu.admin.callLog()).map((c) => c.action).sort();
    expect(actions).toEqual(["DescribeInstanceAttribute", "DescribeInstances", "DescribeInstances", "DescribeNetworkInterfaces", "DescribeUserData"]);
    const [nic] = await emu.admin.callLog({ action: "DescribeNetworkInterfaces" });
    expect(nic!.params["NetworkInterfaceId.1"]).toBe(full!.primaryNetworkInterfaceId);
  });

  it("200 reads with the NIC queue → 2 DescribeInstances + 2 DescribeNetworkInterfaces", async () => {
    const cloud = makeCloud();
    const got = await Promise.all(Array.from({ length: N }, (_, i) => cloud.getInstance(target, id(i), { nicQueue: true })));
    // ecs.g7.large's default primary-ENI queue count in the emulator's catalog is 2.
    expect(got.every((g) => g?.networkInterfaceQueueNumber === 2)).toBe(true);
    const log = await emu.admin.callLog();
    expect(log.filter((c) => c.action === "DescribeInstances")).toHaveLength(2);
    expect(log.filter((c) => c.action === "DescribeNetworkInterfaces")).toHaveLength(2);
  });

  it("reports operation locks", async () => {
    const inst = await makeCloud().getInstance(target, "i-locked");
    expect(inst?.operationLocks).toEqual(["security"]);
  });
});

describe("modify", () => {
  it("applies exactly the requested fields and returns the RequestId", async () => {
    const cloud = makeCloud();
    const { requestId } = await cloud.modifyInstanceAttribute(target, { instanceId: id(0), instanceName: "renamed-0", description: "managed by test" });
    const [call] = await emu.admin.callLog({ action: "ModifyInstanceAttribute" });
    expect(call).toBeDefined();
    expect(call!.requestId).toBe(requestId);
    expect(call!.params).toMatchObject({ InstanceId: id(0), InstanceName: "renamed-0", Description: "managed by test" });
    expect(Object.keys(call!.params).filter((k) => !["InstanceId", "InstanceName", "Description", "RegionId"].includes(k))).toEqual([]);
    const after = await cloud.getInstance(target, id(0));
    expect(after).toMatchObject({ instanceName: "renamed-0", description: "managed by test" });
  });

  it("sends the password (masked in the emulator's log) and nested options", async () => {
    const cloud = makeCloud();
    await cloud.modifyInstanceAttribute(target, {
      instanceId: id(1),
      password: "Xy9!secretPass",
      securityGroupIds: ["sg-1", "sg-2"],
      privateDnsNameOptions: { hostnameType: "Custom", enableIpDnsARecord: true },
    });
    expect(await emu.admin.verifyPassword(id(1), "Xy9!secretPass")).toBe(true);
    const after = await cloud.getInstance(target, id(1));
    expect(after?.securityGroupIds).toEqual(["sg-1", "sg-2"]);
    expect(after?.privateDnsNameOptions.enableIpDnsARecord).toBe(true);
  });
});

describe("error classification of real emulator answers", () => {
  it("InternalError ×2 is retried and then succeeds", async () => {
    await emu.admin.addFault({ action: "DescribeInstances", code: "InternalError", count: 2 });
    const inst = await makeCloud().getInstance(target, id(2));
    expect(inst?.instanceId).toBe(id(2));
    expect((await emu.admin.callLog({ action: "DescribeInstances" })).map((c) => c.code)).toEqual(["InternalError", "InternalError", "OK"]);
  });

  // Issue 13: a write is never retried inside the call (the work queue retries the reconcile,
  // which reads first); it was retried within the in-call budget before.
  it("InternalError on a write surfaces at once as a transient EcsError with code and RequestId", async () => {
    await emu.admin.addFault({ action: "ModifyInstanceAttribute", code: "InternalError" });
    const err = await failure(
      makeCloud({ retry: { retries: 1, minTimeoutMs: 10 } }).modifyInstanceAttribute(target, { instanceId: id(3), instanceName: "x-3" }),
    );
    expect(err).toMatchObject({ code: "InternalError", httpStatus: 500, errorClass: "transient", action: "ModifyInstanceAttribute" });
    expect(err.requestId).toBeTruthy();
    expect(err.message).not.toContain(err.requestId!);
    expect(await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).toHaveLength(1);
  });

  it("Throttling.User with x-acs-retry-after: bucket paused, no further request until it reopens", async () => {
    await emu.admin.addFault({ action: "ModifyInstanceAttribute", kind: "throttle", limitPerMinute: 1, window: "first-call", retryAfter: true });
    const registry = new Registry();
    const cloud = makeCloud({ registry, rateLimit: { default: { qps: 500, burst: 500 }, maxWaitMs: 2_000 } });
    await cloud.modifyInstanceAttribute(target, { instanceId: id(4), instanceName: "x-4" });
    const err = await failure(cloud.modifyInstanceAttribute(target, { instanceId: id(4), instanceName: "x-4b" }));
    expect(err).toMatchObject({ code: "Throttling.User", httpStatus: 400, errorClass: "transient" });
    // The server's retry-after (ms to the end of its 60 s window) reached us, and lies beyond the
    // in-call budget (and writes are never retried in the call), so there was no retry.
    expect(err.retryAfterMs).toBeGreaterThan(5_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(cloud.limiter.snapshot({ account: `ak:${TEST_ACCESS_KEY.accessKeyId}`, region: REGION, action: "ModifyInstanceAttribute" })?.mode).toBe("paused");
    const third = await failure(cloud.modifyInstanceAttribute(target, { instanceId: id(4), instanceName: "x-4c" }));
    expect(third.code).toBe(SyntheticCode.ClientThrottled);
    expect((await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).map((c) => c.code)).toEqual(["OK", "Throttling.User"]);
    expect(await registry.metrics()).toContain('ecs_api_requests_total{action="ModifyInstanceAttribute",region="cn-hangzhou",code="Throttling.User"} 1');
  });

  it("an HTML 502 page is InvalidResponse (transient), and is retried", async () => {
    await emu.admin.addFault({ action: "DescribeInstances", kind: "badGateway", count: 1 });
    const err = await failure(makeCloud({ retry: { retries: 0 } }).getInstance(target, id(5)));
    expect(err).toMatchObject({ code: SyntheticCode.InvalidResponse, errorClass: "transient" });
    ecs?.close();

    await emu.admin.addFault({ action: "DescribeInstances", kind: "badGateway", count: 1 });
    await expect(makeCloud().getInstance(target, id(5))).resolves.toMatchObject({ instanceId: id(5) });
  });

  it("a dropped connection is NetworkError (transient)", async () => {
    await emu.admin.addFault({ action: "DescribeInstances", kind: "reset", count: 1 });
    const err = await failure(makeCloud({ retry: { retries: 0 } }).getInstance(target, id(6)));
    expect(err).toMatchObject({ code: SyntheticCode.Network, errorClass: "transient" });
  });

  it("a reply slower than the read timeout is RequestTimeout (transient)", async () => {
    await emu.admin.addFault({ action: "DescribeInstances", kind: "latency", latencyMs: 1_500, count: 1 });
    const err = await failure(makeCloud({ retry: { retries: 0 }, readTimeoutMs: 300, connectTimeoutMs: 300 }).getInstance(target, id(7)));
    expect(err).toMatchObject({ code: SyntheticCode.Timeout, errorClass: "transient" });
  });

  it("a wrong secret is auth (SignatureDoesNotMatch); an unknown key id is auth too; neither is retried", async () => {
    const cloud = makeCloud();
    const wrongSecret = await failure(
      cloud.getInstance(
        { regionId: REGION, credentials: { type: "accessKey", accessKeyId: TEST_ACCESS_KEY.accessKeyId, accessKeySecret: "not-the-secret" } },
        id(8),
      ),
    );
    expect(wrongSecret.errorClass).toBe("auth");
    expect(wrongSecret.message).not.toContain("not-the-secret");
    const unknownKey = await failure(
      cloud.getInstance({ regionId: REGION, credentials: { type: "accessKey", accessKeyId: "nobody", accessKeySecret: "whatever-secret" } }, id(8)),
    );
    expect(unknownKey.errorClass).toBe("auth");
    expect([wrongSecret.code, unknownKey.code]).toEqual(["SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound"]);
    expect(await emu.admin.callLog({ action: "DescribeInstances" })).toHaveLength(2);
  });

  it("STS credentials (AccessKey + security token) work; a wrong or expired token is auth", async () => {
    await emu.admin.addAccessKey({ accessKeyId: "STS.cloudit", accessKeySecret: "sts-secret-value", securityToken: "sts-token-value" });
    await emu.admin.addAccessKey({
      accessKeyId: "STS.expired",
      accessKeySecret: "sts-secret-value",
      securityToken: "old-token-value",
      expiration: "2020-01-01T00:00:00Z",
    });
    const cloud = makeCloud();
    const sts = (accessKeyId: string, securityToken: string): EcsTarget => ({
      regionId: REGION,
      credentials: { type: "accessKey", accessKeyId, accessKeySecret: "sts-secret-value", securityToken },
    });
    await expect(cloud.getInstance(sts("STS.cloudit", "sts-token-value"), id(11))).resolves.toMatchObject({ instanceId: id(11) });
    const mismatch = await failure(cloud.getInstance(sts("STS.cloudit", "another-token"), id(11)));
    expect(mismatch).toMatchObject({ code: "InvalidSecurityToken.MismatchWithAccessKey", errorClass: "auth" });
    const expired = await failure(cloud.getInstance(sts("STS.expired", "old-token-value"), id(11)));
    expect(expired).toMatchObject({ code: "InvalidSecurityToken.Expired", errorClass: "auth" });
    for (const e of [mismatch, expired]) expect(JSON.stringify(e) + e.message).not.toMatch(/sts-secret-value|token-value|another-token/);
    const log = await emu.admin.callLog({ action: "DescribeInstances" });
    // One request each: auth errors are not retried.
    expect(log.map((c) => c.code)).toEqual(["OK", "InvalidSecurityToken.MismatchWithAccessKey", "InvalidSecurityToken.Expired"]);
    expect(log[0]!.accessKeyId).toBe("STS.cloudit");
  });

  it("state, lock and spec errors are classified (no retries for locked/terminal)", async () => {
    const cloud = makeCloud({ retry: { retries: 0 } });
    // ecs.g7.large in the emulator's catalog: at most 2 queues per ENI; queue changes need Stopped.
    const queue = await failure(cloud.modifyInstanceAttribute(target, { instanceId: id(9), networkInterfaceQueueNumber: 1 }));
    expect(queue).toMatchObject({ code: "InvalidStatus.StoppedRequired", errorClass: "waitForState" });
    const tooMany = await failure(cloud.modifyInstanceAttribute(target, { instanceId: id(9), networkInterfaceQueueNumber: 4 }));
    expect(tooMany).toMatchObject({ code: "InvalidOperation.MaxEniQueueNumberExceeded", errorClass: "terminal" });
    const locked = await failure(cloud.modifyInstanceAttribute(target, { instanceId: "i-locked", instanceName: "nope" }));
    expect(locked).toMatchObject({ code: "InstanceLockedForSecurity", errorClass: "locked" });
    const malformed = await failure(cloud.modifyInstanceAttribute(target, { instanceId: id(9), instanceName: "http://bad" }));
    expect(malformed).toMatchObject({ code: "InvalidInstanceName.Malformed", errorClass: "terminal" });
    const gone = await failure(cloud.modifyInstanceAttribute(target, { instanceId: "i-gone", instanceName: "abc" }));
    expect(gone).toMatchObject({ code: "InvalidInstanceId.NotFound", errorClass: "notFound", httpStatus: 404 });
  });
});

describe("default credential chain (@alicloud/credentials)", () => {
  const VARS = [
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_CLI_PROFILE_DISABLED",
    "ALIBABA_CLOUD_ECS_METADATA_DISABLED",
  ];
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const v of VARS) saved[v] = process.env[v];
    // Keep a developer's own profile or a metadata probe out of the test.
    process.env.ALIBABA_CLOUD_CLI_PROFILE_DISABLED = "true";
    process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true";
    delete process.env.ALIBABA_CLOUD_SECURITY_TOKEN;
  });
  afterEach(() => {
    for (const v of VARS) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
  });

  it("uses ALIBABA_CLOUD_* environment variables", async () => {
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = TEST_ACCESS_KEY.accessKeyId;
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = TEST_ACCESS_KEY.accessKeySecret;
    const inst = await makeCloud().getInstance({ credentials: DEFAULT_CREDENTIALS, regionId: REGION }, id(10));
    expect(inst?.instanceId).toBe(id(10));
    const [call] = await emu.admin.callLog({ action: "DescribeInstances" });
    expect(call?.accessKeyId).toBe(TEST_ACCESS_KEY.accessKeyId);
  });

  it("no credentials anywhere → CredentialsUnavailable (auth), nothing sent", async () => {
    delete process.env.ALIBABA_CLOUD_ACCESS_KEY_ID;
    delete process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
    const prevFile = process.env.ALIBABA_CLOUD_CREDENTIALS_FILE;
    process.env.ALIBABA_CLOUD_CREDENTIALS_FILE = "/nonexistent/ecs-attrs-credentials";
    try {
      const err = await failure(makeCloud().getInstance({ credentials: DEFAULT_CREDENTIALS, regionId: REGION }, id(10)));
      expect(err).toMatchObject({ code: SyntheticCode.CredentialsUnavailable, errorClass: "auth" });
      expect(await emu.admin.callLog()).toHaveLength(0);
    } finally {
      if (prevFile === undefined) delete process.env.ALIBABA_CLOUD_CREDENTIALS_FILE;
      else process.env.ALIBABA_CLOUD_CREDENTIALS_FILE = prevFile;
    }
  });
});
