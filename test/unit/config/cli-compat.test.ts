/**
 * CLI forms that Go operators' manifests use (pflag): `--flag=true|false`, `--version`, and the
 * client-go leader-election timings with client-go's consistency rules.
 */
import { describe, expect, it } from "vitest";
import { normalizeBoolFlags } from "../../../src/bool-flags.js";
import { ConfigError, helpText, loadConfig } from "../../../src/config.js";

describe("boolean flags with a value, as pflag accepts them", () => {
  it.each(["true", "1", "t", "T", "TRUE", "True"])("--leader-elect=%s turns it on", (v) => {
    expect(loadConfig([`--leader-elect=${v}`], {})).toMatchObject({ leaderElect: true });
  });

  it.each(["false", "0", "f", "F", "FALSE", "False"])("--leader-elect=%s turns it off, even over the env var", (v) => {
    expect(loadConfig([`--leader-elect=${v}`], { ECS_ATTRS_LEADER_ELECT: "true" })).toMatchObject({ leaderElect: false });
  });

  it("rejects any other value with a one-line reason naming the flag", () => {
    expect(() => loadConfig(["--leader-elect=yes please"], {})).toThrow(ConfigError);
    expect(() => loadConfig(["--leader-elect=maybe"], {})).toThrow('invalid argument "maybe" for "--leader-elect" flag');
  });

  it("leaves string flags, unknown flags and everything after -- untouched", () => {
    const bools = new Set(["leader-elect"]);
    expect(normalizeBoolFlags(["--log-level=true", "--leader-elect=false", "--", "--leader-elect=true"], bools)).toEqual([
      "--log-level=true",
      "--no-leader-elect",
      "--",
      "--leader-elect=true",
    ]);
    expect(loadConfig(["--leader-election-id=true"], {})).toMatchObject({ leaderElectionId: "true" });
  });
});

describe("--version", () => {
  it("is recognised and listed in --help", () => {
    expect(loadConfig(["--version"], {})).toBe("version");
    expect(loadConfig(["--version=true"], {})).toBe("version");
    expect(helpText()).toMatch(/--version\s+Print the version/);
  });
});

describe("leader-election timings", () => {
  it("default to client-go's 15s / 10s / 2s and read Go durations", () => {
    expect(loadConfig([], {})).toMatchObject({ leaderElectLeaseDuration: 15_000, leaderElectRenewDeadline: 10_000, leaderElectRetryPeriod: 2_000 });
    expect(loadConfig(["--leader-elect-lease-duration=1m", "--leader-elect-renew-deadline=40s", "--leader-elect-retry-period=5s"], {})).toMatchObject({
      leaderElectLeaseDuration: 60_000,
      leaderElectRenewDeadline: 40_000,
      leaderElectRetryPeriod: 5_000,
    });
    expect(loadConfig([], { ECS_ATTRS_LEADER_ELECT_RETRY_PERIOD: "3s" })).toMatchObject({ leaderElectRetryPeriod: 3_000 });
  });

  it.each([
    [["--leader-elect-lease-duration=10s"], "--leader-elect-lease-duration: must be greater than --leader-elect-renew-deadline"],
    [["--leader-elect-retry-period=9s"], "--leader-elect-renew-deadline: must be greater than 1.2 × --leader-elect-retry-period"],
    [["--leader-elect-retry-period=soon"], '--leader-elect-retry-period: "soon" is not a duration'],
  ])("rejects %j: %s", (argv, message) => {
    expect(() => loadConfig(argv, {})).toThrow(message);
  });
});
