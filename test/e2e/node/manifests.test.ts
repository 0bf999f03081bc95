// Scenario e: the install without Helm — `kubectl apply -f deploy/manifests/install.yaml` as
// committed — runs the same way: 2 Pods Ready under the restricted Pod Security Standard its
// namespace enforces, one leader, resources converge, and the standby takes over when the leader
// Pod is deleted. The user points it at ECS and credentials with kubectl, as docs/install.md says
// for the manifest install; the manifest itself is applied unchanged.
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type NodeOperator, nodeOperator, type PodReachableEmulator, startEmulatorForPods } from "../../../harness/node/operator.js";
import type { EmulatorHandle } from "../../../harness/emulator.js";
import { Fleet, fleetInstances, fleetSpecs } from "../../../harness/fleet.js";
import { waitFor } from "../../../harness/wait.js";

const skip = inject("nodeSkipReason");
const MANIFEST = resolve(import.meta.dirname, "../../../deploy/manifests/install.yaml");
const NS = "ecs-attributes-system";
const DEPLOY = "ecs-attributes-controller";
const SELECTOR = "app.kubernetes.io/instance=ecs-attributes-controller";
const WORK_NS = "eac-manifest";
const N = 10;
const PREFIX = "mnf";
const KEY = { accessKeyId: "LTAImanifestKeyId", accessKeySecret: "manifest-secret-Hq63Vb" };

describe.skipIf(skip !== "")("deploy/manifests/install.yaml on a one-node cluster", () => {
  let op: NodeOperator;
  let emu: EmulatorHandle;
  let pe: PodReachableEmulator;
  let fleet: Fleet;

  beforeAll(async () => {
    op = nodeOperator(inject);
    pe = await startEmulatorForPods(inject("nodeIp"), { accessKeys: [KEY], seed: { instances: fleetInstances(PREFIX, N) } });
    emu = pe.emu;
    // The manifest names the published image; here it is the one built from the Dockerfile.
    const image = /image: "([^"]+)"/.exec(await readFile(MANIFEST, "utf8"))?.[1];
    if (!image) throw new Error("no image in install.yaml");
    execFileSync("ctr", ["--address", inject("nodeContainerdSock"), "-n", "k8s.io", "images", "tag", "--force", inject("controllerImage"), image]);
  });

  afterAll(async () => {
    await op?.kubectl(["delete", "-f", MANIFEST, "--ignore-not-found", "--wait=true", "--timeout=180s"]);
    await fleet?.deleteNamespace();
    await pe?.stop();
  });

  it("e: kubectl apply → 2 Pods Ready with one leader; resources converge; deleting the leader hands over", async () => {
    await op.mustKubectl(["apply", "-f", MANIFEST]);
    await op.mustKubectl([
      "create",
      "secret",
      "generic",
      "ecs-creds",
      "-n",
      NS,
      `--from-literal=ALIBABA_CLOUD_ACCESS_KEY_ID=${KEY.accessKeyId}`,
      `--from-literal=ALIBABA_CLOUD_ACCESS_KEY_SECRET=${KEY.accessKeySecret}`,
    ]);
    await op.mustKubectl(["set", "env", `deployment/${DEPLOY}`, "-n", NS, "--from=secret/ecs-creds"]);
    const arg = { op: "add", path: "/spec/template/spec/containers/0/args/-", value: `--ecs-endpoint=${pe.endpoint}` };
    await op.mustKubectl(["patch", `deployment/${DEPLOY}`, "-n", NS, "--type=json", `-p=${JSON.stringify([arg])}`]);
    await op.mustKubectl(["rollout", "status", `deployment/${DEPLOY}`, "-n", NS, "--timeout=300s"]);
    const pods = await op.waitPodsReady(NS, SELECTOR, 2);
    const leader = await waitFor(
      "a Lease holder",
      async () => {
        const h = await op.leaseHolder(NS, DEPLOY);
        return pods.some((p) => p.name === h) ? h : undefined;
      },
      60_000,
    );

    fleet = await Fleet.open(inject("nodeKubeconfigPath"), WORK_NS);
    await fleet.createMany(fleetSpecs(PREFIX, N, (i) => ({ instanceName: `app-${i}` })));
    await fleet.waitConverged({ count: N, timeoutMs: 180_000 });
    expect((await emu.admin.getInstance(fleetInstances(PREFIX, N)[0]!.instanceId)).instanceName).toBe("app-0");

    const standby = pods.find((p) => p.name !== leader)!;
    const deletedAt = Date.now();
    await op.mustKubectl(["delete", "pod", leader, "-n", NS, "--wait=false"]);
    await fleet.patchSpec(fleetSpecs(PREFIX, N, () => ({}))[1]!.name, { instanceName: "after-handover" });
    const successor = await op.waitNewLeaseHolder(NS, DEPLOY, leader, SELECTOR);
    const takeoverMs = Date.now() - deletedAt;
    const role = successor === standby.name ? "the standby" : "the replacement Pod";
    process.stderr.write(`[node-suite] e: ${successor} (${role}) took over ${takeoverMs} ms after ${leader} was deleted\n`);
    expect(takeoverMs).toBeLessThan(15_000);
    await fleet.waitConverged({ count: N, timeoutMs: 180_000 });
    expect((await emu.admin.getInstance(fleetInstances(PREFIX, N)[1]!.instanceId)).instanceName).toBe("after-handover");
  });
});
