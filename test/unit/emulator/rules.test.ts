import { describe, expect, it } from "vitest";
import { EcsError } from "../../../src/emulator/errors.js";
import { Params } from "../../../src/emulator/protocol.js";
import { isBase64, planModify, validDescription, validHostName, validInstanceName, validPassword } from "../../../src/emulator/rules.js";
import { Store, instanceView } from "../../../src/emulator/state.js";

describe("field validators", () => {
  it("instance names: 2–128, start with a letter or Chinese character, no http(s):// prefix", () => {
    for (const ok of ["web-1", "ab", "Web_1:a-b", "服务器-1", "a".repeat(128)]) expect(validInstanceName(ok), ok).toBe(true);
    for (const bad of ["a", "1web", "-web", "http://x", "https://x", "a".repeat(129), "web 1", "web/1"]) {
      expect(validInstanceName(bad), bad).toBe(false);
    }
  });

  it("instance names: '.' only under the older reading (current metadata: letters, digits, ':', '_', '-')", () => {
    expect(validInstanceName("web.example")).toBe(false);
    expect(validInstanceName("web.example", true)).toBe(true);
  });

  it("descriptions: 2–256, no http(s):// prefix", () => {
    expect(validDescription("managed by controller")).toBe(true);
    expect(validDescription("x")).toBe(false);
    expect(validDescription("https://example.com")).toBe(false);
    expect(validDescription("d".repeat(257))).toBe(false);
  });

  it("passwords: 8–30 chars, three of four classes, documented specials only", () => {
    // Backtick (SDK model, 2024 and zh pages) and both quote characters (SDK model `"`, pages `'`).
    for (const ok of ["Test123456&$", "abcDEF12", "abc123()`~", "ABC!@#abc", "Aa1" + "/".repeat(5), "abc123`xyz", 'abc123"xy', "abc123'xy"]) {
      expect(validPassword(ok), ok).toBe(true);
    }
    for (const bad of ["Ab1!", "abcdefgh1", "ABCDEFGH", "Abcdefgh", "Abc 12345", "Abc12345é", "Abc12345\\", "A".repeat(29) + "b1"]) {
      expect(validPassword(bad), bad).toBe(false);
    }
  });

  it("hostnames: Windows 2–15 without dots, all-digits or double hyphens; others 2–64 dotted segments", () => {
    expect(validHostName("web-1", "windows")).toBe(true);
    expect(validHostName("web.1", "windows")).toBe(false);
    expect(validHostName("1234", "windows")).toBe(false);
    expect(validHostName("a--b", "windows")).toBe(false);
    expect(validHostName("a".repeat(16), "windows")).toBe(false);
    expect(validHostName("web-1.example.internal", "linux")).toBe(true);
    expect(validHostName("a".repeat(64), "linux")).toBe(true);
    for (const bad of ["a", "a..b", "a--b", ".ab", "ab.", "-ab", "ab-", "a_b", "a".repeat(65)]) {
      expect(validHostName(bad, "linux"), bad).toBe(false);
    }
  });

  it("user data must be strict, padded Base64", () => {
    expect(isBase64("ZWNobyBoZWxsbyBlY3Mh")).toBe(true);
    expect(isBase64("")).toBe(true);
    expect(isBase64("ZWNobw")).toBe(false);
    expect(isBase64("not base64!")).toBe(false);
  });
});

function storeWith(): Store {
  const s = new Store();
  s.applySeed({
    securityGroups: [
      { securityGroupId: "sg-a", vpcId: "vpc-1" },
      { securityGroupId: "sg-ent", vpcId: "vpc-1", securityGroupType: "enterprise" },
    ],
    instances: [{ instanceId: "i-1", vpcId: "vpc-1", securityGroupIds: ["sg-a"], instanceName: "before" }],
  });
  return s;
}

function run(store: Store, params: Record<string, string>): string {
  try {
    planModify(store, new Params(Object.entries(params))).apply();
    return "OK";
  } catch (err) {
    if (err instanceof EcsError) return err.code;
    throw err;
  }
}

describe("planModify", () => {
  it("applies every valid change together", () => {
    const s = storeWith();
    s.setStatus("i-1", "Stopped");
    expect(
      run(s, {
        InstanceId: "i-1",
        InstanceName: "after",
        Description: "new description",
        NetworkInterfaceQueueNumber: "2",
        "CpuOptions.ThreadsPerCore": "1",
        "PrivateDnsNameOptions.HostnameType": "IpBased",
        "PrivateDnsNameOptions.EnableIpDnsARecord": "true",
      }),
    ).toBe("OK");
    const i = s.getInstance("i-1");
    expect(i.instanceName).toBe("after");
    expect(i.description).toBe("new description");
    expect(i.cpuOptions.threadsPerCore).toBe(1);
    expect(i.privateDnsNameOptions).toMatchObject({ hostnameType: "IpBased", enableIpDnsARecord: true });
  });

  it("is atomic: a call rejected on a later field changes nothing", () => {
    const s = storeWith();
    const before = instanceView(s.getInstance("i-1"));
    // InstanceName and Description are valid; the security group mix is not.
    expect(
      run(s, {
        InstanceId: "i-1",
        InstanceName: "after",
        Description: "changed",
        Password: "Passw0rd!x",
        "SecurityGroupIds.1": "sg-a",
        "SecurityGroupIds.2": "sg-ent",
      }),
    ).toBe("EnterpriseGroupLimited.MutliGroupType");
    expect(instanceView(s.getInstance("i-1"))).toEqual(before);
  });

  it("rejects a missing InstanceId and malformed booleans", () => {
    const s = storeWith();
    expect(run(s, { InstanceName: "x1" })).toBe("MissingParameter");
    expect(run(s, { InstanceId: "i-1", DeletionProtection: "yes" })).toBe("InvalidParameter");
  });

  it("stores only a salted hash of the password and flags a pending restart", () => {
    const s = storeWith();
    expect(run(s, { InstanceId: "i-1", Password: "Passw0rd!x" })).toBe("OK");
    const i = s.getInstance("i-1");
    expect(i.passwordHash).toMatch(/^scrypt\$/);
    expect(i.passwordHash).not.toContain("Passw0rd!x");
    expect(i.restartPending.password).toBe(true);
    expect(JSON.stringify(instanceView(i))).not.toContain("scrypt");
  });

  it("NetworkInterfaceQueueNumber -1 restores the type default", () => {
    const s = storeWith();
    s.patchInstance("i-1", { networkInterfaceQueueNumber: 1, status: "Stopped" });
    expect(run(s, { InstanceId: "i-1", NetworkInterfaceQueueNumber: "-1" })).toBe("OK");
    expect(s.getInstance("i-1").primaryEni.queueNumber).toBe(s.typeSpec("ecs.g7.large").primaryEniQueueNumber);
  });

  it("a second different hostname before the restart needs a restart; the restart clears it", () => {
    const s = storeWith();
    expect(run(s, { InstanceId: "i-1", HostName: "host-a" })).toBe("OK");
    expect(run(s, { InstanceId: "i-1", HostName: "host-a" })).toBe("OK");
    expect(run(s, { InstanceId: "i-1", HostName: "host-b" })).toBe("InvalidInstanceStatus.NeedRestart");
    s.delays = { stopMs: 0, startMs: 0 };
    s.reboot("i-1");
    expect(s.getInstance("i-1").restartPending.hostName).toBe(false);
    expect(run(s, { InstanceId: "i-1", HostName: "host-b" })).toBe("OK");
  });
});
