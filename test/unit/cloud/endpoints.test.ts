import { describe, expect, it } from "vitest";
import { EndpointRefused, derivedEcsHost, ecsEndpointFor, endpointProblems, stsEndpoint } from "../../../src/cloud/endpoints.js";

describe("ECS endpoints of a provider config", () => {
  it("no override: the config's network only (undefined when the config says nothing), the client derives the host", () => {
    expect(ecsEndpointFor(undefined, "cn-hangzhou")).toBeUndefined();
    expect(ecsEndpointFor({}, "cn-hangzhou")).toBeUndefined();
    expect(ecsEndpointFor({ network: "vpc" }, "cn-beijing")).toEqual({ network: "vpc" });
    expect(derivedEcsHost("cn-beijing", "vpc")).toBe("ecs-vpc.cn-beijing.aliyuncs.com");
  });

  it("a region override wins; https is required unless the config or the controller allows http", () => {
    const spec = { regionOverrides: [{ regionId: "cn-hangzhou", endpoint: "https://ecs.internal.example:8443" }] };
    expect(ecsEndpointFor(spec, "cn-hangzhou")).toEqual({ url: { host: "ecs.internal.example:8443", protocol: "https" } });
    expect(ecsEndpointFor({ ...spec, network: "vpc" }, "cn-hangzhou")?.network).toBe("vpc");
    expect(ecsEndpointFor(spec, "cn-beijing")).toBeUndefined();
    const insecure = { regionOverrides: [{ regionId: "cn-hangzhou", endpoint: "http://127.0.0.1:18080" }] };
    expect(() => ecsEndpointFor(insecure, "cn-hangzhou")).toThrow(EndpointRefused);
    expect(() => ecsEndpointFor(insecure, "cn-hangzhou")).toThrow(
      /^endpoint\.regionOverrides\[cn-hangzhou\] http:\/\/127\.0\.0\.1:18080 is not https:\/\/[^\n]*$/,
    );
    expect(ecsEndpointFor({ ...insecure, allowInsecure: true }, "cn-hangzhou")?.url?.protocol).toBe("http");
    expect(ecsEndpointFor(insecure, "cn-hangzhou", { allowInsecure: true })?.url?.protocol).toBe("http");
  });

  it("endpointProblems lists every refusal, one line each", () => {
    const spec = {
      regionOverrides: [
        { regionId: "cn-hangzhou", endpoint: "http://a:1" },
        { regionId: "cn-beijing", endpoint: "https://b" },
        { regionId: "cn-shanghai", endpoint: "ftp://c" },
      ],
    };
    const problems = endpointProblems(spec);
    expect(problems).toHaveLength(2);
    for (const p of problems) expect(p).not.toContain("\n");
    expect(endpointProblems(spec, { allowInsecure: true })).toHaveLength(1);
  });
});

describe("STS endpoint", () => {
  it("follows the credentials library's rule, with an https override for tests", () => {
    expect(stsEndpoint({ network: "public" })).toEqual({ host: "sts.aliyuncs.com", protocol: "https" });
    expect(stsEndpoint({ network: "public", region: "cn-hangzhou" }).host).toBe("sts.cn-hangzhou.aliyuncs.com");
    expect(stsEndpoint({ network: "vpc", region: "cn-hangzhou" }).host).toBe("sts-vpc.cn-hangzhou.aliyuncs.com");
    expect(stsEndpoint({ network: "vpc" }).host).toBe("sts.aliyuncs.com");
    expect(stsEndpoint({ network: "public", override: "127.0.0.1:4443" })).toEqual({ host: "127.0.0.1:4443", protocol: "https" });
    expect(() => stsEndpoint({ network: "public", override: "http://127.0.0.1:4443" })).toThrow(EndpointRefused);
    expect(() => stsEndpoint({ network: "public", override: "http://127.0.0.1:4443" })).toThrow(/^--sts-endpoint http:\/\/127\.0\.0\.1:4443 is not https:\/\//);
    // --allow-insecure-endpoints (the emulator): accepted as http.
    expect(stsEndpoint({ network: "public", override: "http://127.0.0.1:4443", allowInsecure: true })).toEqual({ host: "127.0.0.1:4443", protocol: "http" });
  });
});
