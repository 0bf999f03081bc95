/** The call log names the key a call presented, even when the key is unknown (issue 20 item 5). */
import * as $Ecs from "@alicloud/ecs20140526";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ecsClient, startEmulatorInProcess, type EmulatorHandle } from "../../../harness/emulator.js";
import { expectEcsError, REGION } from "./fixtures.js";

let emu: EmulatorHandle;
beforeAll(async () => {
  emu = await startEmulatorInProcess({ seed: { instances: [{ instanceId: "i-1" }] } });
});
afterAll(() => emu.stop());

async function calls(query: string): Promise<Array<{ accessKeyId: string; code: string; signatureVersion: string }>> {
  const res = await fetch(`${emu.url}/_emulator/calls?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Array<{ accessKeyId: string; code: string; signatureVersion: string }>;
}

describe("call log: rejected keys", () => {
  it.each([
    { signing: "V3", key: "LTAI-unknown-v3", opts: {} },
    { signing: "V1", key: "LTAI-unknown-v1", opts: { signatureAlgorithm: "v2" as const } },
  ])("a $signing call with an unknown key is logged with the AccessKeyId it presented", async ({ key, opts }) => {
    const client = ecsClient(emu, { accessKeyId: key, accessKeySecret: "whatever", ...opts });
    await expectEcsError(client.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION })), "InvalidAccessKeyId.NotFound", 404);
    const logged = await calls(`accessKeyId=${encodeURIComponent(key)}`);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ accessKeyId: key, code: "InvalidAccessKeyId.NotFound", signatureVersion: "" });
  });

  it("filtering by a valid key does not return the rejected calls", async () => {
    await ecsClient(emu).describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION }));
    const logged = await calls("accessKeyId=testid");
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.every((c) => c.accessKeyId === "testid" && c.code === "OK")).toBe(true);
  });
});
