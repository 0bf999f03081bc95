/**
 * Read-after-write lag and stale reads (src/emulator/consistency.ts), through the action handlers
 * with fake timers, so every figure is exact.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ACTIONS } from "../../../src/emulator/actions/index.js";
import { seededRandom, type ConsistencyInput } from "../../../src/emulator/consistency.js";
import { Params } from "../../../src/emulator/protocol.js";
import { Store } from "../../../src/emulator/state.js";

const caller = { accessKeyId: "testid", signatureVersion: "v3" as const, sts: false };

function store(consistency: ConsistencyInput): Store {
  const s = new Store({ delays: { stopMs: 100, startMs: 100 }, consistency });
  s.applySeed({
    securityGroups: [
      { securityGroupId: "sg-a", vpcId: "vpc-1" },
      { securityGroupId: "sg-b", vpcId: "vpc-1" },
    ],
    instances: [{ instanceId: "i-1", vpcId: "vpc-1", securityGroupIds: ["sg-a"], instanceName: "old", hostName: "old-host" }],
  });
  return s;
}

function modify(s: Store, params: Record<string, string>): void {
  ACTIONS["ModifyInstanceAttribute"]!({ store: s, params: new Params([["InstanceId", "i-1"], ...Object.entries(params)]), caller });
}

interface Shown {
  InstanceName: string;
  HostName: string;
  Status: string;
  SecurityGroupIds: { SecurityGroupId: string[] };
}

function describeOne(s: Store): Shown {
  const body = ACTIONS["DescribeInstances"]!({
    store: s,
    params: new Params([
      ["RegionId", "cn-hangzhou"],
      ["InstanceIds", '["i-1"]'],
    ]),
    caller,
  }) as { Instances: { Instance: Shown[] } };
  return body.Instances.Instance[0]!;
}

describe("read-after-write lag", () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it("off by default: reads reflect writes at once", () => {
    const s = store({});
    modify(s, { InstanceName: "new", "SecurityGroupIds.1": "sg-b" });
    expect(describeOne(s)).toMatchObject({ InstanceName: "new", SecurityGroupIds: { SecurityGroupId: ["sg-b"] } });
  });

  it("a fixed per-field lag hides only that field, for exactly that long; the true state changes at once", () => {
    const s = store({ fields: { securityGroupIds: 3000 } });
    modify(s, { InstanceName: "new", "SecurityGroupIds.1": "sg-b" });
    expect(s.getInstance("i-1").securityGroupIds).toEqual(["sg-b"]);
    expect(describeOne(s)).toMatchObject({ InstanceName: "new", SecurityGroupIds: { SecurityGroupId: ["sg-a"] } });
    vi.advanceTimersByTime(2999);
    expect(describeOne(s).SecurityGroupIds.SecurityGroupId).toEqual(["sg-a"]);
    vi.advanceTimersByTime(1);
    expect(describeOne(s).SecurityGroupIds.SecurityGroupId).toEqual(["sg-b"]);
  });

  it("defaultLag applies to fields without their own entry", () => {
    const s = store({ defaultLag: 500, fields: { hostName: 0 } });
    modify(s, { InstanceName: "new", HostName: "new-host" });
    expect(describeOne(s)).toMatchObject({ InstanceName: "old" });
    vi.advanceTimersByTime(500);
    expect(describeOne(s)).toMatchObject({ InstanceName: "new" });
  });

  it("a range lag is drawn from the seeded generator: same seed, same lag, within the range", () => {
    const visibleAfter = (seed: number): number => {
      const s = store({ fields: { securityGroupIds: { minMs: 0, maxMs: 5000 } }, randomSeed: seed });
      modify(s, { "SecurityGroupIds.1": "sg-b" });
      let waited = 0;
      while (describeOne(s).SecurityGroupIds.SecurityGroupId[0] === "sg-a") {
        vi.advanceTimersByTime(1);
        waited++;
      }
      return waited;
    };
    const first = visibleAfter(7);
    expect(visibleAfter(7)).toBe(first);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThanOrEqual(5000);
    expect(first).toBe(Math.floor(seededRandom(7)() * 5001));
  });

  it("hostName until restart: the old name shows until a RebootInstance completes", () => {
    const s = store({ fields: { hostName: { untilRestart: true } } });
    modify(s, { HostName: "new-host" });
    vi.advanceTimersByTime(3_600_000);
    expect(describeOne(s).HostName).toBe("old-host");
    s.reboot("i-1");
    vi.advanceTimersByTime(200);
    expect(describeOne(s)).toMatchObject({ HostName: "new-host", Status: "Running" });
  });

  it("hostName until restart or N ms, whichever comes first", () => {
    const s = store({ fields: { hostName: { untilRestart: true, maxMs: 10_000 } } });
    modify(s, { HostName: "new-host" });
    vi.advanceTimersByTime(9_999);
    expect(describeOne(s).HostName).toBe("old-host");
    vi.advanceTimersByTime(1);
    expect(describeOne(s).HostName).toBe("new-host");
  });

  it("reads are monotonic per field: a later write that shows first supersedes an earlier, slower one", () => {
    const s = store({ fields: { instanceName: 5000 } });
    modify(s, { InstanceName: "first" });
    vi.advanceTimersByTime(1000);
    s.consistency.patch({ fields: { instanceName: 1000 } });
    modify(s, { InstanceName: "second" });
    vi.advanceTimersByTime(1000);
    expect(describeOne(s).InstanceName).toBe("second");
    vi.advanceTimersByTime(10_000);
    expect(describeOne(s).InstanceName).toBe("second");
  });

  it("admin writes are visible at once and drop pending lags", () => {
    const s = store({ defaultLag: 60_000 });
    modify(s, { InstanceName: "new" });
    expect(describeOne(s).InstanceName).toBe("old");
    s.patchInstance("i-1", { instanceName: "from-console" });
    expect(describeOne(s).InstanceName).toBe("from-console");
  });

  it("lags every Describe action that shows the field (DescribeUserData, DescribeNetworkInterfaces)", () => {
    const s = store({ defaultLag: 1000 });
    s.setStatus("i-1", "Stopped");
    modify(s, { UserData: Buffer.from("#!/bin/sh\n").toString("base64"), NetworkInterfaceQueueNumber: "1" });
    const userData = (): unknown =>
      ACTIONS["DescribeUserData"]!({
        store: s,
        params: new Params([
          ["RegionId", "cn-hangzhou"],
          ["InstanceId", "i-1"],
        ]),
        caller,
      })["UserData"];
    const queues = (): unknown =>
      (
        ACTIONS["DescribeNetworkInterfaces"]!({
          store: s,
          params: new Params([
            ["RegionId", "cn-hangzhou"],
            ["InstanceId", "i-1"],
            ["Type", "Primary"],
          ]),
          caller,
        }) as { NetworkInterfaceSets: { NetworkInterfaceSet: Array<{ QueueNumber: number }> } }
      ).NetworkInterfaceSets.NetworkInterfaceSet[0]!.QueueNumber;
    expect(userData()).toBe("");
    expect(queues()).toBe(2);
    vi.advanceTimersByTime(1000);
    expect(userData()).not.toBe("");
    expect(queues()).toBe(1);
  });

  it("reset drops pending lags and restores the startup settings", () => {
    const s = store({ defaultLag: 60_000 });
    modify(s, { InstanceName: "new" });
    s.consistency.patch({ defaultLag: 0 });
    s.clear();
    s.applySeed({ instances: [{ instanceId: "i-1", instanceName: "fresh" }] });
    expect(s.consistency.settings.defaultLag).toBe(60_000);
    expect(describeOne(s).InstanceName).toBe("fresh");
  });
});

describe("stale reads", () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it("a stale DescribeInstances answers from the version the instance had ageMs ago, for `count` calls", () => {
    const s = store({});
    vi.advanceTimersByTime(10_000);
    modify(s, { InstanceName: "new" });
    vi.advanceTimersByTime(2_000);
    s.consistency.patch({ staleReads: [{ ageMs: 5_000, count: 2 }] });
    expect(describeOne(s).InstanceName).toBe("old");
    expect(describeOne(s).InstanceName).toBe("old");
    expect(describeOne(s).InstanceName).toBe("new");
    expect(s.consistency.staleHits()).toEqual([2]);
  });

  it("stale reads can go backwards after a fresh one (non-monotonic), drawn from the seeded generator", () => {
    const s = store({});
    vi.advanceTimersByTime(10_000);
    modify(s, { InstanceName: "new" });
    vi.advanceTimersByTime(1_000);
    s.consistency.patch({ staleReads: [{ ageMs: 5_000, rate: 0.5 }], randomSeed: 42 });
    const seen = Array.from({ length: 40 }, () => describeOne(s).InstanceName);
    s.consistency.patch({ randomSeed: 42 });
    expect(Array.from({ length: 40 }, () => describeOne(s).InstanceName)).toEqual(seen);
    expect(seen).toContain("old");
    expect(seen).toContain("new");
    expect(seen.indexOf("old", seen.indexOf("new"))).toBeGreaterThan(seen.indexOf("new"));
  });

  it("only the named action and instances are affected", () => {
    const s = store({});
    vi.advanceTimersByTime(10_000);
    modify(s, { InstanceName: "new" });
    s.consistency.patch({ staleReads: [{ action: "DescribeInstanceAttribute", ageMs: 5_000 }] });
    expect(describeOne(s).InstanceName).toBe("new");
    const attr = ACTIONS["DescribeInstanceAttribute"]!({ store: s, params: new Params([["InstanceId", "i-1"]]), caller });
    expect(attr["InstanceName"]).toBe("old");
    s.consistency.patch({ staleReads: [{ ageMs: 5_000, instanceIds: ["i-other"] }] });
    expect(describeOne(s).InstanceName).toBe("new");
  });
});
