/**
 * Reliability scenario 3 (issue 9): API server restart, cut watches and a forced 410 → no event is
 * lost; spec changes made while the controller could not watch are applied afterwards.
 *
 * A dedicated control plane (the shared one from globalSetup is never restarted) runs with
 * `--etcd-compaction-interval=5s` and `--watch-cache=false`, so a watch resumed from a
 * resourceVersion older than the last compaction gets a real 410 Gone from etcd. The controller
 * reaches the API server through a TcpProxy: stopping the proxy cuts its watches (a network
 * partition) while the test keeps editing resources directly.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../../../harness/controlplane.js";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type EmulatorHandle, startEmulatorInProcess, TEST_ACCESS_KEY } from "../../../harness/emulator.js";
import { byInstance, fetchText, findLeaks, Fleet, fleetInstanceId, fleetInstances, fleetName, fleetSpecs, mapLimit } from "../../../harness/fleet.js";
import { TcpProxy } from "../../../harness/proxy.js";
import { sleep, waitFor } from "../../../harness/wait.js";

const N = 60;
const EXTRA = 10;
const PREFIX = "apr";
const ns = "rel-apiserver";

let cp: ControlPlane;
let kubeProxy: TcpProxy;
let fleet: Fleet;
let emu: EmulatorHandle;
let ctl: RunningController;
const report: Record<string, unknown> = {};

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

beforeAll(async () => {
  cp = await startControlPlane({ crdsDir: "crds", apiServerArgs: ["--etcd-compaction-interval=5s", "--watch-cache=false"] });
  fleet = await Fleet.open(cp.kubeconfigPath, ns);
  const apiPort = Number(new URL(cp.server).port);
  kubeProxy = await TcpProxy.start({ host: "127.0.0.1", port: apiPort });
  // Same credentials, server through the proxy (the serving certificate is for IP 127.0.0.1).
  const viaProxy = join(cp.workDir, "via-proxy.kubeconfig");
  await writeFile(viaProxy, (await readFile(cp.kubeconfigPath, "utf8")).replace(cp.server, `https://127.0.0.1:${kubeProxy.port}`));
  emu = await startEmulatorInProcess({ seed: { instances: fleetInstances(PREFIX, N + EXTRA) }, callLogCapacity: 100_000 });
  ctl = await startController({
    kubeconfig: viaProxy,
    ecsEndpoint: emu.url,
    namespace: ns,
    // A long resync: convergence below must come from watch events or the relist, not a timer.
    args: ["--resync-period=10m", "--concurrency=8", "--ecs-qps=100", "--ecs-burst=100"],
  });
  await ctl.waitForLog(/workers running/);
}, 180_000);

afterAll(async () => {
  if (ctl) {
    report["leaks"] = findLeaks(
      { controllerLog: ctl.logs(), metrics: (await fetchText(ctl.metricsUrl))?.body ?? "", callLog: JSON.stringify(await emu.admin.callLog().catch(() => [])) },
      [TEST_ACCESS_KEY.accessKeySecret],
    ).length;
  }
  await ctl?.stop();
  await kubeProxy?.stop();
  await emu?.stop();
  await cp?.stop();
  process.stderr.write(`[reliability] apiserver-restart figures: ${JSON.stringify(report)}\n`);
  expect(report["leaks"] ?? 0).toBe(0);
});

async function instanceNames(): Promise<Map<string, string | undefined>> {
  return new Map((await emu.admin.listInstances()).map((x) => [x.instanceId, x.instanceName]));
}

describe("reliability: API server restart and watch loss", () => {
  it("applies spec changes made right after a kube-apiserver restart", async () => {
    await fleet.createMany(fleetSpecs(PREFIX, N, (i) => ({ instanceName: `gen1-${i}` })));
    await fleet.waitConverged({ count: N, timeoutMs: 90_000, diag: () => ctl.logs().slice(-1500) });

    await cp.stopApiServer();
    await sleep(5_000);
    await cp.startApiServer();
    const restarted = Date.now();
    // While the controller is still reconnecting with backoff.
    await mapLimit(range(0, 20), 8, (i) => fleet.updateSpec(fleetName(PREFIX, i), { instanceName: `gen2-${i}` }));
    await fleet.waitConverged({ count: N, timeoutMs: 90_000, diag: () => ctl.logs().slice(-1500) });
    report["restartConvergeMs"] = Date.now() - restarted;
    const names = await instanceNames();
    for (const i of range(0, 20)) expect(names.get(fleetInstanceId(PREFIX, i))).toBe(`gen2-${i}`);
    for (const i of range(20, N)) expect(names.get(fleetInstanceId(PREFIX, i))).toBe(`gen1-${i}`);
    expect(ctl.logs()).toMatch(/list\/watch failed; reconnecting after backoff/);
  });

  it("relists after a partition that outlived etcd compaction (410) and applies updates and creations made meanwhile", async () => {
    const seq0 = (await emu.admin.callLog({ limit: 1 })).at(-1)?.seq ?? 0;
    const logOffset = ctl.logs().length;
    await kubeProxy.stop();
    const cut = Date.now();
    // Edits the controller cannot see: updates, creations and deletions.
    await mapLimit(range(20, 40), 8, (i) => fleet.updateSpec(fleetName(PREFIX, i), { instanceName: `gen3-${i}` }));
    await fleet.createMany(
      range(N, N + EXTRA).map((i) => ({ name: fleetName(PREFIX, i), spec: { instanceId: fleetInstanceId(PREFIX, i), instanceName: `late-${i}` } })),
    );
    await mapLimit(range(50, 55), 5, (i) =>
      fleet.custom.deleteNamespacedCustomObject({
        group: "ecs.alicloud.dev",
        version: "v1alpha1",
        namespace: ns,
        plural: "ecsinstanceattributes",
        name: fleetName(PREFIX, i),
      }),
    );
    // Two compaction intervals so the controller's last resourceVersion is compacted away.
    await sleep(12_000);
    await kubeProxy.start();
    const healed = Date.now();

    // The watch resumes from a compacted resourceVersion → 410 → a relist that notices the deletions.
    const relisted = await waitFor(
      "the EcsInstanceAttributes informer to see 410 and relist",
      async () => {
        const since = ctl.logs().slice(logOffset);
        // "ecsinstanceattributes." — not the set kind's informer (ecsinstanceattributessets.…), which relists too.
        if (!/ecsinstanceattributes\.v1alpha1[^\n]*resourceVersion expired \(410\); relisting/.test(since)) return undefined;
        return since
          .split("\n")
          .filter((l) => l.includes('"msg":"relisted"') && l.includes("ecsinstanceattributes.v1alpha1"))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .at(-1);
      },
      { timeoutMs: 90_000, diag: () => ctl.logs().slice(-2000) },
    );
    expect(relisted["removed"]).toBe(5);

    await fleet.waitConverged({ count: N + EXTRA - 5, timeoutMs: 90_000, diag: () => ctl.logs().slice(-1500) });
    report["partitionMs"] = healed - cut;
    report["convergeAfterHealMs"] = Date.now() - healed;
    const names = await instanceNames();
    for (const i of range(20, 40)) expect(names.get(fleetInstanceId(PREFIX, i))).toBe(`gen3-${i}`);
    for (const i of range(N, N + EXTRA)) expect(names.get(fleetInstanceId(PREFIX, i))).toBe(`late-${i}`);
    // The relist did not cause writes to resources that had not changed.
    const writes = byInstance(await emu.admin.callLog({ action: "ModifyInstanceAttribute", since: seq0 }));
    for (const id of writes.keys()) {
      const i = Number(id.slice(`i-${PREFIX}`.length));
      expect((i >= 20 && i < 40) || i >= N, `unexpected write to ${id}`).toBe(true);
    }
    report["modifiesAfterPartition"] = [...writes.values()].reduce((a, l) => a + l.length, 0);
  });
});
