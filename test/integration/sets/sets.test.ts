/**
 * EcsInstanceAttributesSet against a real API server, the ECS emulator and the controller process:
 * 50 tagged instances get one child each; tags added and removed later are followed within a
 * discovery round; a template change rolls out with at most maxInFlight Modify calls in flight; a
 * standalone resource wins; an empty selector is rejected at admission; a template that renders an
 * invalid name for one instance fails only that child.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SET_LABEL } from "../../../src/api/set.js";
import { KubeApiError } from "../../../src/runtime/kube-http.js";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type EmulatorHandle, startEmulatorInProcess } from "../../../harness/emulator.js";
import { cond, Fleet, fleetInstanceId, fleetInstances, isConverged, type Resource } from "../../../harness/fleet.js";
import { waitFor } from "../../../harness/wait.js";
import { kubectl } from "../api/helpers.js";
import { condition, currentStatus, maxConcurrent, Sets, type SetResource } from "./helpers.js";

const N = 50;
const RESYNC_MS = 3_000;
const ns = `sets-${Date.now().toString(36)}`;

let emu: EmulatorHandle;
let ctl: RunningController;
let fleet: Fleet;
let sets: Sets;

type Meta = { labels?: Record<string, string>; ownerReferences?: Array<Record<string, unknown>> };
const meta = (r: Resource) => r.metadata as Resource["metadata"] & Meta;
const children = async (set: string): Promise<Resource[]> => (await fleet.list()).filter((r) => meta(r).labels?.[SET_LABEL] === set);
const tail = () => `controller log tail:\n${ctl.logs().slice(-2500)}`;

async function waitForSet(name: string, ok: (s: SetResource) => boolean, what: string, timeoutMs = 90_000): Promise<SetResource> {
  let last: SetResource | undefined;
  return waitFor(
    `set ${name}: ${what}`,
    async () => {
      last = await sets.get(name);
      return currentStatus(last) && ok(last) ? last : undefined;
    },
    { timeoutMs, intervalMs: 300, diag: () => `status: ${JSON.stringify(last?.status)}\n${tail()}` },
  );
}

const allReady = (s: SetResource) => condition(s, "Ready")?.status === "True";

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
  sets = new Sets(fleet.kc, ns);
  emu = await startEmulatorInProcess({
    seed: {
      instances: [
        ...fleetInstances("pay", N, (i) => ({ zoneId: `cn-hangzhou-${i % 2 === 0 ? "h" : "i"}`, tags: [{ key: "team", value: "pay" }] })),
        ...fleetInstances("web", 5, () => ({ tags: [{ key: "team", value: "web" }] })),
        ...fleetInstances("app", 3, (i) => ({ tags: [{ key: "app", value: i === 1 ? "9starts-with-digit" : `svc${i}` }] })),
      ],
    },
  });
  ctl = await startController({
    kubeconfig: inject("kubeconfigPath"),
    ecsEndpoint: emu.url,
    namespace: ns,
    args: [`--resync-period=${RESYNC_MS}ms`, "--concurrency=20", "--ecs-qps=500", "--ecs-burst=500"],
  });
}, 120_000);

afterAll(async () => {
  await ctl?.stop();
  await emu?.stop();
  await fleet?.deleteNamespace();
});

describe("EcsInstanceAttributesSet", () => {
  it("rejects an empty selector at admission unless matchAll is true, and an unknown template variable", async () => {
    const reject = async (name: string, spec: Record<string, unknown>): Promise<string> => {
      const err = await sets.create(name, spec).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KubeApiError);
      expect((err as KubeApiError).status).toBe(422);
      return (err as KubeApiError).message;
    };
    expect(await reject("empty", { regionId: "cn-hangzhou", selector: {}, template: {} })).toMatch(/selector must name tags/);
    expect(await reject("empty-tags", { regionId: "cn-hangzhou", selector: { tags: {} }, template: {} })).toMatch(/selector must name tags/);
    expect(await reject("bad-var", { regionId: "cn-hangzhou", selector: { tags: { team: "x" } }, template: { instanceName: "n-{{ .Nope }}" } })).toMatch(
      /instanceName/,
    );
    // matchAll: true is the explicit way to select everything (paused here so it never touches the fleet).
    const all = await sets.create("match-all", { regionId: "cn-hangzhou", selector: { matchAll: true }, template: {}, rollout: { paused: true } });
    expect(all.metadata.name).toBe("match-all");
    await fleet.custom.deleteNamespacedCustomObject({
      group: "ecs.alicloud.dev",
      version: "v1alpha1",
      namespace: ns,
      plural: "ecsinstanceattributessets",
      name: "match-all",
    });
  });

  it("makes one owned child per tagged instance and reports all Ready", async () => {
    await sets.create("pay", {
      regionId: "cn-hangzhou",
      selector: { tags: { team: "pay" } },
      template: { instanceName: "pay-{{ .InstanceId }}", description: "zone {{ .ZoneId }}", deletionProtection: true },
    });
    const s = await waitForSet("pay", (x) => allReady(x) && x.status?.matched === N && x.status.ready === N, `${N} children Ready`, 120_000);
    expect(s.status).toMatchObject({ matched: N, ready: N, updating: 0, failing: 0, skipped: 0 });
    const kids = await children("pay");
    expect(kids).toHaveLength(N);
    for (const k of kids) {
      expect(meta(k).ownerReferences?.[0]).toMatchObject({ kind: "EcsInstanceAttributesSet", name: "pay", uid: s.metadata.uid, controller: true });
      expect(isConverged(k)).toBe(true);
    }
    const inst = await emu.admin.getInstance(fleetInstanceId("pay", 3));
    expect(inst).toMatchObject({ instanceName: `pay-${fleetInstanceId("pay", 3)}`, description: "zone cn-hangzhou-i", deletionProtection: true });
    // The web instances do not carry the tag: never written.
    const webWrites = (await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).filter((c) => c.params["InstanceId"]?.startsWith("i-web"));
    expect(webWrites).toEqual([]);
  }, 150_000);

  it("lists sets with MATCHED READY UPDATING AGE under the short name", async () => {
    const out = await kubectl(["get", "ecsattrsets", "-n", ns]);
    expect(out.code, out.stderr).toBe(0);
    const [header, row] = out.stdout.split("\n").map((l) => l.split(/\s+/).filter(Boolean));
    expect(header).toEqual(["NAME", "MATCHED", "READY", "UPDATING", "AGE"]);
    expect(row?.slice(0, 4)).toEqual(["pay", String(N), String(N), "0"]);
  });

  it("follows a tag added to a new instance within one discovery round", async () => {
    const id = fleetInstanceId("pay", N);
    await emu.admin.seed({ instances: [{ instanceId: id, regionId: "cn-hangzhou", instanceName: "late", tags: [{ key: "team", value: "pay" }] }] });
    const t0 = Date.now();
    await waitFor(`child for ${id}`, async () => (await children("pay")).some((c) => c.spec.instanceId === id), {
      timeoutMs: 60_000,
      intervalMs: 250,
      diag: tail,
    });
    const took = Date.now() - t0;
    process.stdout.write(`sets: child for a newly tagged instance after ${took} ms (resync ${RESYNC_MS} ms)\n`);
    await waitForSet("pay", (x) => x.status?.matched === N + 1 && allReady(x), "new instance Ready");
    expect((await emu.admin.getInstance(id)).instanceName).toBe(`pay-${id}`);
  }, 90_000);

  it("deletes the child of an instance whose tag is removed and leaves the instance as it is", async () => {
    const id = fleetInstanceId("pay", 7);
    const before = await emu.admin.getInstance(id);
    const writesBefore = (await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).filter((c) => c.params["InstanceId"] === id).length;
    await emu.admin.patchInstance(id, { tags: [] });
    await waitFor(`child of ${id} deleted`, async () => !(await children("pay")).some((c) => c.spec.instanceId === id), {
      timeoutMs: 60_000,
      intervalMs: 250,
      diag: tail,
    });
    await waitForSet("pay", (x) => x.status?.matched === N && allReady(x), "matched back to N");
    const after = await emu.admin.getInstance(id);
    expect({ name: after.instanceName, description: after.description, dp: after.deletionProtection }).toEqual({
      name: before.instanceName,
      description: before.description,
      dp: before.deletionProtection,
    });
    expect((await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).filter((c) => c.params["InstanceId"] === id)).toHaveLength(writesBefore);
    const events = await fleet.events();
    expect(events.some((e) => e.reason === "InstancesUnmatched" && (e.note ?? e.message ?? "").includes(id))).toBe(true);
  }, 90_000);

  it("rolls a template change out with at most maxInFlight Modify calls in flight", async () => {
    await emu.admin.addFault({ action: "ModifyInstanceAttribute", kind: "latency", latencyMs: 400 });
    await emu.admin.clearCallLog();
    const maxInFlight = 5;
    const updated = await sets.patchSpec("pay", { template: { description: "rolled {{ .InstanceName }}" }, rollout: { maxInFlight } });
    // Progress is visible while it runs.
    const mid = await waitForSet("pay", (x) => (x.status?.updating ?? 0) > 0, "rollout in progress", 60_000);
    expect(mid.status?.updating).toBeLessThanOrEqual(maxInFlight);
    expect(condition(mid, "Reconciling")?.status).toBe("True");
    await waitForSet("pay", (x) => x.metadata.generation === updated.metadata.generation && allReady(x) && x.status?.ready === N, "rollout complete", 120_000);
    await emu.admin.clearFaults();
    const modifies = (await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).filter((c) => c.code === "OK");
    // Every child got the new description once (the template's other fields were already in line).
    expect(new Set(modifies.map((c) => c.params["InstanceId"])).size).toBe(N);
    const peak = maxConcurrent(modifies);
    process.stdout.write(`sets: rollout of ${N} children, maxInFlight ${maxInFlight}: at most ${peak} Modify calls in flight (controller concurrency 20)\n`);
    expect(peak).toBeLessThanOrEqual(maxInFlight);
    expect(peak).toBeGreaterThanOrEqual(1);
    const sample = await emu.admin.getInstance(fleetInstanceId("pay", 0));
    expect(sample.description).toBe(`rolled pay-${fleetInstanceId("pay", 0)}`);
  }, 180_000);

  it("leaves an instance to a standalone resource and reports it", async () => {
    const id = fleetInstanceId("pay", 11);
    await fleet.create("standalone-11", { instanceId: id, description: "mine" });
    const s = await waitForSet("pay", (x) => x.status?.skipped === 1, "one instance skipped");
    expect(s.status?.skippedInstances).toEqual([{ instanceId: id, resource: `${ns}/standalone-11` }]);
    await waitFor(`child of ${id} gone`, async () => !(await children("pay")).some((c) => c.spec.instanceId === id), { timeoutMs: 30_000, intervalMs: 250 });
    const standalone = await fleet.waitForCondition("standalone-11", "Ready", "True", { timeoutMs: 60_000 });
    expect(cond(standalone, "Ready")?.reason).toBe("InSync");
    expect((await emu.admin.getInstance(id)).description).toBe("mine");
    await waitForSet("pay", (x) => allReady(x) && x.status?.ready === N - 1, "Ready without the skipped instance");
  }, 120_000);

  it("fails only the child whose rendered name is invalid", async () => {
    await sets.create("apps", { regionId: "cn-hangzhou", selector: { instanceNamePattern: "seed-app-*" }, template: { instanceName: "{{ .Tags.app }}" } });
    const s = await waitForSet("apps", (x) => x.status?.matched === 3 && x.status.ready === 2 && x.status.failing === 1, "2 Ready, 1 failing");
    expect(s.status?.failingChildren).toHaveLength(1);
    expect(s.status?.failingChildren?.[0]).toMatchObject({ instanceId: fleetInstanceId("app", 1), reason: "InvalidSpec" });
    expect(s.status?.failingChildren?.[0]?.message).toMatch(/spec\.template\.instanceName/);
    expect(s.status?.failingByReason).toEqual({ InvalidSpec: 1 });
    expect(condition(s, "Ready")).toMatchObject({ status: "False", reason: "ChildrenFailing" });
    expect(condition(s, "Stalled")?.status).toBe("True");
    const kids = await children("apps");
    expect(kids.map((k) => k.spec.instanceId).sort()).toEqual([fleetInstanceId("app", 0), fleetInstanceId("app", 2)]);
    expect((await emu.admin.getInstance(fleetInstanceId("app", 2))).instanceName).toBe("svc2");
    expect((await emu.admin.getInstance(fleetInstanceId("app", 1))).instanceName).toBe("seed-app-1");
  }, 90_000);
});
