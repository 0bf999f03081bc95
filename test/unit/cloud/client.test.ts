import { describe, expect, it } from "vitest";
import { buildUserAgent, credentialsIdentity, parseEndpoint } from "../../../src/cloud/client.js";

describe("parseEndpoint", () => {
  it("splits scheme and host:port", () => {
    expect(parseEndpoint("http://127.0.0.1:18080")).toEqual({ host: "127.0.0.1:18080", protocol: "http" });
    expect(parseEndpoint("http://127.0.0.1:18080/")).toEqual({ host: "127.0.0.1:18080", protocol: "http" });
    expect(parseEndpoint("https://ecs.cn-hangzhou.aliyuncs.com")).toEqual({ host: "ecs.cn-hangzhou.aliyuncs.com", protocol: "https" });
    expect(parseEndpoint("ecs-vpc.eu-central-1.aliyuncs.com")).toEqual({ host: "ecs-vpc.eu-central-1.aliyuncs.com", protocol: "https" });
  });

  it("rejects what the SDK cannot use", () => {
    expect(() => parseEndpoint("")).toThrow(/empty/);
    expect(() => parseEndpoint("ftp://x")).toThrow(/http or https/);
    expect(() => parseEndpoint("http://x/api")).toThrow(/path/);
    expect(() => parseEndpoint("http://u:p@x")).toThrow(/only/);
  });
});

describe("identity and user agent", () => {
  it("identity never contains the secret", () => {
    const id = credentialsIdentity({ type: "accessKey", accessKeyId: "LTAIabc", accessKeySecret: "s3cr3t-value", securityToken: "tok-value" });
    expect(id).toBe("ak:LTAIabc");
    expect(credentialsIdentity({ type: "default" })).toBe("default");
  });

  it("user agent names the controller, version, pid and optional instance", () => {
    expect(buildUserAgent({ version: "1.2.3" })).toBe(`ecs-attributes-controller/1.2.3 pid/${process.pid}`);
    expect(buildUserAgent({ version: "1.2.3", instanceId: "pod a" })).toBe(`ecs-attributes-controller/1.2.3 pid/${process.pid} instance/pod_a`);
    expect(buildUserAgent({ userAgent: "custom/1" })).toBe("custom/1");
  });
});
