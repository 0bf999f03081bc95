// The facade over a fake RPC client (pure logic: batching, paging, normalisation, extras, error
// conversion, throttle bookkeeping, metrics). The fake answers with ECS's own (PascalCase) field
// names, as the wire does. The real transport over HTTP is covered in test/integration/cloud
// against the emulator.
import { afterEach, describe, expect, it, vi } from "vitest";
import { Registry } from "prom-client";
import { ClientError, ThrottlingError } from "@alicloud/openapi-core";
import { EcsClientPool, type EcsApi, type RpcAnswer } from "../../../src/cloud/client.js";
import { EcsCloud, modifyParams } from "../../../src/cloud/ecs.js";
import { EcsError, SyntheticCode } from "../../../src/cloud/errors.js";
import type { EcsAction, RpcParams } from "../../../src/cloud/rpc.js";

interface FakeInstance {
  InstanceId: string;
  name: string;
}

/** A fake of the five actions, recording every call with its parameters (API names). */
class FakeEcs {
  calls: { action: string; req: Record<string, unknown> }[] = [];
  instances = new Map<string, FakeInstance>();
  pageSize = 100;
  modifyError: Error | undefined;
  /** DescribeInstances without NetworkInterfaces (forces the per-instance ENI read). */
  noEniIds = false;

  constructor(n: number) {
    for (let i = 0; i < n; i++) this.instances.set(`i-${i}`, { InstanceId: `i-${i}`, name: `web-${i}` });
  }

  api(): EcsApi {
    return { call: (action, params) => this.call(action, params) };
  }

  private call(action: EcsAction, params: RpcParams): Promise<RpcAnswer> {
    const req = params as Record<string, unknown>;
    this.calls.push({ action, req: { ...req } });
    const ok = (body: unknown) => Promise.resolve({ statusCode: 200, body });
    switch (action) {
      case "DescribeInstances":
        return ok(this.describeInstances(req));
      case "DescribeInstanceAttribute":
        return ok({ NetworkOptions: { EnableJumboFrame: true } });
      case "DescribeUserData":
        return ok({ UserData: "IyEvYmluL3NoCg==" });
      case "DescribeNetworkInterfaces": {
        const enis = req.NetworkInterfaceId as string[] | undefined;
        const set = enis
          ? enis.filter((e) => this.instances.has(e.replace(/^eni-/, ""))).map((e) => ({ NetworkInterfaceId: e, Type: "Primary", QueueNumber: 8 }))
          : [{ Type: "Primary", QueueNumber: 4 }];
        return ok({ NetworkInterfaceSets: { NetworkInterfaceSet: set } });
      }
      case "ModifyInstanceAttribute":
        if (this.modifyError) return Promise.reject(this.modifyError);
        return ok({ RequestId: "REQ-MOD" });
    }
  }

  private describeInstances(req: { InstanceIds?: string; NextToken?: string; RegionId?: string }) {
    const ids = JSON.parse(req.InstanceIds ?? "[]") as string[];
    const found = ids.filter((id) => this.instances.has(id));
    const start = req.NextToken ? Number(req.NextToken) : 0;
    const page = found.slice(start, start + this.pageSize);
    const next = start + this.pageSize < found.length ? String(start + this.pageSize) : "";
    return {
      RequestId: "R",
      NextToken: next,
      Instances: {
        Instance: page.map((id) => ({
          InstanceId: id,
          RegionId: req.RegionId,
          InstanceName: this.instances.get(id)!.name,
          Status: "Running",
          OSType: "Windows",
          SecurityGroupIds: { SecurityGroupId: ["sg-b", "sg-a", "sg-b"] },
          CpuOptions: { CoreCount: 2, ThreadsPerCore: 1, TopologyType: "" },
          OperationLocks: { LockReason: [{ LockReason: "security" }] },
          NetworkInterfaces: this.noEniIds
            ? undefined
            : {
                NetworkInterface: [
                  { Type: "Secondary", NetworkInterfaceId: `eni-sec-${id}` },
                  { Type: "Primary", NetworkInterfaceId: `eni-${id}` },
                ],
              },
        })),
      },
    };
  }

  count(action: string): number {
    return this.calls.filter((c) => c.action === action).length;
  }
}

function cloud(fake: FakeEcs, extra: ConstructorParameters<typeof EcsCloud>[0] = {}) {
  const pool = new EcsClientPool({ createClient: () => fake.api() });
  return new EcsCloud({ pool, retry: { retries: 0 }, rateLimit: { default: { qps: 1000, burst: 1000 } }, ...extra });
}

const target = { credentials: { type: "accessKey" as const, accessKeyId: "AKID", accessKeySecret: "sekret-value" }, regionId: "cn-hangzhou" };

describe("EcsCloud.getInstance", () => {
  it("coalesces 200 concurrent reads into 2 DescribeInstances calls of 100 IDs", async () => {
    const fake = new FakeEcs(200);
    const ecs = cloud(fake);
    const got = await Promise.all([...fake.instances.keys()].map((id) => ecs.getInstance(target, id)));
    expect(fake.count("DescribeInstances")).toBe(2);
    expect(fake.calls.map((c) => (JSON.parse(c.req.InstanceIds as string) as string[]).length)).toEqual([100, 100]);
    expect(got.every((g, i) => g?.instanceId === `i-${i}` && g.instanceName === `web-${i}`)).toBe(true);
    ecs.close();
  });

  it("follows NextToken paging within a batch", async () => {
    const fake = new FakeEcs(100);
    fake.pageSize = 30;
    const ecs = cloud(fake);
    const got = await Promise.all([...fake.instances.keys()].map((id) => ecs.getInstance(target, id)));
    expect(got.filter((g) => g !== null)).toHaveLength(100);
    expect(fake.calls.map((c) => c.req.NextToken ?? "")).toEqual(["", "30", "60", "90"]);
    ecs.close();
  });

  it("normalises the instance", async () => {
    const fake = new FakeEcs(1);
    const ecs = cloud(fake);
    const inst = await ecs.getInstance(target, "i-0");
    expect(inst).toMatchObject({
      instanceId: "i-0",
      regionId: "cn-hangzhou",
      status: "Running",
      osType: "windows",
      securityGroupIds: ["sg-a", "sg-b"],
      cpuOptions: { core: 2, threadsPerCore: 1, topologyType: "" },
      operationLocks: ["security"],
      primaryNetworkInterfaceId: "eni-i-0",
    });
    expect(inst).not.toHaveProperty("enableJumboFrame");
    ecs.close();
  });

  it("returns null for a missing instance and makes no extra reads for it", async () => {
    const fake = new FakeEcs(1);
    const ecs = cloud(fake);
    expect(await ecs.getInstance(target, "i-missing", { jumboFrame: true, userData: true, nicQueue: true })).toBeNull();
    expect(fake.calls.map((c) => c.action)).toEqual(["DescribeInstances"]);
    ecs.close();
  });

  it("makes the single-instance reads only when asked", async () => {
    const fake = new FakeEcs(1);
    const ecs = cloud(fake);
    await ecs.getInstance(target, "i-0", {});
    expect(fake.calls.map((c) => c.action)).toEqual(["DescribeInstances"]);
    const inst = await ecs.getInstance(target, "i-0", { jumboFrame: true, userData: true, nicQueue: true });
    expect(inst?.enableJumboFrame).toBe(true);
    expect(inst?.userData).toBe("IyEvYmluL3NoCg==");
    expect(inst?.networkInterfaceQueueNumber).toBe(8);
    expect(fake.calls.find((c) => c.action === "DescribeNetworkInterfaces")?.req).toMatchObject({ NetworkInterfaceId: ["eni-i-0"], RegionId: "cn-hangzhou" });
    expect(fake.calls.find((c) => c.action === "DescribeUserData")?.req).toMatchObject({ InstanceId: "i-0", RegionId: "cn-hangzhou" });
    ecs.close();
  });

  it("callers sharing one batched answer each get their own top level; the shared parts are frozen", async () => {
    const fake = new FakeEcs(1);
    const ecs = cloud(fake);
    const [a, b] = await Promise.all([ecs.getInstance(target, "i-0", { jumboFrame: true }), ecs.getInstance(target, "i-0")]);
    expect(fake.count("DescribeInstances")).toBe(1);
    // One caller's extra read does not show in the other's answer.
    expect(a?.enableJumboFrame).toBe(true);
    expect(b).not.toHaveProperty("enableJumboFrame");
    // Changing a shared nested value throws instead of changing the other caller's observation.
    expect(() => b!.securityGroupIds.push("sg-z")).toThrow(TypeError);
    expect(a?.securityGroupIds).toEqual(["sg-a", "sg-b"]);
    b!.instanceName = "changed-by-b";
    expect(a?.instanceName).toBe("web-0");
    ecs.close();
  });
});

describe("EcsCloud reads under the DescribeInstances rate limit (fake clock)", () => {
  afterEach(() => vi.useRealTimers());

  const idsOf = (c: { req: Record<string, unknown> }) => JSON.parse(c.req.InstanceIds as string) as string[];

  it("reads arriving while a batch waits for its token join it: one call per token, up to 100 IDs", async () => {
    vi.useFakeTimers();
    const fake = new FakeEcs(300);
    const ecs = cloud(fake, { rateLimit: { default: { qps: 1, burst: 1 } } });
    const first = ecs.getInstance(target, "i-0");
    await vi.advanceTimersByTimeAsync(5);
    // The burst token is spent; then one spec change every 5 ms for 600 ms (the next token is at 1 s).
    const later: Promise<unknown>[] = [];
    for (let i = 1; i <= 120; i++) {
      later.push(ecs.getInstance(target, `i-${i}`));
      await vi.advanceTimersByTimeAsync(5);
    }
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all([first, ...later]);
    expect(fake.calls.filter((c) => c.action === "DescribeInstances").map((c) => idsOf(c).length)).toEqual([1, 100, 20]);
    ecs.close();
  });

  it("close() fails a batch waiting for its token and sends nothing, then or later", async () => {
    vi.useFakeTimers();
    const fake = new FakeEcs(3);
    const ecs = cloud(fake, { rateLimit: { default: { qps: 1, burst: 1 } } });
    await ecs.prefetch(target, ["i-0"]);
    const waiting = ecs.getInstance(target, "i-1").catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    ecs.close();
    expect(await waiting).toBeInstanceOf(Error);
    const after = ecs.getInstance(target, "i-2").catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await after).toBeInstanceOf(Error);
    expect(fake.count("DescribeInstances")).toBe(1);
  });

  it("a round's observation answers once, or every read that may reuse it until a Modify of the instance is attempted", async () => {
    const fake = new FakeEcs(3);
    const ecs = cloud(fake);
    const reads = () => fake.count("DescribeInstances");
    await ecs.prefetch(target, ["i-0", "i-1", "i-2"]);
    expect(reads()).toBe(1);
    // Reuse: answered from the round's read, and still there for the next reuse.
    expect((await ecs.getInstance(target, "i-0", {}, undefined, { reuseRoundObservation: true }))?.instanceName).toBe("web-0");
    expect((await ecs.getInstance(target, "i-0", {}, undefined, { reuseRoundObservation: true }))?.instanceName).toBe("web-0");
    expect(reads()).toBe(1);
    // Without reuse the observation answers once; the next read goes to ECS.
    await ecs.getInstance(target, "i-1");
    expect(reads()).toBe(1);
    await ecs.getInstance(target, "i-1", {}, undefined, { reuseRoundObservation: true });
    expect(reads()).toBe(2);
    // A Modify attempt — even a failed one — ends the reuse: the instance may have changed.
    fake.modifyError = new Error("connection reset");
    await expect(ecs.modifyInstanceAttribute(target, { instanceId: "i-2", instanceName: "x" })).rejects.toThrow();
    await ecs.getInstance(target, "i-2", {}, undefined, { reuseRoundObservation: true });
    expect(reads()).toBe(3);
    ecs.close();
  });

  it("a resync round's read-ahead waits in the background lane: a spec change's read goes first", async () => {
    vi.useFakeTimers();
    const fake = new FakeEcs(400);
    const ecs = cloud(fake, { rateLimit: { default: { qps: 1, burst: 1 } } });
    const round = ecs.prefetch(
      target,
      [...fake.instances.keys()].filter((id) => id !== "i-399"),
    );
    await vi.advanceTimersByTimeAsync(100);
    // The round's first chunk took the burst token; three more wait for theirs.
    const change = ecs.getInstance(target, "i-399");
    await vi.advanceTimersByTimeAsync(5_000);
    await Promise.all([round, change]);
    const reads = fake.calls.filter((c) => c.action === "DescribeInstances").map((c) => idsOf(c).length);
    expect(reads).toEqual([100, 1, 100, 100, 99]);
    ecs.close();
  });
});

describe("EcsCloud NIC queue reads", () => {
  it("batches primary-ENI queue reads by ENI ID: 150 instances → 2 DescribeNetworkInterfaces calls", async () => {
    const fake = new FakeEcs(150);
    const ecs = cloud(fake);
    const got = await Promise.all([...fake.instances.keys()].map((id) => ecs.getInstance(target, id, { nicQueue: true })));
    expect(got.every((g) => g?.networkInterfaceQueueNumber === 8)).toBe(true);
    const nic = fake.calls.filter((c) => c.action === "DescribeNetworkInterfaces");
    expect(nic.map((c) => (c.req.NetworkInterfaceId as string[]).length)).toEqual([100, 50]);
    ecs.close();
  });

  it("falls back to InstanceId + Type=Primary when DescribeInstances names no primary ENI", async () => {
    const fake = new FakeEcs(1);
    fake.noEniIds = true;
    const ecs = cloud(fake);
    const inst = await ecs.getInstance(target, "i-0", { nicQueue: true });
    expect(inst?.networkInterfaceQueueNumber).toBe(4);
    expect(fake.calls.find((c) => c.action === "DescribeNetworkInterfaces")?.req).toMatchObject({ InstanceId: "i-0", Type: "Primary" });
    ecs.close();
  });
});

describe("EcsCloud.modifyInstanceAttribute", () => {
  it("sends exactly the fields that are set and returns the RequestId", async () => {
    const fake = new FakeEcs(1);
    const ecs = cloud(fake);
    const res = await ecs.modifyInstanceAttribute(target, {
      instanceId: "i-0",
      instanceName: "web-9",
      securityGroupIds: ["sg-1", "sg-2"],
      cpuOptions: { threadsPerCore: 1 },
      privateDnsNameOptions: { hostnameType: "Custom" },
    });
    expect(res).toEqual({ requestId: "REQ-MOD" });
    expect(fake.calls[0]!.req).toEqual({
      InstanceId: "i-0",
      InstanceName: "web-9",
      SecurityGroupIds: ["sg-1", "sg-2"],
      CpuOptions: { ThreadsPerCore: 1 },
      PrivateDnsNameOptions: { HostnameType: "Custom" },
    });
    ecs.close();
  });

  it("scrubs the password, user data and access key secret from error messages", async () => {
    const fake = new FakeEcs(1);
    fake.modifyError = new ClientError({
      statusCode: 400,
      code: "InvalidPassword.Malformed",
      message: "x",
      requestId: "R1",
      data: { Message: "bad Passw0rd!Passw0rd! / IyEvYmluL3NoCg== / sekret-value" },
    });
    const ecs = cloud(fake);
    const err = await ecs
      .modifyInstanceAttribute(target, { instanceId: "i-0", password: "Passw0rd!Passw0rd!", userData: "IyEvYmluL3NoCg==" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EcsError);
    const text = JSON.stringify(err) + String((err as Error).message);
    expect(text).not.toMatch(/Passw0rd|IyEvYmluL3NoCg|sekret-value/);
    expect((err as EcsError).requestId).toBe("R1");
    ecs.close();
  });

  it("on Throttling without retry-after, pauses the action until the next minute and fails fast after", async () => {
    const fake = new FakeEcs(1);
    fake.modifyError = new ThrottlingError({
      statusCode: 400,
      code: "Throttling.User",
      message: "x",
      data: { Message: "Request was denied due to user flow control." },
    });
    const ecs = cloud(fake, { rateLimit: { default: { qps: 1000, burst: 1000 }, maxWaitMs: 1000 } });
    const first = (await ecs.modifyInstanceAttribute(target, { instanceId: "i-0", instanceName: "a" }).catch((e: unknown) => e)) as EcsError;
    expect(first.code).toBe("Throttling.User");
    expect(first.retryAfterMs).toBeGreaterThan(0);
    expect(first.retryAfterMs).toBeLessThanOrEqual(60_000);
    const key = { account: "ak:AKID", region: "cn-hangzhou", action: "ModifyInstanceAttribute" };
    expect(ecs.limiter.snapshot(key)?.mode).toBe("paused");

    // While paused (longer than maxWaitMs), the next call is refused locally: no request is sent.
    const second = (await ecs.modifyInstanceAttribute(target, { instanceId: "i-0", instanceName: "a" }).catch((e: unknown) => e)) as EcsError;
    expect(second.code).toBe(SyntheticCode.ClientThrottled);
    expect(second.errorClass).toBe("transient");
    expect(fake.count("ModifyInstanceAttribute")).toBe(1);
    // Reads are another action: not paused.
    await expect(ecs.getInstance(target, "i-0")).resolves.not.toBeNull();
    ecs.close();
  });

  it("counts requests by action, region and code", async () => {
    const fake = new FakeEcs(1);
    const registry = new Registry();
    const ecs = cloud(fake, { registry });
    await ecs.getInstance(target, "i-0");
    fake.modifyError = new ClientError({ statusCode: 403, code: "IncorrectInstanceStatus", message: "x", data: {} });
    await ecs.modifyInstanceAttribute(target, { instanceId: "i-0", hostName: "h1" }).catch(() => undefined);
    const text = await registry.metrics();
    expect(text).toContain('ecs_api_requests_total{action="DescribeInstances",region="cn-hangzhou",code="Success"} 1');
    expect(text).toContain('ecs_api_requests_total{action="ModifyInstanceAttribute",region="cn-hangzhou",code="IncorrectInstanceStatus"} 1');
    expect(text).toMatch(/ecs_api_request_duration_seconds_count\{action="DescribeInstances",region="cn-hangzhou"\} 1/);
    // A second facade on the same registry reuses the metrics instead of throwing.
    expect(() => cloud(fake, { registry })).not.toThrow();
    ecs.close();
  });
});

describe("modifyParams", () => {
  it("omits unset nested option objects", () => {
    expect(modifyParams({ instanceId: "i-1", cpuOptions: {}, privateDnsNameOptions: { hostnameType: undefined } })).toEqual({ InstanceId: "i-1" });
  });

  it("keeps false and -1 values", () => {
    const m = modifyParams({ instanceId: "i-1", deletionProtection: false, enableJumboFrame: false, networkInterfaceQueueNumber: -1 });
    expect(m).toEqual({ InstanceId: "i-1", DeletionProtection: false, EnableJumboFrame: false, NetworkInterfaceQueueNumber: -1 });
  });
});

describe("EcsClientPool", () => {
  it("reuses one client per (credentials, region, endpoint) and separates rotated secrets", () => {
    const made: unknown[] = [];
    const pool = new EcsClientPool({ endpoint: "http://127.0.0.1:18080", createClient: (cfg) => (made.push(cfg), {} as EcsApi) });
    const a = pool.get(target.credentials, "cn-hangzhou");
    expect(pool.get({ ...target.credentials }, "cn-hangzhou")).toBe(a);
    pool.get(target.credentials, "eu-central-1");
    pool.get({ ...target.credentials, accessKeySecret: "rotated" }, "cn-hangzhou");
    expect(pool.created).toBe(3);
    const cfg = made[0] as { endpoint: string; protocol: string; connectTimeout: number; readTimeout: number; userAgent: string; retryOptions?: unknown };
    expect(cfg).toMatchObject({ endpoint: "127.0.0.1:18080", protocol: "http", connectTimeout: 5000, readTimeout: 10000 });
    expect(cfg.retryOptions).toBeUndefined();
    expect(cfg.userAgent).toMatch(new RegExp(`^ecs-attributes-controller/\\S+ pid/${process.pid}$`));
  });
});

describe("per-region endpoints and the circuit breaker", () => {
  it("--ecs-endpoint-for-region overrides the endpoint of one region only", () => {
    const made: Array<{ endpoint: string; regionId: string }> = [];
    const pool = new EcsClientPool({
      endpoint: "http://127.0.0.1:18080",
      regionEndpoints: { "cn-shanghai": "http://127.0.0.1:18081" },
      createClient: (cfg) => (made.push(cfg as unknown as { endpoint: string; regionId: string }), {} as EcsApi),
    });
    pool.get(target.credentials, "cn-hangzhou");
    pool.get(target.credentials, "cn-shanghai");
    expect(made.map((c) => `${c.regionId}@${c.endpoint}`)).toEqual(["cn-hangzhou@127.0.0.1:18080", "cn-shanghai@127.0.0.1:18081"]);
    expect(pool.endpointKey("cn-shanghai")).toBe("http://127.0.0.1:18081");
    expect(new EcsClientPool({}).endpointKey("cn-beijing")).toBe("ecs.cn-beijing.aliyuncs.com");
  });

  it("a config's endpoint: its region override wins, else the controller's endpoint, else the derived host with the config's network", () => {
    const made: Array<{ endpoint: string; protocol?: string; regionId: string }> = [];
    const record = (cfg: unknown) => (made.push(cfg as { endpoint: string; protocol?: string; regionId: string }), {} as EcsApi);
    const controller = new EcsClientPool({
      endpoint: "http://127.0.0.1:18080",
      regionEndpoints: { "cn-shanghai": "http://127.0.0.1:18082" },
      createClient: record,
    });
    const override = { url: { host: "127.0.0.1:18081", protocol: "http" as const }, network: "vpc" as const };
    controller.get(target.credentials, "cn-hangzhou", override);
    controller.get(target.credentials, "cn-shanghai", override);
    // No override for the region: the controller's --ecs-endpoint-for-region, then --ecs-endpoint (the network is moot).
    controller.get(target.credentials, "cn-shanghai", { network: "vpc" });
    controller.get(target.credentials, "cn-beijing", { network: "vpc" });
    // Nothing explicit: the host derived with the config's network, else the pool's.
    const derived = new EcsClientPool({ createClient: record });
    derived.get(target.credentials, "cn-beijing", { network: "vpc" });
    derived.get(target.credentials, "cn-beijing");
    expect(made.map((c) => `${c.regionId}@${c.protocol ?? "https"}://${c.endpoint}`)).toEqual([
      "cn-hangzhou@http://127.0.0.1:18081",
      "cn-shanghai@http://127.0.0.1:18081",
      "cn-shanghai@http://127.0.0.1:18082",
      "cn-beijing@http://127.0.0.1:18080",
      "cn-beijing@https://ecs-vpc.cn-beijing.aliyuncs.com",
      "cn-beijing@https://ecs.cn-beijing.aliyuncs.com",
    ]);
    expect(controller.endpointKey("cn-hangzhou", override)).toBe("http://127.0.0.1:18081");
    expect(controller.endpointKey("cn-hangzhou")).toBe("http://127.0.0.1:18080");
    expect(derived.endpointKey("cn-beijing", { network: "vpc" })).toBe("ecs-vpc.cn-beijing.aliyuncs.com");
    expect(new EcsClientPool({ network: "vpc" }).endpointKey("cn-beijing", { network: "public" })).toBe("ecs.cn-beijing.aliyuncs.com");
  });

  it("two targets with the same credentials but different endpoints: two clients, two batches, two breakers", async () => {
    const byEndpoint = new Map<string, FakeEcs>([
      ["127.0.0.1:18080", new FakeEcs(3)],
      ["127.0.0.1:18081", new FakeEcs(3)],
    ]);
    const pool = new EcsClientPool({ endpoint: "http://127.0.0.1:18080", createClient: (cfg) => byEndpoint.get(String(cfg.endpoint))!.api() });
    const ecs = new EcsCloud({ pool, retry: { retries: 0 }, rateLimit: { default: { qps: 1000, burst: 1000 } } });
    const teamB = { ...target, endpoint: { url: { host: "127.0.0.1:18081", protocol: "http" as const } } };
    expect(ecs.groupKey(teamB)).not.toBe(ecs.groupKey(target));
    expect(ecs.endpointOf(teamB.regionId, teamB.endpoint)).toBe("http://127.0.0.1:18081");
    // Concurrent reads in one batch window: one DescribeInstances per endpoint, each with its own IDs.
    await Promise.all([ecs.getInstance(target, "i-0"), ecs.getInstance(teamB, "i-1"), ecs.getInstance(teamB, "i-2")]);
    expect(pool.created).toBe(2);
    const idsAt = (port: string) =>
      byEndpoint
        .get(port)!
        .calls.filter((c) => c.action === "DescribeInstances")
        .map((c) => JSON.parse(c.req.InstanceIds as string) as string[]);
    expect(idsAt("127.0.0.1:18080")).toEqual([["i-0"]]);
    expect(idsAt("127.0.0.1:18081")).toEqual([["i-1", "i-2"]]);
    await ecs.modifyInstanceAttribute(teamB, { instanceId: "i-1", instanceName: "b" });
    expect(byEndpoint.get("127.0.0.1:18081")!.count("ModifyInstanceAttribute")).toBe(1);
    expect(byEndpoint.get("127.0.0.1:18080")!.count("ModifyInstanceAttribute")).toBe(0);
    ecs.close();
  });

  it("an unreachable region fails fast after 3 refused calls, without retries, and other regions go on", async () => {
    const fake = new FakeEcs(2);
    let attempts = 0;
    const dead: EcsApi = {
      call: () => (attempts++, Promise.reject(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }))),
    };
    const pool = new EcsClientPool({
      endpoint: "http://127.0.0.1:18080",
      regionEndpoints: { "cn-dead": "http://127.0.0.1:1" },
      createClient: (cfg) => ((cfg as { regionId?: string }).regionId === "cn-dead" ? dead : fake.api()),
    });
    const registry = new Registry();
    // The default read retry policy: a refused connection is still not retried in the call.
    const ecs = new EcsCloud({ pool, registry, rateLimit: { default: { qps: 1000, burst: 1000 } } });
    const deadTarget = { ...target, regionId: "cn-dead" };
    for (let i = 0; i < 3; i++) {
      await expect(ecs.getInstance(deadTarget, `i-${i}`)).rejects.toMatchObject({ code: "NetworkError", errorClass: "transient" });
    }
    expect(attempts).toBe(3);
    expect(ecs.breakers.state("http://127.0.0.1:1")).toBe("open");
    // Open: a write fails at once with the same transient error, and nothing is sent.
    await expect(ecs.modifyInstanceAttribute(deadTarget, { instanceId: "i-0", instanceName: "x" })).rejects.toMatchObject({
      code: "NetworkError",
      errorClass: "transient",
      action: "ModifyInstanceAttribute",
    });
    expect(attempts).toBe(3);
    // The healthy region is untouched.
    await expect(ecs.getInstance(target, "i-1")).resolves.toMatchObject({ instanceId: "i-1" });
    await ecs.modifyInstanceAttribute(target, { instanceId: "i-1", instanceName: "y" });
    expect(fake.count("ModifyInstanceAttribute")).toBe(1);
    const text = await registry.metrics();
    expect(text).toMatch(/ecs_endpoint_circuit_state\{endpoint="http:\/\/127\.0\.0\.1:1"\} 2/);
    ecs.close();
  });

  it("reports an endpoint whose circuit closes again (so keys waiting on it can be re-queued)", async () => {
    const fake = new FakeEcs(1);
    let down = true;
    const flaky: EcsApi = {
      call: (action, params) =>
        down && action === "DescribeInstances"
          ? Promise.reject(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))
          : fake.api().call(action, params),
    };
    const pool = new EcsClientPool({ endpoint: "http://127.0.0.1:18080", createClient: () => flaky });
    const ecs = new EcsCloud({ pool, breaker: { coolDownMs: 0 }, rateLimit: { default: { qps: 1000, burst: 1000 } } });
    const recovered: string[] = [];
    ecs.onEndpointRecovered((e) => recovered.push(e));
    for (let i = 0; i < 3; i++) await ecs.getInstance(target, "i-0").catch(() => undefined);
    expect(ecs.breakers.state(ecs.endpointOf("cn-hangzhou"))).toBe("open");
    down = false;
    await expect(ecs.getInstance(target, "i-0")).resolves.toMatchObject({ instanceId: "i-0" });
    expect(recovered).toEqual(["http://127.0.0.1:18080"]);
    ecs.close();
  });

  it("writes are sent once even on a transient answer (the queue retries the reconcile)", async () => {
    const fake = new FakeEcs(1);
    fake.modifyError = new ClientError({ statusCode: 500, code: "InternalError", message: "x", data: { Message: "internal" } });
    const ecs = cloud(fake, { retry: { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 1, randomize: false } });
    await expect(ecs.modifyInstanceAttribute(target, { instanceId: "i-0", instanceName: "a" })).rejects.toMatchObject({ code: "InternalError" });
    expect(fake.count("ModifyInstanceAttribute")).toBe(1);
    ecs.close();
  });
});
