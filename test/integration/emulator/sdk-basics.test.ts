/** The official SDK against the emulator: V3 and V1 signing, Modify → Describe, credentials, paging. */
import * as $Ecs from "@alicloud/ecs20140526";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EMPTY_SHA256, v1Signature, v1StringToSign, v3CanonicalRequest, v3Signature } from "../../../src/emulator/signature.js";
import { ecsClient, startEmulatorInProcess, type EmulatorHandle } from "../../../harness/emulator.js";
import { expectEcsError, REGION, RICH_SEED } from "./fixtures.js";

let emu: EmulatorHandle;
beforeAll(async () => {
  emu = await startEmulatorInProcess({ seed: RICH_SEED });
});
afterAll(() => emu.stop());
beforeEach(() => emu.admin.reset());

describe.each([
  { alg: "V3 (ACS3-HMAC-SHA256)", opts: {} },
  { alg: "V1 (HMAC-SHA1)", opts: { signatureAlgorithm: "v2" as const } },
])("$alg", ({ opts }) => {
  it("Modify then Describe shows the change", async () => {
    const c = ecsClient(emu, opts);
    const res = await c.modifyInstanceAttribute(
      new $Ecs.ModifyInstanceAttributeRequest({
        instanceId: "i-linux",
        instanceName: "web-1",
        description: "managed by ecs-attrs-controller: a b*c~d/é",
        hostName: "web-1.internal",
        deletionProtection: true,
        securityGroupIds: ["sg-b", "sg-c"],
        enableJumboFrame: true,
        password: "Passw0rd!x",
        privateDnsNameOptions: new $Ecs.ModifyInstanceAttributeRequestPrivateDnsNameOptions({
          hostnameType: "IpBased",
          enableIpDnsARecord: true,
        }),
      }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.body?.requestId).toMatch(/^[0-9A-F-]{36}$/);

    const d = await c.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: JSON.stringify(["i-linux"]), maxResults: 100 }));
    const inst = d.body!.instances!.instance![0]!;
    expect(inst).toMatchObject({
      instanceId: "i-linux",
      instanceName: "web-1",
      description: "managed by ecs-attrs-controller: a b*c~d/é",
      hostName: "web-1.internal",
      deletionProtection: true,
      status: "Running",
      OSType: "linux",
    });
    expect(inst.securityGroupIds?.securityGroupId).toEqual(["sg-b", "sg-c"]);
    expect(inst.privateDnsNameOptions).toMatchObject({ hostnameType: "IpBased", enableIpDnsARecord: true });
    expect(inst.cpuOptions).toMatchObject({ coreCount: 1, threadsPerCore: 2, topologyType: "" });

    const attr = await c.describeInstanceAttribute(new $Ecs.DescribeInstanceAttributeRequest({ instanceId: "i-linux" }));
    expect(attr.body?.enableJumboFrame).toBe(true);
    expect(await emu.admin.verifyPassword("i-linux", "Passw0rd!x")).toBe(true);
    expect(await emu.admin.verifyPassword("i-linux", "Passw0rd!y")).toBe(false);
    expect((await emu.admin.getInstance("i-linux")).restartPending).toMatchObject({ password: true, hostName: true });
  });

  it("user data, CPU options and NIC queues on a Stopped instance read back through their Describe calls", async () => {
    const c = ecsClient(emu, opts);
    const userData = Buffer.from("#!/bin/sh\necho hello\n").toString("base64");
    await c.modifyInstanceAttribute(
      new $Ecs.ModifyInstanceAttributeRequest({
        instanceId: "i-g8i",
        userData,
        networkInterfaceQueueNumber: 8,
        cpuOptions: new $Ecs.ModifyInstanceAttributeRequestCpuOptions({
          core: 2,
          threadsPerCore: 1,
          topologyType: "DiscreteCoreToHTMapping",
        }),
      }),
    );
    const ud = await c.describeUserData(new $Ecs.DescribeUserDataRequest({ regionId: REGION, instanceId: "i-g8i" }));
    expect(ud.body?.userData).toBe(userData);
    const enis = await c.describeNetworkInterfaces(new $Ecs.DescribeNetworkInterfacesRequest({ regionId: REGION, instanceId: "i-g8i", type: "Primary" }));
    const set = enis.body!.networkInterfaceSets!.networkInterfaceSet!;
    expect(set).toHaveLength(1);
    expect(set[0]).toMatchObject({ type: "Primary", queueNumber: 8, instanceId: "i-g8i" });
    const d = await c.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: JSON.stringify(["i-g8i"]) }));
    expect(d.body!.instances!.instance![0]!.cpuOptions).toMatchObject({
      coreCount: 2,
      threadsPerCore: 1,
      topologyType: "DiscreteCoreToHTMapping",
    });
  });

  it("rejects a wrong secret", async () => {
    await expectEcsError(
      ecsClient(emu, { ...opts, accessKeySecret: "not-the-secret" }).describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION })),
      "SignatureDoesNotMatch",
      400,
    );
  });

  it("accepts STS credentials (key id, secret and security token)", async () => {
    await emu.admin.addAccessKey({ accessKeyId: "STS.test", accessKeySecret: "sts-secret", securityToken: "sts-token-value" });
    const c = ecsClient(emu, { ...opts, accessKeyId: "STS.test", accessKeySecret: "sts-secret", securityToken: "sts-token-value" });
    await c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-linux", instanceName: "via-sts" }));
    expect((await emu.admin.getInstance("i-linux")).instanceName).toBe("via-sts");
    const [call] = await emu.admin.callLog({ action: "ModifyInstanceAttribute" });
    expect(call).toMatchObject({ accessKeyId: "STS.test", code: "OK", httpStatus: 200 });
    expect(JSON.stringify(call)).not.toContain("sts-token-value");
  });
});

describe("DescribeInstances", () => {
  beforeEach(async () => {
    await emu.admin.seed({
      instances: Array.from({ length: 25 }, (_, n) => ({
        instanceId: `i-fleet-${String(n).padStart(3, "0")}`,
        vpcId: "vpc-2",
        instanceName: n % 2 === 0 ? `even-${n}` : `odd-${n}`,
        tags: [{ key: "team", value: n < 5 ? "a" : "b" }],
        status: n === 3 ? ("Stopped" as const) : ("Running" as const),
      })),
    });
  });

  it("pages with MaxResults and NextToken until the token is empty", async () => {
    const c = ecsClient(emu);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await c.describeInstances(
        new $Ecs.DescribeInstancesRequest({ regionId: REGION, vpcId: "vpc-2", maxResults: 10, ...(token ? { nextToken: token } : {}) }),
      );
      pages++;
      seen.push(...r.body!.instances!.instance!.map((i) => i.instanceId!));
      token = r.body!.nextToken || undefined;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
  });

  it("takes up to 100 IDs as a JSON array; unknown IDs are simply absent", async () => {
    const c = ecsClient(emu);
    const ids = [...Array.from({ length: 25 }, (_, n) => `i-fleet-${String(n).padStart(3, "0")}`), ...Array.from({ length: 75 }, (_, n) => `i-missing-${n}`)];
    const r = await c.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: JSON.stringify(ids), maxResults: 100 }));
    expect(r.body!.instances!.instance).toHaveLength(25);
    const none = await c.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: "[]" }));
    expect(none.body!.instances!.instance).toHaveLength(0);
  });

  it("filters by Status, InstanceName wildcard and Tag", async () => {
    const c = ecsClient(emu);
    const stopped = await c.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, vpcId: "vpc-2", status: "Stopped" }));
    expect(stopped.body!.instances!.instance!.map((i) => i.instanceId)).toEqual(["i-fleet-003"]);
    const even = await c.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceName: "even-*", maxResults: 100 }));
    expect(even.body!.instances!.instance).toHaveLength(13);
    const tagged = await c.describeInstances(
      new $Ecs.DescribeInstancesRequest({ regionId: REGION, tag: [new $Ecs.DescribeInstancesRequestTag({ key: "team", value: "a" })], maxResults: 100 }),
    );
    expect(tagged.body!.instances!.instance).toHaveLength(5);
  });
});

describe("DescribeSecurityGroups", () => {
  it("models VPC and basic/enterprise type", async () => {
    const c = ecsClient(emu);
    const r = await c.describeSecurityGroups(new $Ecs.DescribeSecurityGroupsRequest({ regionId: REGION, vpcId: "vpc-1", securityGroupType: "enterprise" }));
    const groups = r.body!.securityGroups!.securityGroup!;
    expect(groups.map((g) => g.securityGroupId).sort()).toEqual(["sg-ent", "sg-ent-full"]);
    expect(groups.find((g) => g.securityGroupId === "sg-ent-full")).toMatchObject({ vpcId: "vpc-1", ecsCount: 1, availableInstanceAmount: 0 });
  });
});

describe("signature edge cases over raw HTTP", () => {
  function signedV3(nonce: string, date = new Date().toISOString().replace(/\.\d{3}Z$/, "Z")): { url: string; headers: Record<string, string> } {
    const query: Array<[string, string]> = [
      ["RegionId", REGION],
      ["InstanceIds", '["i-linux"]'],
    ];
    const headers: Record<string, string> = {
      host: emu.endpoint,
      "x-acs-action": "DescribeInstances",
      "x-acs-version": "2014-05-26",
      "x-acs-date": date,
      "x-acs-signature-nonce": nonce,
      "x-acs-content-sha256": EMPTY_SHA256,
    };
    const signed = Object.keys(headers).sort();
    const canonical = v3CanonicalRequest({ method: "POST", path: "/", query, headers, signedHeaders: signed, hashedPayload: EMPTY_SHA256 });
    headers["authorization"] = `ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=${signed.join(";")},Signature=${v3Signature("testsecret", canonical)}`;
    return { url: `${emu.url}/?${new URLSearchParams(query).toString()}`, headers };
  }

  it("a replayed request (same nonce) gets SignatureNonceUsed", async () => {
    const req = signedV3(`nonce-${Date.now()}`);
    const first = await fetch(req.url, { method: "POST", headers: req.headers });
    expect(first.status).toBe(200);
    const second = await fetch(req.url, { method: "POST", headers: req.headers });
    expect(second.status).toBe(400);
    expect(((await second.json()) as { Code: string }).Code).toBe("SignatureNonceUsed");
  });

  it("a stale timestamp gets IllegalTimestamp", async () => {
    const req = signedV3(`nonce-old-${Date.now()}`, "2020-01-01T00:00:00Z");
    const res = await fetch(req.url, { method: "POST", headers: req.headers });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { Code: string }).Code).toBe("IllegalTimestamp");
  });

  it("V1 parameters in a form body (GET-style clients such as the CLI) verify", async () => {
    const params: Array<[string, string]> = [
      ["Action", "DescribeInstanceAttribute"],
      ["Version", "2014-05-26"],
      ["Format", "JSON"],
      ["AccessKeyId", "testid"],
      ["SignatureMethod", "HMAC-SHA1"],
      ["SignatureVersion", "1.0"],
      ["SignatureNonce", `form-${Date.now()}`],
      ["Timestamp", new Date().toISOString().replace(/\.\d{3}Z$/, "Z")],
      ["InstanceId", "i-linux"],
    ];
    params.push(["Signature", v1Signature("testsecret", v1StringToSign("POST", params))]);
    const res = await fetch(`${emu.url}/`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-emulator-client": "form-client" },
      body: new URLSearchParams(params).toString(),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { InstanceId: string }).InstanceId).toBe("i-linux");
    const [call] = await emu.admin.callLog({ clientId: "form-client" });
    expect(call).toMatchObject({ action: "DescribeInstanceAttribute", signatureVersion: "v1", code: "OK" });
  });

  it("V1 requests without Format (or with Format=XML) get XML, errors included", async () => {
    const signedV1 = (extra: Array<[string, string]>, instanceId: string): string => {
      const params: Array<[string, string]> = [
        ["Action", "DescribeInstanceAttribute"],
        ["Version", "2014-05-26"],
        ["AccessKeyId", "testid"],
        ["SignatureMethod", "HMAC-SHA1"],
        ["SignatureVersion", "1.0"],
        ["SignatureNonce", `xml-${instanceId}-${Date.now()}-${extra.length}`],
        ["Timestamp", new Date().toISOString().replace(/\.\d{3}Z$/, "Z")],
        ["InstanceId", instanceId],
        ...extra,
      ];
      params.push(["Signature", v1Signature("testsecret", v1StringToSign("GET", params))]);
      return `${emu.url}/?${new URLSearchParams(params).toString()}`;
    };
    const ok = await fetch(signedV1([], "i-linux"));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toMatch(/^text\/xml/);
    const xml = await ok.text();
    expect(xml).toMatch(
      /^<\?xml version='1.0' encoding='UTF-8'\?><DescribeInstanceAttributeResponse><RequestId>[0-9A-F-]{36}<\/RequestId><InstanceId>i-linux<\/InstanceId>/,
    );
    expect(xml).toContain("<SecurityGroupIds><SecurityGroupId>sg-a</SecurityGroupId></SecurityGroupIds>");
    const err = await fetch(signedV1([["Format", "XML"]], "i-nope"));
    expect(err.status).toBe(404);
    expect(await err.text()).toMatch(
      /<Error><RequestId>.*<\/RequestId><HostId>.*<Code>InvalidInstanceId.NotFound<\/Code><Message>The specified InstanceId does not exist.<\/Message>/,
    );
    const json = await fetch(signedV1([["Format", "JSON"]], "i-linux"));
    expect(((await json.json()) as { InstanceId: string }).InstanceId).toBe("i-linux");
  });

  it("a client clock one hour off is rejected with IllegalTimestamp through the SDK", async () => {
    const skewed = await startEmulatorInProcess({ now: () => Date.now() + 3_600_000 });
    try {
      await expectEcsError(ecsClient(skewed).describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION })), "IllegalTimestamp", 400);
    } finally {
      await skewed.stop();
    }
  });
});

describe("call log", () => {
  it("records action, masked parameters, code, status, duration and the caller's User-Agent", async () => {
    await ecsClient(emu, { userAgent: "writer-A" }).modifyInstanceAttribute(
      new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-linux", instanceName: "from-a" }),
    );
    await ecsClient(emu, { userAgent: "writer-B" })
      .modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-nope", instanceName: "from-b" }))
      .catch(() => undefined);
    const calls = await emu.admin.callLog({ action: "ModifyInstanceAttribute" });
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ code: "OK", httpStatus: 200, params: { InstanceId: "i-linux", InstanceName: "from-a" } });
    expect(calls[0]!.userAgent).toContain("writer-A");
    expect(calls[1]).toMatchObject({ code: "InvalidInstanceId.NotFound", httpStatus: 404 });
    expect(calls[1]!.userAgent).toContain("writer-B");
    expect(calls[0]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(await emu.admin.counters()).toMatchObject({
      ModifyInstanceAttribute: { OK: 1, "InvalidInstanceId.NotFound": 1, total: 2 },
    });
  });
});
