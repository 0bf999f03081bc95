import { describe, expect, it } from "vitest";
import { ConfigError, credentialEnv, envName, flags, helpText, loadConfig, parseDuration } from "../../../src/config.js";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["10m", 600_000],
    ["1h30m", 5_400_000],
    ["15", 15_000],
  ])("%s → %d ms", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["", "10x", "m10", "1h-5m"])("rejects %j", (text) => expect(() => parseDuration(text)).toThrow(/not a duration/));
});

describe("loadConfig", () => {
  it("applies defaults", () => {
    const c = loadConfig([], {});
    expect(c).toMatchObject({
      concurrency: 4,
      resyncPeriod: 600_000,
      leaderElect: false,
      metricsBindAddress: ":8080",
      metricsSecure: true,
      healthProbeBindAddress: ":8081",
      logFormat: "json",
      shutdownTimeout: 30_000,
      ecsActionQps: {},
    });
  });

  it("reads env and lets flags win", () => {
    const env = { ECS_ATTRS_CONCURRENCY: "8", ECS_ATTRS_RESYNC_PERIOD: "2m", ECS_ATTRS_LEADER_ELECT: "true" };
    expect(loadConfig([], env)).toMatchObject({ concurrency: 8, resyncPeriod: 120_000, leaderElect: true });
    expect(loadConfig(["--concurrency", "2", "--no-leader-elect"], env)).toMatchObject({ concurrency: 2, leaderElect: false });
  });

  it("turns secure metrics off only when asked, which lets metrics share the probes' port again", () => {
    expect(loadConfig(["--metrics-secure=false"], {})).toMatchObject({ metricsSecure: false });
    expect(loadConfig([], { ECS_ATTRS_METRICS_SECURE: "false" })).toMatchObject({ metricsSecure: false });
    expect(loadConfig(["--no-metrics-secure", "--metrics-bind-address=:9000", "--health-probe-bind-address=:9000"], {})).toMatchObject({
      metricsBindAddress: ":9000",
      metricsSecure: false,
    });
    expect(loadConfig(["--metrics-cert-path=/certs"], {})).toMatchObject({ metricsSecure: true, metricsCertPath: "/certs" });
  });

  it("parses per-action QPS", () => {
    expect(loadConfig(["--ecs-action-qps", "ModifyInstanceAttribute=5, DescribeInstances=20"], {})).toMatchObject({
      ecsActionQps: { ModifyInstanceAttribute: 5, DescribeInstances: 20 },
    });
  });

  it("parses per-region endpoint overrides", () => {
    expect(loadConfig(["--ecs-endpoint-for-region", "cn-a=http://127.0.0.1:1, cn-hangzhou=https://ecs.example.com"], {})).toMatchObject({
      ecsEndpointForRegion: { "cn-a": "http://127.0.0.1:1", "cn-hangzhou": "https://ecs.example.com" },
    });
    expect(loadConfig([], {})).toMatchObject({ ecsEndpointForRegion: {} });
  });

  it.each([
    [["--ecs-endpoint-for-region", "cn-a"], /--ecs-endpoint-for-region: "cn-a" must look like region=URL/],
    [["--ecs-endpoint-for-region", "cn-a=http://127.0.0.1:1/path"], /--ecs-endpoint-for-region: "cn-a=http:\/\/127.0.0.1:1\/path" must look like region=URL/],
    [["--ecs-endpoint-for-region", "cn-a=https://user:pw@ecs.example.com"], /--ecs-endpoint-for-region: .* must look like region=URL/],
    [["--concurrency", "0"], /--concurrency/],
    [["--resync-period", "soon"], /--resync-period: "soon" is not a duration/],
    [["--log-format", "xml"], /--log-format/],
    [["--ecs-endpoint", "not a url"], /--ecs-endpoint/],
    [["--ecs-action-qps", "Modify"], /--ecs-action-qps: "Modify" must look like Action=QPS/],
    [["--metrics-bind-address", "eighty"], /--metrics-bind-address/],
    [
      ["--metrics-bind-address=:9000", "--health-probe-bind-address=:9000"],
      /--metrics-bind-address: must differ from --health-probe-bind-address while --metrics-secure is on/,
    ],
    [
      ["--sts-endpoint=http://127.0.0.1:4443"],
      /^--sts-endpoint: is http:\/\/ \(STS answers carry temporary keys\); use https:\/\/ or set --allow-insecure-endpoints$/,
    ],
    [["--sts-endpoint=https://sts.example.com/path"], /--sts-endpoint: must be https:\/\/host\[:port\] or host\[:port\]/],
    [["--bogus"], /bogus/],
  ])("rejects %j with a one-line reason naming the flag", (argv, message) => {
    expect(() => loadConfig(argv, {})).toThrow(ConfigError);
    expect(() => loadConfig(argv, {})).toThrow(message);
  });

  it("--sts-endpoint: https or host[:port] as given; http:// only with --allow-insecure-endpoints (flag or env)", () => {
    expect(loadConfig([], {})).toMatchObject({ allowInsecureEndpoints: false });
    expect(loadConfig([], {})).not.toHaveProperty("stsEndpoint");
    expect(loadConfig(["--sts-endpoint=https://sts-vpc.cn-hangzhou.aliyuncs.com"], {})).toMatchObject({
      stsEndpoint: "https://sts-vpc.cn-hangzhou.aliyuncs.com",
    });
    expect(loadConfig(["--sts-endpoint=127.0.0.1:4443"], {})).toMatchObject({ stsEndpoint: "127.0.0.1:4443" });
    expect(loadConfig(["--sts-endpoint=http://127.0.0.1:4443", "--allow-insecure-endpoints"], {})).toMatchObject({
      stsEndpoint: "http://127.0.0.1:4443",
      allowInsecureEndpoints: true,
    });
    expect(loadConfig([], { ECS_ATTRS_STS_ENDPOINT: "http://127.0.0.1:4443", ECS_ATTRS_ALLOW_INSECURE_ENDPOINTS: "true" })).toMatchObject({
      stsEndpoint: "http://127.0.0.1:4443",
    });
  });

  it("returns help for --help and documents every flag with its env var", () => {
    expect(loadConfig(["--help"], {})).toBe("help");
    const help = helpText();
    for (const name of Object.keys(flags)) {
      expect(help).toContain(`--${name}`);
      expect(help).toContain(envName(name));
    }
  });
});

describe("credentialEnv", () => {
  it("points STS at the cluster's region unless ALIBABA_CLOUD_STS_REGION is set", () => {
    expect(credentialEnv({ region: "cn-hangzhou" }, {})).toEqual({ ALIBABA_CLOUD_STS_REGION: "cn-hangzhou" });
    expect(credentialEnv({ region: "cn-hangzhou" }, { ALIBABA_CLOUD_STS_REGION: "cn-beijing" })).toEqual({});
    expect(credentialEnv({}, {})).toEqual({});
  });
});
