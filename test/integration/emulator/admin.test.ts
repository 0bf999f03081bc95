/** The /_emulator/ admin API over HTTP, through the typed client of harness/emulator.ts. */
import { networkInterfaces } from "node:os";
import * as $Ecs from "@alicloud/ecs20140526";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EmulatorAdminError, ecsClient, startEmulatorInProcess, type EmulatorHandle } from "../../../harness/emulator.js";
import { REGION, RICH_SEED } from "./fixtures.js";

let emu: EmulatorHandle;
beforeAll(async () => {
  emu = await startEmulatorInProcess({ seed: RICH_SEED });
});
afterAll(() => emu.stop());
beforeEach(() => emu.admin.reset());

describe("admin API", () => {
  it("seeds, replaces, patches and deletes instances; reset restores the startup seed", async () => {
    expect(await emu.admin.seed({ instances: [{ instanceId: "i-new", vpcId: "vpc-1", securityGroupIds: ["sg-a"] }] })).toEqual({
      instances: 1,
      securityGroups: 0,
      vpcs: 0,
    });
    expect((await emu.admin.getInstance("i-new")).status).toBe("Running");
    const patched = await emu.admin.patchInstance("i-new", {
      instanceName: "patched",
      operationLocks: [{ lockReason: "security" }],
      networkInterfaceQueueNumber: 1,
      password: "Initial1!",
    });
    expect(patched).toMatchObject({ instanceName: "patched", passwordSet: true, primaryEni: { queueNumber: 1 } });
    expect(patched.operationLocks).toEqual([{ lockReason: "security", lockMsg: "" }]);
    expect(await emu.admin.verifyPassword("i-new", "Initial1!")).toBe(true);
    await expect(emu.admin.patchInstance("i-new", { bogusField: 1 } as never)).rejects.toMatchObject({ status: 400 });

    await emu.admin.deleteInstance("i-new");
    await expect(emu.admin.getInstance("i-new")).rejects.toBeInstanceOf(EmulatorAdminError);
    await expect(emu.admin.getInstance("i-new")).rejects.toMatchObject({ status: 404 });

    await emu.admin.seed({ instances: [{ instanceId: "only-one" }] }, { replace: true });
    expect((await emu.admin.listInstances()).map((i) => i.instanceId)).toEqual(["only-one"]);
    await emu.admin.reset();
    expect((await emu.admin.listInstances()).map((i) => i.instanceId)).toContain("i-linux");
  });

  it("locks set through the admin API are visible to DescribeInstances and enforced", async () => {
    await emu.admin.patchInstance("i-linux", { operationLocks: [{ lockReason: "security", lockMsg: "audit" }] });
    const c = ecsClient(emu);
    const d = await c.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: '["i-linux"]' }));
    expect(d.body!.instances!.instance![0]!.operationLocks!.lockReason).toEqual([expect.objectContaining({ lockReason: "security", lockMsg: "audit" })]);
    await expect(c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-linux", instanceName: "x1" }))).rejects.toMatchObject({
      code: "InstanceLockedForSecurity",
      statusCode: 403,
    });
  });

  it("manages security groups, account settings, delays, access keys and faults", async () => {
    await emu.admin.putSecurityGroup({ securityGroupId: "sg-new", vpcId: "vpc-1", securityGroupType: "enterprise" });
    expect((await emu.admin.listSecurityGroups()).find((g) => g.securityGroupId === "sg-new")).toMatchObject({
      securityGroupType: "enterprise",
      vpcId: "vpc-1",
    });
    await emu.admin.deleteSecurityGroup("sg-new");
    expect((await emu.admin.listSecurityGroups()).some((g) => g.securityGroupId === "sg-new")).toBe(false);

    expect(await emu.admin.patchAccount({ securityGroupQuotaPerInstance: 6 })).toMatchObject({ securityGroupQuotaPerInstance: 6 });
    await ecsClient(emu).modifyInstanceAttribute(
      new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-linux", securityGroupIds: ["sg-a", "sg-b", "sg-c", "sg-d", "sg-e", "sg-f"] }),
    );
    expect(await emu.admin.patchDelays({ stopMs: 0 })).toMatchObject({ stopMs: 0 });
    await emu.admin.stop("i-linux");
    expect((await emu.admin.getInstance("i-linux")).status).toBe("Stopped");
    await expect(emu.admin.stop("i-linux")).rejects.toMatchObject({ status: 403, body: { code: "IncorrectInstanceStatus" } });

    await emu.admin.addAccessKey({ accessKeyId: "second", accessKeySecret: "second-secret" });
    const keys = await fetch(`${emu.url}/_emulator/access-keys`).then((r) => r.text());
    expect(JSON.parse(keys)).toEqual([
      { accessKeyId: "testid", sts: false },
      { accessKeyId: "second", sts: false },
    ]);
    expect(keys).not.toContain("secret");

    const fault = await emu.admin.addFault({ action: "DescribeInstances", code: "InternalError" });
    expect(await emu.admin.listFaults()).toEqual([expect.objectContaining({ id: fault.id, code: "InternalError", hits: 0 })]);
    await emu.admin.removeFault(fault.id);
    expect(await emu.admin.listFaults()).toEqual([]);
    await expect(emu.admin.addFault({ kind: "error" })).rejects.toMatchObject({ status: 400 });
  });

  it("call log queries by action, code and sequence; counters sum per action and code", async () => {
    const c = ecsClient(emu);
    await c.describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: REGION }));
    const [first] = await emu.admin.callLog();
    await c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-nope", instanceName: "x1" })).catch(() => undefined);
    await c.modifyInstanceAttribute(new $Ecs.ModifyInstanceAttributeRequest({ instanceId: "i-linux", instanceName: "x1" }));
    expect((await emu.admin.callLog({ since: first!.seq })).map((r) => r.action)).toEqual(["ModifyInstanceAttribute", "ModifyInstanceAttribute"]);
    expect((await emu.admin.callLog({ code: "InvalidInstanceId.NotFound" })).map((r) => r.params["InstanceId"])).toEqual(["i-nope"]);
    expect(await emu.admin.callLog({ limit: 1 })).toHaveLength(1);
    expect(await emu.admin.counters()).toEqual({
      DescribeInstances: { OK: 1, total: 1 },
      ModifyInstanceAttribute: { OK: 1, "InvalidInstanceId.NotFound": 1, total: 2 },
    });
    await emu.admin.clearCallLog();
    expect(await emu.admin.callLog()).toEqual([]);
    expect(await emu.admin.counters()).toEqual({});
  });

  it("answers unknown admin routes with 404", async () => {
    const r = await fetch(`${emu.url}/_emulator/nothing-here`);
    expect(r.status).toBe(404);
  });
});

const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === "IPv4" && !a.internal)?.address;

describe("admin API access", () => {
  it.skipIf(!external)("is refused to non-loopback clients while the ECS API is served", async () => {
    const open = await startEmulatorInProcess({ host: "0.0.0.0", seed: RICH_SEED });
    try {
      const viaExternal = { endpoint: `${external}:${open.port}` };
      const admin = await fetch(`http://${external}:${open.port}/_emulator/instances`);
      expect(admin.status).toBe(403);
      const d = await ecsClient(viaExternal).describeInstanceAttribute(new $Ecs.DescribeInstanceAttributeRequest({ instanceId: "i-linux" }));
      expect(d.body?.instanceId).toBe("i-linux");
      const local = await fetch(`http://127.0.0.1:${open.port}/_emulator/health`);
      expect(local.status).toBe(200);
    } finally {
      await open.stop();
    }
  });
});
