/** Per-minute QPS limit per action → real Throttling.User (HTTP 400) with x-acs-retry-after. */
import * as $Ecs from "@alicloud/ecs20140526";
import { ThrottlingError } from "@alicloud/openapi-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ecsClient, startEmulatorInProcess, type EmulatorHandle } from "../../../harness/emulator.js";
import { RICH_SEED } from "./fixtures.js";

let emu: EmulatorHandle;
beforeAll(async () => {
  emu = await startEmulatorInProcess({ seed: RICH_SEED });
});
afterAll(() => emu.stop());

describe("throttling", () => {
  it("with a limit of Q per minute, Q+5 calls give exactly 5 Throttling.User", async () => {
    await emu.admin.reset();
    const Q = 12;
    // "first-call" windows so the test cannot straddle a wall-clock minute boundary.
    await emu.admin.addFault({ action: "DescribeInstances", kind: "throttle", limitPerMinute: Q, window: "first-call" });
    const c = ecsClient(emu);
    const outcomes: string[] = [];
    const retryAfters: Array<number | undefined> = [];
    for (let n = 0; n < Q + 5; n++) {
      try {
        await c.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: "cn-hangzhou", instanceIds: '["i-linux"]' }));
        outcomes.push("OK");
      } catch (err) {
        expect(err).toBeInstanceOf(ThrottlingError);
        const e = err as ThrottlingError;
        outcomes.push(`${e.code}/${e.statusCode}`);
        retryAfters.push(e.retryAfter);
      }
    }
    expect(outcomes.filter((o) => o === "OK")).toHaveLength(Q);
    expect(outcomes.filter((o) => o === "Throttling.User/400")).toHaveLength(5);
    expect(outcomes.slice(Q)).toEqual(Array(5).fill("Throttling.User/400"));
    for (const ra of retryAfters) {
      expect(ra).toBeGreaterThan(0);
      expect(ra).toBeLessThanOrEqual(60_000);
    }
    // other actions keep their own budget
    await ecsClient(emu).describeInstanceAttribute(new $Ecs.DescribeInstanceAttributeRequest({ instanceId: "i-linux" }));
    expect(await emu.admin.counters()).toMatchObject({ DescribeInstances: { OK: Q, "Throttling.User": 5, total: Q + 5 } });
  });

  it("reset removes the limit", async () => {
    await emu.admin.addFault({ action: "DescribeInstances", kind: "throttle", limitPerMinute: 0 });
    await expect(ecsClient(emu).describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: "cn-hangzhou" }))).rejects.toBeInstanceOf(ThrottlingError);
    await emu.admin.reset();
    expect(await emu.admin.listFaults()).toEqual([]);
    await ecsClient(emu).describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: "cn-hangzhou" }));
  });
});

describe("other faults as the SDK sees them", () => {
  it("fail next N, a non-JSON 502 page, a dropped connection, a reply slower than the read timeout", async () => {
    await emu.admin.reset();
    const c = ecsClient(emu);
    const describe = () => c.describeInstanceAttribute(new $Ecs.DescribeInstanceAttributeRequest({ instanceId: "i-linux" }));

    await emu.admin.addFault({ action: "DescribeInstanceAttribute", code: "InternalError", count: 2 });
    await expect(describe()).rejects.toMatchObject({ code: "InternalError", statusCode: 500 });
    await expect(describe()).rejects.toMatchObject({ code: "InternalError", statusCode: 500 });
    await describe();

    await emu.admin.addFault({ action: "DescribeInstanceAttribute", kind: "badGateway", count: 1 });
    await expect(describe()).rejects.toBeInstanceOf(SyntaxError);

    await emu.admin.addFault({ action: "DescribeInstanceAttribute", kind: "reset", count: 1 });
    await expect(describe()).rejects.toMatchObject({ code: "ECONNRESET" });

    await emu.admin.addFault({ action: "DescribeInstanceAttribute", kind: "latency", latencyMs: 1500, count: 1 });
    const impatient = ecsClient(emu, { readTimeout: 200, connectTimeout: 200 });
    await expect(impatient.describeInstanceAttribute(new $Ecs.DescribeInstanceAttributeRequest({ instanceId: "i-linux" }))).rejects.toMatchObject({
      name: "RequestTimeoutError",
    });

    // the slow call is logged when the emulator finishes answering it, after the client gave up
    let codes: string[] = [];
    for (let n = 0; n < 100 && codes.length < 6; n++) {
      codes = (await emu.admin.callLog({ action: "DescribeInstanceAttribute" })).map((r) => `${r.code}/${r.httpStatus}`);
      if (codes.length < 6) await new Promise((r) => setTimeout(r, 50));
    }
    expect(codes).toEqual(["InternalError/500", "InternalError/500", "OK/200", "BadGateway/502", "ConnectionReset/0", "OK/200"]);
  });
});
