/** The emulator as a process (the shipped CLI) and the promise that secrets never reach logs. */
import { spawnSync } from "node:child_process";
import * as $Ecs from "@alicloud/ecs20140526";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ecsClient, startEmulatorProcess, type EmulatorProcessHandle } from "../../../harness/emulator.js";
import { expectEcsError, REGION, RICH_SEED } from "./fixtures.js";

const PASSWORD = "Sup3r$ecretPw!";
const BAD_PASSWORD = "weakbutsecretvalue";
const USER_DATA_TEXT = "#!/bin/sh\necho TOP-SECRET-USERDATA-MARKER\n";
const USER_DATA = Buffer.from(USER_DATA_TEXT).toString("base64");

describe("ecs-emulator process", () => {
  let emu: EmulatorProcessHandle;
  beforeAll(async () => {
    emu = await startEmulatorProcess({
      seed: RICH_SEED,
      accessKeyId: "cli-id",
      accessKeySecret: "cli-secret-value",
      logLevel: "trace",
      stopDelayMs: 20,
    });
  });
  afterAll(() => emu.stop());

  it("prints exactly one JSON line with the URL, serves the seed, and uses the configured key", async () => {
    expect(emu.stdout().trim().split("\n")).toEqual([JSON.stringify({ listening: emu.url })]);
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const c = ecsClient(emu, { accessKeyId: "cli-id", accessKeySecret: "cli-secret-value" });
    const r = await c.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: '["i-linux","i-win"]' }));
    expect(r.body!.instances!.instance!.map((i) => i.instanceId).sort()).toEqual(["i-linux", "i-win"]);
    await expectEcsError(ecsClient(emu).describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION })), "InvalidAccessKeyId.NotFound", 404);
  });

  it("never writes Password or UserData values to its logs or call log", async () => {
    const c = ecsClient(emu, { accessKeyId: "cli-id", accessKeySecret: "cli-secret-value" });
    const v1 = ecsClient(emu, { accessKeyId: "cli-id", accessKeySecret: "cli-secret-value", signatureAlgorithm: "v2" });
    await c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-g5", password: PASSWORD, userData: USER_DATA }));
    await v1.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-g5", password: PASSWORD }));
    // rejected calls too: a malformed password, and user data for an image without cloud-init
    await expectEcsError(
      c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-g5", password: BAD_PASSWORD })),
      "InvalidPassword.Malformed",
      400,
    );
    await expectEcsError(
      c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-nocloudinit", userData: USER_DATA })),
      "ImageNotSupportCloudInit",
      400,
    );
    expect(await emu.admin.verifyPassword("i-g5", PASSWORD)).toBe(true);

    const calls = await emu.admin.callLog({ action: "ModifyInstanceAttribute" });
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(calls.filter((r) => r.params["Password"] === "******")).toHaveLength(3);
    expect(calls.filter((r) => r.params["UserData"] === "******")).toHaveLength(2);

    const instanceView = JSON.stringify(await emu.admin.getInstance("i-g5"));
    expect(instanceView).not.toContain(PASSWORD);
    expect(instanceView).not.toMatch(/passwordHash|scrypt/);

    // give pino a moment to flush, then look at everything the process and the admin API expose
    await new Promise((r) => setTimeout(r, 200));
    const haystacks = {
      stderr: emu.stderr(),
      stdout: emu.stdout(),
      calls: JSON.stringify(calls),
      counters: JSON.stringify(await emu.admin.counters()),
    };
    expect(haystacks.stderr).toContain("ModifyInstanceAttribute"); // trace/debug logging is on
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), BAD_PASSWORD, USER_DATA, "TOP-SECRET-USERDATA-MARKER", "cli-secret-value"]) {
        expect(text.includes(secret), `${where} contains a secret`).toBe(false);
      }
    }
  });

  it("exits 0 on SIGTERM", async () => {
    const other = await startEmulatorProcess({ logLevel: "silent" });
    await other.stop();
    expect({ code: await other.exitCode(), signal: other.child.signalCode, stderr: other.stderr() }).toEqual({ code: 0, signal: null, stderr: "" });
  });

  it("rejects bad flags with a one-line reason and exit code 2", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/emulator/main.ts", "--port", "nope"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim()).toBe("ecs-emulator: invalid --port nope");
  });
});
