/**
 * Eventual consistency over the wire, with the official SDK: read-after-write lag per field, stale
 * reads, the admin route and the `--consistency` flag. Lags here are either "until restart" or far
 * longer than any test step, so no assertion depends on timing.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as $Ecs from "@alicloud/ecs20140526";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ecsClient, startEmulatorInProcess, type EmulatorHandle } from "../../../harness/emulator.js";
import { REGION } from "./fixtures.js";

const LAGGED = { fields: { hostName: { untilRestart: true }, securityGroupIds: 600_000 } } as const;

let emu: EmulatorHandle;
beforeAll(async () => {
  emu = await startEmulatorInProcess({
    delays: { stopMs: 20, startMs: 20 },
    consistency: LAGGED,
    seed: {
      securityGroups: [
        { securityGroupId: "sg-a", vpcId: "vpc-1" },
        { securityGroupId: "sg-b", vpcId: "vpc-1" },
      ],
      instances: [{ instanceId: "i-1", vpcId: "vpc-1", securityGroupIds: ["sg-a"], hostName: "old-host", instanceName: "old-name" }],
    },
  });
});
afterAll(() => emu.stop());
beforeEach(() => emu.admin.reset());

async function shown(): Promise<$Ecs.DescribeInstancesResponseBodyInstancesInstance> {
  const r = await ecsClient(emu).describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: '["i-1"]' }));
  return r.body!.instances!.instance![0]!;
}

async function admin(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${emu.url}/_emulator/${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe("eventual consistency (SDK)", () => {
  it("lagged fields keep their old value in DescribeInstances and DescribeInstanceAttribute; the write itself took effect", async () => {
    const c = ecsClient(emu);
    await c.modifyInstanceAttribute(
      new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-1", hostName: "new-host", instanceName: "new-name", securityGroupIds: ["sg-b"] }),
    );
    expect(await shown()).toMatchObject({ hostName: "old-host", instanceName: "new-name", securityGroupIds: { securityGroupId: ["sg-a"] } });
    const attr = await c.describeInstanceAttribute(new $Ecs.DescribeInstanceAttributeRequest({ instanceId: "i-1" }));
    expect(attr.body!.securityGroupIds!.securityGroupId).toEqual(["sg-a"]);
    expect(await emu.admin.getInstance("i-1")).toMatchObject({ hostName: "new-host", securityGroupIds: ["sg-b"] });
    const state = await admin("GET", "state");
    expect((state["consistency"] as { pending: Record<string, string[]> }).pending).toEqual({ "i-1": ["hostName", "securityGroupIds"] });
  });

  it("the hostname shows after RebootInstance; a field with a time lag does not", async () => {
    const c = ecsClient(emu);
    await c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-1", hostName: "new-host", securityGroupIds: ["sg-b"] }));
    await c.rebootInstance(new $Ecs.RebootInstanceRequest({ instanceId: "i-1" }));
    let now = await shown();
    while (now.status !== "Running" || now.hostName === "old-host") {
      await new Promise((r) => setTimeout(r, 20));
      now = await shown();
    }
    expect(now).toMatchObject({ hostName: "new-host", securityGroupIds: { securityGroupId: ["sg-a"] } });
  });

  it("stale reads set through the admin route answer from an older version, for `count` calls", async () => {
    const c = ecsClient(emu);
    await admin("PUT", "consistency", {});
    await c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-1", instanceName: "new-name" }));
    expect((await shown()).instanceName).toBe("new-name");
    // One hour back is before this instance's first write: the version it was created with.
    expect(await admin("PATCH", "consistency", { staleReads: [{ ageMs: 3_600_000, count: 1 }] })).toMatchObject({
      staleReads: [{ action: "DescribeInstances", ageMs: 3_600_000, count: 1, rate: 1 }],
    });
    expect((await shown()).instanceName).toBe("old-name");
    expect((await shown()).instanceName).toBe("new-name");
  });

  it("reset restores the startup settings; a seed's consistency replaces them", async () => {
    await admin("PUT", "consistency", { defaultLag: 5 });
    await emu.admin.reset();
    expect(await admin("GET", "consistency")).toMatchObject(LAGGED);
    await emu.admin.seed({ consistency: { defaultLag: { minMs: 0, maxMs: 10 }, randomSeed: 3 } });
    expect(await admin("GET", "consistency")).toMatchObject({ defaultLag: { minMs: 0, maxMs: 10 }, fields: {}, randomSeed: 3 });
  });

  it("bad settings are rejected with 400 and change nothing", async () => {
    const before = await admin("GET", "consistency");
    const res = await fetch(`${emu.url}/_emulator/consistency`, { method: "PATCH", body: JSON.stringify({ fields: { password: 5 } }) });
    expect(res.status).toBe(400);
    expect(await admin("GET", "consistency")).toEqual(before);
  });
});

describe("ecs-emulator --consistency", () => {
  const main = fileURLToPath(new URL("../../../src/emulator/main.ts", import.meta.url));

  function run(args: string[]): Promise<{ code: number | null; url?: string; kill: () => void }> {
    const child = spawn(process.execPath, ["--import", "tsx", main, "--port", "0", "--log-level", "silent", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new Promise((resolve) => {
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => {
        out += c;
        const line = out.split("\n")[0];
        if (out.includes("\n") && line) resolve({ code: null, url: (JSON.parse(line) as { listening: string }).listening, kill: () => child.kill() });
      });
      child.once("exit", (code) => resolve({ code, kill: () => undefined }));
    });
  }

  it("sets the startup settings", async () => {
    const r = await run(["--consistency", '{"fields":{"securityGroupIds":{"minMs":0,"maxMs":5000}},"randomSeed":1}']);
    try {
      expect(r.url).toBeDefined();
      const res = await fetch(`${r.url}/_emulator/consistency`);
      expect(await res.json()).toMatchObject({ fields: { securityGroupIds: { minMs: 0, maxMs: 5000 } }, randomSeed: 1 });
    } finally {
      r.kill();
    }
  });

  it("exits 2 on invalid settings", async () => {
    expect((await run(["--consistency", '{"defaultLag":-1}'])).code).toBe(2);
  });
});
