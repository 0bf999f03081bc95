import { describe, expect, it } from "vitest";
import { EcsError } from "../../../src/emulator/errors.js";
import { Params, parseRequest } from "../../../src/emulator/protocol.js";
import { MASK, maskParams } from "../../../src/emulator/calllog.js";

describe("parseRequest", () => {
  it("merges query and form parameters and reads the action from x-acs-action or Action", () => {
    const r = parseRequest(
      "post",
      "/?InstanceId=i-1&SecurityGroupIds.2=sg-b&SecurityGroupIds.1=sg-a",
      { "content-type": "application/x-www-form-urlencoded", "x-acs-action": "ModifyInstanceAttribute" },
      Buffer.from("CpuOptions.Core=2&PrivateDnsNameOptions.HostnameType=Custom&Description=a%20b"),
    );
    expect(r.action).toBe("ModifyInstanceAttribute");
    expect(r.params.list("SecurityGroupIds")).toEqual(["sg-a", "sg-b"]);
    expect(r.params.int("CpuOptions.Core")).toBe(2);
    expect(r.params.str("Description")).toBe("a b");
    expect(r.params.hasPrefix("PrivateDnsNameOptions")).toBe(true);
    expect(parseRequest("GET", "/?Action=DescribeInstances", {}, Buffer.alloc(0)).action).toBe("DescribeInstances");
  });

  it("parses JSON-array parameters and rejects broken ones with InvalidParameter", () => {
    const r = parseRequest("POST", `/?InstanceIds=${encodeURIComponent('["i-a","i-b"]')}&Bad=%5B1`, {}, Buffer.alloc(0));
    expect(r.params.jsonArray("InstanceIds")).toEqual(["i-a", "i-b"]);
    expect(() => r.params.jsonArray("Bad")).toThrow(EcsError);
    expect(r.params.list("InstanceIds")).toEqual(["i-a", "i-b"]);
  });

  it("collects Tag.N.Key/Value pairs in index order", () => {
    const r = parseRequest("GET", "/?Tag.2.Key=b&Tag.1.Key=a&Tag.1.Value=x", {}, Buffer.alloc(0));
    expect(r.params.tags()).toEqual([
      { key: "a", value: "x" },
      { key: "b", value: undefined },
    ]);
  });

  it("masks secrets in logged parameters", () => {
    expect(
      maskParams([
        ["Password", "Secr3t!!"],
        ["UserData", "ZWNobw=="],
        ["InstanceId", "i-1"],
      ]),
    ).toEqual({
      Password: "******",
      UserData: "******",
      InstanceId: "i-1",
    });
  });
});

describe("toXml", () => {
  it("repeats array keys, escapes text and wraps the root", async () => {
    const { toXml } = await import("../../../src/emulator/xml.js");
    expect(
      toXml("DescribeInstancesResponse", {
        RequestId: "R",
        Instances: { Instance: [{ InstanceId: "i-1", Name: "a<b&'c\"" }, { InstanceId: "i-2" }] },
        Ok: true,
        N: 3,
      }),
    ).toBe(
      "<?xml version='1.0' encoding='UTF-8'?><DescribeInstancesResponse><RequestId>R</RequestId><Instances><Instance><InstanceId>i-1</InstanceId><Name>a&lt;b&amp;&apos;c&quot;</Name></Instance><Instance><InstanceId>i-2</InstanceId></Instance></Instances><Ok>true</Ok><N>3</N></DescribeInstancesResponse>",
    );
  });
});

describe("JSON-valued struct parameters (as the aliyun CLI sends them)", () => {
  it("are flattened into the same names the SDK sends", () => {
    const p = new Params([
      ["InstanceId", "i-1"],
      ["PrivateDnsNameOptions", '{"HostnameType":"IpBased","EnableIpDnsARecord":true}'],
      ["CpuOptions", '{"Core":2,"ThreadsPerCore":1}'],
    ]);
    expect(p.str("PrivateDnsNameOptions.HostnameType")).toBe("IpBased");
    expect(p.bool("PrivateDnsNameOptions.EnableIpDnsARecord")).toBe(true);
    expect(p.int("CpuOptions.Core")).toBe(2);
    expect(p.int("CpuOptions.ThreadsPerCore")).toBe(1);
    expect(p.has("PrivateDnsNameOptions")).toBe(false);
    expect(() => p.checkStructs()).not.toThrow();
  });

  it("explicit flattened parameters win over the JSON form", () => {
    const p = new Params([
      ["PrivateDnsNameOptions.HostnameType", "Custom"],
      ["PrivateDnsNameOptions", '{"HostnameType":"IpBased"}'],
    ]);
    expect(p.str("PrivateDnsNameOptions.HostnameType")).toBe("Custom");
  });

  it("a value that is not a JSON object is InvalidParameter naming the parameter", () => {
    for (const bad of ["{not json", "[1,2]", '"IpBased"', "null"]) {
      const p = new Params([["PrivateDnsNameOptions", bad]]);
      let caught: unknown;
      try {
        p.checkStructs();
      } catch (err) {
        caught = err;
      }
      expect(caught).toMatchObject({ code: "InvalidParameter", message: 'The specified parameter "PrivateDnsNameOptions" is not valid.' });
    }
  });

  it("a secret inside a JSON struct is masked by name in the call log", () => {
    const p = new Params([["RemoteConnectionOptions", '{"Password":"hunter2-secret","Type":"x"}']]);
    const logged = maskParams(p.businessEntries());
    expect(JSON.stringify(logged)).not.toContain("hunter2-secret");
    expect(logged["RemoteConnectionOptions.Password"]).toBe(MASK);
  });
});
