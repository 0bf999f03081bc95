/** Instance state machine and state-gated Modify rules, driven through the SDK. */
import * as $Ecs from "@alicloud/ecs20140526";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ecsClient, startEmulatorInProcess, type EmulatorHandle } from "../../../harness/emulator.js";
import { expectEcsError, RICH_SEED } from "./fixtures.js";

let emu: EmulatorHandle;
beforeAll(async () => {
  // Long enough that the intermediate states are observable, short enough for a quick test.
  emu = await startEmulatorInProcess({ seed: RICH_SEED, delays: { stopMs: 300, startMs: 300 } });
});
afterAll(() => emu.stop());
beforeEach(async () => {
  await emu.admin.reset();
  await emu.admin.patchDelays({ stopMs: 300, startMs: 300 });
});

describe("state machine", () => {
  it("StopInstance: Running → Stopping → Stopped after the delay; StartInstance brings it back", async () => {
    const c = ecsClient(emu);
    await c.stopInstance(new $Ecs.StopInstanceRequest({ instanceId: "i-linux" }));
    expect((await emu.admin.getInstance("i-linux")).status).toBe("Stopping");
    await emu.admin.waitForStatus("i-linux", "Stopped");
    const stopped = await c.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: "cn-hangzhou", instanceIds: '["i-linux"]' }));
    expect(stopped.body!.instances!.instance![0]!.status).toBe("Stopped");

    await c.startInstance(new $Ecs.StartInstanceRequest({ instanceId: "i-linux" }));
    expect((await emu.admin.getInstance("i-linux")).status).toBe("Starting");
    const running = await emu.admin.waitForStatus("i-linux", "Running");
    expect(running.restartCount).toBe(1);
  });

  it("RebootInstance applies a pending password and hostname", async () => {
    const c = ecsClient(emu);
    await c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-linux", password: "Passw0rd!x", hostName: "web-9" }));
    expect((await emu.admin.getInstance("i-linux")).restartPending).toEqual({ password: true, hostName: true, userData: false });
    await c.rebootInstance(new $Ecs.RebootInstanceRequest({ instanceId: "i-linux" }));
    const after = await emu.admin.waitForStatus("i-linux", "Running");
    expect(after.restartPending).toEqual({ password: false, hostName: false, userData: false });
    expect(after.hostName).toBe("web-9");
  });

  it("the admin API drives the same transitions", async () => {
    await emu.admin.stop("i-linux");
    await emu.admin.waitForStatus("i-linux", "Stopped");
    await expectEcsError(ecsClient(emu).stopInstance(new $Ecs.StopInstanceRequest({ instanceId: "i-linux" })), "IncorrectInstanceStatus", 403);
  });
});

describe("NIC queue number depends on the state", () => {
  it("fails with InvalidStatus.StoppedRequired while Running and succeeds once Stopped", async () => {
    const c = ecsClient(emu);
    const req = () => c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-linux", networkInterfaceQueueNumber: 1 }));
    await expectEcsError(req(), "InvalidStatus.StoppedRequired", 400);
    expect((await emu.admin.getInstance("i-linux")).primaryEni.queueNumber).toBe(2);

    await c.stopInstance(new $Ecs.StopInstanceRequest({ instanceId: "i-linux" }));
    await expectEcsError(req(), "InvalidStatus.StoppedRequired", 400); // still Stopping
    await emu.admin.waitForStatus("i-linux", "Stopped");
    await req();
    const enis = await c.describeNetworkInterfaces(
      new $Ecs.DescribeNetworkInterfacesRequest({ regionId: "cn-hangzhou", instanceId: "i-linux", type: "Primary" }),
    );
    expect(enis.body!.networkInterfaceSets!.networkInterfaceSet![0]!.queueNumber).toBe(1);
  });

  it("jumbo frames work while Running or Stopped but not while Starting", async () => {
    const c = ecsClient(emu);
    const req = (v: boolean) => c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-linux", enableJumboFrame: v }));
    await req(true);
    await emu.admin.setState("i-linux", "Starting");
    await expectEcsError(req(false), "InvalidOperation.InstanceStatusNotSupport", 400);
    await emu.admin.setState("i-linux", "Stopped");
    await req(false);
    expect((await emu.admin.getInstance("i-linux")).enableJumboFrame).toBe(false);
  });
});
