/**
 * 200 resources in one region: the initial convergence and every resync round read the fleet with
 * ceil(200/100) = 2 DescribeInstances calls, not 200, and idle rounds write nothing.
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type EmulatorHandle, startEmulatorInProcess } from "../../../harness/emulator.js";

const N = 200;
const RESYNC_MS = 6_000;
const ns = `fleet-${Date.now().toString(36)}`;
const id = (i: number) => `i-fleet${String(i).padStart(4, "0")}`;

let emu: EmulatorHandle;
let ctl: RunningController;
let custom: CustomObjectsApi;
let core: CoreV1Api;

type Obj = { metadata: { name: string; generation: number }; status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> } };

async function readyCount(): Promise<number> {
  const list = (await custom.listNamespacedCustomObject({ group: "ecs.alicloud.dev", version: "v1alpha1", namespace: ns, plural: "ecsinstanceattributes" })) as { items: Obj[] };
  return list.items.filter((o) => o.status?.observedGeneration === o.metadata.generation && o.status.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length;
}

/** Resync rounds the controller logged so far. */
const rounds = () => ctl.logRecords().filter((r) => r["msg"] === "resync round queued").length;

beforeAll(async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(inject("kubeconfigPath"));
  custom = kc.makeApiClient(CustomObjectsApi);
  core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: ns } } });
  emu = await startEmulatorInProcess({
    seed: { instances: Array.from({ length: N }, (_, i) => ({ instanceId: id(i), regionId: "cn-hangzhou", instanceName: `seeded-${i}` })) },
  });
  for (let start = 0; start < N; start += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, N - start) }, (_, k) => start + k).map((i) =>
        custom.createNamespacedCustomObject({
          group: "ecs.alicloud.dev",
          version: "v1alpha1",
          namespace: ns,
          plural: "ecsinstanceattributes",
          body: { apiVersion: "ecs.alicloud.dev/v1alpha1", kind: "EcsInstanceAttributes", metadata: { name: `r${i}` }, spec: { instanceId: id(i), regionId: "cn-hangzhou", instanceName: `managed-${i}` } },
        }),
      ),
    );
  }
  // Started after the resources exist, so its first round reads all of them at once.
  ctl = await startController({ kubeconfig: inject("kubeconfigPath"), ecsEndpoint: emu.url, namespace: ns, args: [`--resync-period=${RESYNC_MS}ms`, "--concurrency=4", "--ecs-qps=200", "--ecs-burst=200"] });
}, 120_000);

afterAll(async () => {
  await ctl?.stop();
  await emu?.stop();
  await core?.deleteNamespace({ name: ns }).catch(() => undefined);
});

describe("a 200-resource fleet", () => {
  it("converges with batched reads and one Modify per resource", async () => {
    const deadline = Date.now() + 120_000;
    while ((await readyCount()) < N) {
      if (Date.now() > deadline) throw new Error(`only ${await readyCount()}/${N} Ready; controller log tail:\n${ctl.logs().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const modifies = await emu.admin.callLog({ action: "ModifyInstanceAttribute" });
    expect(modifies.filter((c) => c.code === "OK")).toHaveLength(N);
    expect(new Set(modifies.map((c) => c.params["InstanceId"])).size).toBe(N);
    // Every round (the initial one included) read all 200 in 2 calls and reconciles used those reads;
    // a slow machine may fit more than one round into the convergence, and one may be in flight.
    const describes = await emu.admin.callLog({ action: "DescribeInstances" });
    expect(rounds()).toBeGreaterThanOrEqual(1);
    expect(describes.length).toBeLessThanOrEqual(2 * (rounds() + 1));
  }, 150_000);

  it("reads ceil(N/100) times per idle resync round and writes nothing", async () => {
    const firstRound = rounds();
    const before = await emu.admin.callLog({ action: "DescribeInstances" });
    const modifiesBefore = (await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).length;
    const deadline = Date.now() + 60_000;
    while (rounds() < firstRound + 2) {
      if (Date.now() > deadline) throw new Error("no two resync rounds within 60 s");
      await new Promise((r) => setTimeout(r, 500));
    }
    const seen = rounds() - firstRound;
    const after = await emu.admin.callLog({ action: "DescribeInstances" });
    const perRound = (after.length - before.length) / seen;
    process.stdout.write(`fleet: ${N} resources, ${seen} idle rounds, ${after.length - before.length} DescribeInstances (${perRound} per round, ${(perRound / N).toFixed(3)} per resource)\n`);
    // Each round: exactly ceil(200/100) = 2; a round still in flight at the measurement may add 2.
    expect(after.length - before.length).toBeGreaterThanOrEqual(2 * seen);
    expect(after.length - before.length).toBeLessThanOrEqual(2 * (seen + 1));
    // Every resource was read in every round (on a loaded machine a round can overlap the previous
    // one's reconciles; the call count above bounds what that may cost).
    const idsRead = after.slice(before.length).reduce((n, c) => n + (JSON.parse(c.params["InstanceIds"] ?? "[]") as string[]).length, 0);
    expect(idsRead).toBeGreaterThanOrEqual(N * seen);
    expect((await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).length).toBe(modifiesBefore);
  }, 90_000);
});
