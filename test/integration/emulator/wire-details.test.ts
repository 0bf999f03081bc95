/**
 * Wire details checked with the official SDK (and raw V1 requests where the SDK cannot produce the
 * shape): issue 19 item 4.
 */
import * as $Ecs from "@alicloud/ecs20140526";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { v1Signature, v1StringToSign } from "../../../src/emulator/signature.js";
import { ecsClient, startEmulatorInProcess, type EmulatorHandle } from "../../../harness/emulator.js";
import { expectEcsError, REGION } from "./fixtures.js";

const FLEET = Array.from({ length: 120 }, (_, n) => ({ instanceId: `i-fleet${String(n).padStart(3, "0")}`, vpcId: "vpc-1" }));

let emu: EmulatorHandle;
beforeAll(async () => {
  emu = await startEmulatorInProcess({ seed: { instances: [{ instanceId: "i-one", vpcId: "vpc-1" }, ...FLEET] } });
});
afterAll(() => emu.stop());
beforeEach(() => emu.admin.reset());

/** A V1-signed form POST, as GET/POST-style clients such as the aliyun CLI send it. */
async function v1Call(business: Array<[string, string]>): Promise<{ status: number; body: Record<string, unknown> }> {
  const params: Array<[string, string]> = [
    ["Format", "JSON"],
    ["Version", "2014-05-26"],
    ["AccessKeyId", "testid"],
    ["SignatureMethod", "HMAC-SHA1"],
    ["SignatureVersion", "1.0"],
    ["SignatureNonce", `wire-${Date.now()}-${Math.random()}`],
    ["Timestamp", new Date().toISOString().replace(/\.\d{3}Z$/, "Z")],
    ...business,
  ];
  params.push(["Signature", v1Signature("testsecret", v1StringToSign("POST", params))]);
  const res = await fetch(`${emu.url}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("wire details", () => {
  it("fault-injected codes default to the API page's HTTP status (403 codes included)", async () => {
    for (const code of ["SecurityGroupInstanceLimitExceed", "InvalidUser.Unauthorized", "InstanceNotInSecurityGroup"]) {
      await emu.admin.clearFaults();
      await emu.admin.addFault({ action: "ModifyInstanceAttribute", code, count: 1 });
      await expectEcsError(
        ecsClient(emu).modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-one", instanceName: "ab" })),
        code,
        403,
      );
    }
  });

  it("a JSON-valued PrivateDnsNameOptions (CLI style) is applied, not ignored", async () => {
    const ok = await v1Call([
      ["Action", "ModifyInstanceAttribute"],
      ["InstanceId", "i-one"],
      ["PrivateDnsNameOptions", '{"HostnameType":"IpBased","EnableIpDnsARecord":true}'],
    ]);
    expect(ok.status).toBe(200);
    expect((await emu.admin.getInstance("i-one")).privateDnsNameOptions).toMatchObject({
      hostnameType: "IpBased",
      enableIpDnsARecord: true,
    });

    const bad = await v1Call([
      ["Action", "ModifyInstanceAttribute"],
      ["InstanceId", "i-one"],
      ["PrivateDnsNameOptions", '{"HostnameType":'],
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ Code: "InvalidParameter", Message: 'The specified parameter "PrivateDnsNameOptions" is not valid.' });
  });

  it("DescribeInstances clamps MaxResults over 100 to 100, as the API metadata says", async () => {
    const r = await ecsClient(emu).describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, maxResults: 150 }));
    expect(r.body!.pageSize).toBe(100);
    expect(r.body!.instances!.instance).toHaveLength(100);
    expect(r.body!.nextToken).not.toBe("");
  });

  it("101 instance IDs: InvalidParameter whose message names InstanceIds", async () => {
    const ids = JSON.stringify(Array.from({ length: 101 }, (_, n) => `i-${n}`));
    const e = await expectEcsError(
      ecsClient(emu).describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: ids })),
      "InvalidParameter",
      400,
    );
    expect((e as { data?: Record<string, unknown> }).data?.["Message"]).toBe('The specified parameter "InstanceIds" is not valid.');
  });

  it.each(["financial", "Recycling", "recycling", "dedicatedhostfinancial", "refunded"])(
    "a %s lock does not block ModifyInstanceAttribute (only the security lock does)",
    async (lockReason) => {
      await emu.admin.patchInstance("i-one", { operationLocks: [{ lockReason }] });
      await ecsClient(emu).modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-one", instanceName: "renamed" }));
      expect((await emu.admin.getInstance("i-one")).instanceName).toBe("renamed");
    },
  );

  it("a security lock blocks ModifyInstanceAttribute and changes nothing", async () => {
    await emu.admin.patchInstance("i-one", { operationLocks: [{ lockReason: "financial" }, { lockReason: "security" }] });
    await expectEcsError(
      ecsClient(emu).modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-one", instanceName: "renamed" })),
      "InstanceLockedForSecurity",
      403,
    );
    expect((await emu.admin.getInstance("i-one")).instanceName).toBe("i-one");
  });

  it("rules per the newest official text: user data while Running accepted; backtick and both quotes are password specials", async () => {
    const c = ecsClient(emu);
    const userData = Buffer.from("#!/bin/sh\necho running\n").toString("base64");
    await c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-one", userData }));
    expect((await emu.admin.getInstance("i-one")).userData).toBe(userData);
    for (const password of ["Back`tick12", 'Dquote"12ab', "Squote'12ab"]) {
      await c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-one", password }));
      expect(await emu.admin.verifyPassword("i-one", password)).toBe(true);
    }
    await expectEcsError(
      c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-one", instanceName: "web.example" })),
      "InvalidInstanceName.Malformed",
      400,
    );
    await emu.admin.patchAccount({ instanceNamePeriodAllowed: true });
    await c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-one", instanceName: "web.example" }));
    expect((await emu.admin.getInstance("i-one")).instanceName).toBe("web.example");
  });

  it("the emulator's trigger → code choices can be switched to the alternatives", async () => {
    await emu.admin.seed({
      securityGroups: [
        { securityGroupId: "sg-here", vpcId: "vpc-1" },
        { securityGroupId: "sg-far", vpcId: "vpc-1", regionId: "cn-beijing" },
        { securityGroupId: "sg-tiny", vpcId: "vpc-1", capacity: 1 },
      ],
      instances: [{ instanceId: "i-member", vpcId: "vpc-1", securityGroupIds: ["sg-tiny"] }],
    });
    const c = ecsClient(emu);
    const modify = (req: Record<string, unknown>): Promise<unknown> =>
      c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-one", ...req }));

    await modify({ hostName: "first-name" });
    await expectEcsError(modify({ hostName: "second-name" }), "InvalidInstanceStatus.NeedRestart", 404);
    await expectEcsError(modify({ securityGroupIds: ["sg-far"] }), "InvalidOperation.InvalidRegion", 403);
    await expectEcsError(modify({ securityGroupIds: ["sg-tiny"] }), "OperationDenied", 403);

    await emu.admin.patchAccount({
      secondHostNameBeforeRestart: "accept",
      securityGroupOtherRegionCode: "InvalidSecurityGroupId.NotFound",
      fullBasicGroupCode: "SecurityGroupInstanceLimitExceed",
    });
    await modify({ hostName: "second-name" });
    expect((await emu.admin.getInstance("i-one")).hostName).toBe("second-name");
    await expectEcsError(modify({ securityGroupIds: ["sg-far"] }), "InvalidSecurityGroupId.NotFound", 404);
    await expectEcsError(modify({ securityGroupIds: ["sg-tiny"] }), "SecurityGroupInstanceLimitExceed", 403);
  });
});
