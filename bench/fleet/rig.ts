/**
 * The fleet benchmark's fixed parts, all real: kube-apiserver + etcd (harness/controlplane.ts), the
 * ECS emulator as its own process seeded with N instances and ECS-style per-minute limits
 * (throttle Q·60 on ModifyInstanceAttribute, D·60 on every Describe*, L ms latency on every call),
 * a keep-alive Kubernetes client and one watch over the namespace feeding a Tracker.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GROUP, PLURAL, VERSION } from "../../src/api/index.js";
import { type ControlPlane, startControlPlane } from "../../harness/controlplane.js";
import { type RunningController, startController } from "../../harness/controller.js";
import { type EmulatorProcessHandle, startEmulatorProcess } from "../../harness/emulator.js";
import { KubeClient } from "../../harness/kube.js";
import { cpuSeconds, parseApiserverLatency } from "../measure.js";
import { Calls } from "./calls.js";
import type { BenchConfig } from "./options.js";
import { Tracker } from "./tracker.js";

export const NS = "bench";
export const REGION = "cn-hangzhou";
export const idOf = (i: number): string => `i-bench${String(i).padStart(6, "0")}`;
export const nameOf = (i: number): string => `eia-${String(i).padStart(6, "0")}`;

export interface Rig {
  cp: ControlPlane;
  emu: EmulatorProcessHandle;
  kube: KubeClient;
  /** The namespace's EcsInstanceAttributes collection path. */
  base: string;
  tracker: Tracker;
  calls: Calls;
  pids: { etcd: number; apiserver: number; emulator: number };
  /** How often the benchmark's watch was re-opened. */
  watchRestarts(): number;
  /** A reason to stop waiting (the benchmark's watch failed), or undefined. */
  watchFailed(): string | undefined;
  /** Registers something `close` must tear down. */
  onClose(fn: () => Promise<unknown>): void;
  /** Tears everything down, last started first. */
  close(): Promise<void>;
}

export async function startRig(cfg: BenchConfig, say: (s: string) => void): Promise<Rig> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const cp = await startControlPlane({ crdsDir: "crds", log: (l) => say(`controlplane: ${l}`) });
    cleanups.push(() => cp.stop());
    const [etcd, apiserver] = readFileSync(join(cp.workDir, "pids"), "utf8").trim().split("\n").map(Number) as [number, number];
    const emu = await startFleetEmulator(cfg);
    cleanups.push(() => emu.stop());
    say(`emulator at ${emu.url} with ${cfg.N} instances`);

    const kube = KubeClient.fromKubeConfig(cp.kubeConfig(), cfg.createConcurrency + 8);
    cleanups.push(async () => kube.close());
    const ns = await kube.request("POST", "/api/v1/namespaces", { metadata: { name: NS } });
    if (ns.status !== 201) throw new Error(`namespace: HTTP ${ns.status}`);
    const base = `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${PLURAL}`;
    const tracker = new Tracker();
    let watchError: Error | undefined;
    const watch = await kube.watch(
      base,
      (ev) => tracker.onEvent(ev),
      (e) => (watchError = e),
    );
    cleanups.push(async () => watch.stop());
    return {
      cp,
      emu,
      kube,
      base,
      tracker,
      calls: new Calls(emu.admin),
      pids: { etcd, apiserver, emulator: emu.child.pid! },
      watchRestarts: () => watch.restarts(),
      watchFailed: () => (watchError ? `bench watch failed: ${watchError.message}` : undefined),
      onClose: (fn) => cleanups.push(fn),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The emulator process with N instances, a call log for the whole run, and the quota faults. */
async function startFleetEmulator(cfg: BenchConfig): Promise<EmulatorProcessHandle> {
  const emu = await startEmulatorProcess({
    logLevel: "warn",
    callLogCapacity: Math.max(200_000, cfg.N * 20),
    seed: {
      vpcs: [{ vpcId: "vpc-bench", regionId: REGION }],
      securityGroups: [{ securityGroupId: "sg-bench", vpcId: "vpc-bench", capacity: 1_000_000 }],
      instances: Array.from({ length: cfg.N }, (_, i) => ({ instanceId: idOf(i), vpcId: "vpc-bench", securityGroupIds: ["sg-bench"] })),
    },
  });
  await emu.admin.addFault({ action: "ModifyInstanceAttribute", kind: "throttle", limitPerMinute: Math.round(cfg.Q * 60) });
  for (const action of ["DescribeInstances", "DescribeInstanceAttribute", "DescribeUserData", "DescribeNetworkInterfaces"]) {
    await emu.admin.addFault({ action, kind: "throttle", limitPerMinute: Math.round(cfg.D * 60) });
  }
  if (cfg.L > 0) await emu.admin.addFault({ action: "*", kind: "latency", latencyMs: cfg.L });
  return emu;
}

/** CPU seconds of the API server and etcd together. */
export const apiCpu = (rig: Rig): number => cpuSeconds(rig.pids.apiserver) + cpuSeconds(rig.pids.etcd);

/** The API server's request-latency histograms now. */
export async function apiLatency(rig: Rig): Promise<ReturnType<typeof parseApiserverLatency>> {
  return parseApiserverLatency((await rig.cp.kubectl(["get", "--raw", "/metrics"])).stdout);
}

/**
 * Starts the controller process for this run (metrics and probes on port 0), through `launcher` when
 * given (the memory cgroup's, bench/fleet/cgroup.ts). The rig stops it with SIGKILL on close if the
 * run did not stop it first.
 */
export async function launchController(
  rig: Rig,
  command: string[],
  args: string[],
  cpuProfDir: string | undefined,
  launcher: string[] | undefined,
  env: Record<string, string>,
): Promise<RunningController> {
  const ctl = await startController({
    kubeconfig: rig.cp.kubeconfigPath,
    ecsEndpoint: rig.emu.url,
    namespace: NS,
    logLevel: "info",
    command,
    args,
    ...(cpuProfDir ? { cpuProfDir } : {}),
    ...(launcher ? { launcher } : {}),
    env,
  });
  rig.onClose(() => ctl.stop("SIGKILL"));
  return ctl;
}
