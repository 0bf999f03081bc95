// Scenario b: the chart's DEFAULT resources (requests/limits in values.yaml) hold 1,000
// EcsInstanceAttributes: all Ready, no container restart, no OOMKilled. The Pods' peak memory is
// read from the memory cgroup kubelet created for each Pod and printed next to its limit; the
// sizing table in docs/install.md comes from these figures and the footprint bench.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type NodeOperator, nodeOperator, type PodReachableEmulator, startEmulatorForPods, podMemoryCgroup } from "../../../harness/node/operator.js";
import type { EmulatorHandle } from "../../../harness/emulator.js";
import { Fleet, fleetInstances, fleetSpecs } from "../../../harness/fleet.js";
import { CHART_DIR } from "../../../harness/helm.js";

const skip = inject("nodeSkipReason");
const NS = "eac-scale";
const RELEASE = "eac-scale";
const SELECTOR = `app.kubernetes.io/instance=${RELEASE}`;
const N = 1000;
/** Resources whose instance differs from the spec (each needs one ModifyInstanceAttribute). */
const DRIFTED = 200;
const PREFIX = "scl";
const KEY = { accessKeyId: "LTAIscaleKeyId", accessKeySecret: "scale-secret-Yp27Lm" };
const MiB = 1024 * 1024;

describe.skipIf(skip !== "")("chart default resources at 1,000 resources", () => {
  let op: NodeOperator;
  let emu: EmulatorHandle;
  let pe: PodReachableEmulator;
  let fleet: Fleet;

  beforeAll(async () => {
    op = nodeOperator(inject);
    const instances = fleetInstances(PREFIX, N, (i) => ({ instanceName: i < DRIFTED ? `old-${i}` : `web-${i}` }));
    pe = await startEmulatorForPods(inject("nodeIp"), { accessKeys: [KEY], seed: { instances }, callLogCapacity: 100_000 });
    emu = pe.emu;
    fleet = await Fleet.open(inject("nodeKubeconfigPath"), NS);
    await fleet.secret("ecs-creds", { ALIBABA_CLOUD_ACCESS_KEY_ID: KEY.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY.accessKeySecret });
  });

  afterAll(async () => {
    await op?.helm(["uninstall", RELEASE, "-n", NS, "--wait", "--timeout=120s"]);
    await fleet?.deleteNamespace();
    await pe?.stop();
  });

  it("b: all 1,000 Ready with zero restarts and no OOMKilled; peak Pod memory within the default limit", async () => {
    const values = await op.mustHelm(["show", "values", CHART_DIR]);
    expect(values).toContain("memory: 256Mi"); // the defaults this test is about
    await op.mustHelm([
      "install",
      RELEASE,
      CHART_DIR,
      "-n",
      NS,
      ...op.imageValues(),
      "--set",
      `ecs.endpoint=${pe.endpoint}`,
      "--set",
      "credentials.existingSecret=ecs-creds",
      "--wait",
      "--timeout=300s",
    ]);
    await op.waitPodsReady(NS, SELECTOR, 2);
    const started = Date.now();
    await fleet.createMany(
      fleetSpecs(PREFIX, N, (i) => ({ instanceName: `web-${i}` })),
      16,
    );
    const { items } = await fleet.waitConverged({ count: N, timeoutMs: 540_000 });
    const convergedMs = Date.now() - started;
    expect(items).toHaveLength(N);
    const modifies = await emu.admin.callLog({ action: "ModifyInstanceAttribute", code: "OK" });
    expect(modifies).toHaveLength(DRIFTED);

    const pods = await op.pods(NS, SELECTOR);
    expect(pods).toHaveLength(2);
    const report: string[] = [];
    for (const p of pods) {
      expect(p.restarts, `${p.name} restarts`).toBe(0);
      expect(p.lastTerminationReason, `${p.name} last termination`).not.toBe("OOMKilled");
      const mem = await podMemoryCgroup(p);
      expect(mem.limitBytes).toBe(256 * MiB);
      expect(mem.peakBytes).toBeLessThan(mem.limitBytes);
      report.push(`${p.name} (${p.limits["memory"]} limit): peak ${(mem.peakBytes / MiB).toFixed(0)} MiB of ${(mem.limitBytes / MiB).toFixed(0)} MiB`);
    }
    process.stderr.write(`[node-suite] b: ${N} resources (${DRIFTED} drifted) converged in ${(convergedMs / 1000).toFixed(0)} s; ${report.join("; ")}\n`);
  });
});
