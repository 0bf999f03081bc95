/**
 * The operator as users run it, on the one-node cluster (harness/node/global-setup.ts): kubectl and
 * helm against that cluster, the chart installed with the locally built image, its Pods, the
 * leader's Lease, each Pod's /readyz (Pod IPs are reachable from this machine) and the Pod's memory
 * cgroup as kubelet made it.
 *
 *   const op = nodeOperator(inject);                   // from a test file of the node project
 *   await op.helm(["install", "eac", CHART_DIR, "-n", ns, "--wait", ...op.imageValues()]);
 *   const pods = await op.waitPodsReady(ns, "app.kubernetes.io/instance=eac", 2);
 *   await op.readyz(pods[0]!)                         // "[+]leader-election ok (leader)…"
 */
import { readFile } from "node:fs/promises";
import { connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import type { ExecResult } from "../controlplane.js";
import { type EmulatorHandle, startEmulatorInProcess } from "../emulator.js";
import { runHelm } from "../helm.js";
import { waitFor } from "../wait.js";
import { runKubectl } from "./cluster.js";
import { scrapeMetrics, serviceAccountToken } from "../metrics.js";

export interface NodeSuiteContext {
  nodeKubeconfigPath: string;
  nodeIp: string;
  nodeControlPlaneBinDir: string;
  controllerImage: string;
}

export interface PodInfo {
  name: string;
  uid: string;
  ip: string;
  phase: string;
  ready: boolean;
  restarts: number;
  /** Reasons of the container's last termination, e.g. "OOMKilled" ("" if none). */
  lastTerminationReason: string;
  image: string;
  qosClass: string;
  limits: Record<string, string>;
  deletionTimestamp: string;
}

interface RawPod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { containers: Array<{ image: string; resources?: { limits?: Record<string, string> } }> };
  status: {
    phase?: string;
    podIP?: string;
    qosClass?: string;
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: Array<{ restartCount: number; lastState?: { terminated?: { reason?: string } } }>;
  };
}

function toPodInfo(p: RawPod): PodInfo {
  const cs = p.status.containerStatuses?.[0];
  return {
    name: p.metadata.name,
    uid: p.metadata.uid,
    ip: p.status.podIP ?? "",
    phase: p.status.phase ?? "",
    ready: p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    restarts: cs?.restartCount ?? 0,
    lastTerminationReason: cs?.lastState?.terminated?.reason ?? "",
    image: p.spec.containers[0]?.image ?? "",
    qosClass: p.status.qosClass ?? "",
    limits: p.spec.containers[0]?.resources?.limits ?? {},
    deletionTimestamp: p.metadata.deletionTimestamp ?? "",
  };
}

export class NodeOperator {
  constructor(readonly ctx: NodeSuiteContext) {}

  kubectl(args: string[], input = ""): Promise<ExecResult> {
    return runKubectl(join(this.ctx.nodeControlPlaneBinDir, "kubectl"), this.ctx.nodeKubeconfigPath, args, input);
  }

  async mustKubectl(args: string[], input = ""): Promise<string> {
    const r = await this.kubectl(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr.trim()}`);
    return r.stdout;
  }

  helm(args: string[]): Promise<ExecResult> {
    return runHelm([...args, `--kubeconfig=${this.ctx.nodeKubeconfigPath}`]);
  }

  async mustHelm(args: string[]): Promise<string> {
    const r = await this.helm(args);
    if (r.code !== 0) throw new Error(`helm ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** `--set` flags for the locally built image (pulled never: it exists only in containerd). */
  imageValues(tag?: string): string[] {
    const [name, builtTag] = this.ctx.controllerImage.split(/:(?=[^:/]+$)/) as [string, string];
    // The chart composes registry/repository (values.yaml image.registry defaults to ghcr.io).
    const [registry, repository] = name.split(/\/(.*)/s) as [string, string];
    return ["--set", `image.registry=${registry}`, "--set", `image.repository=${repository}`, "--set", `image.tag=${tag ?? builtTag}`];
  }

  async pods(ns: string, selector: string): Promise<PodInfo[]> {
    const out = await this.mustKubectl(["get", "pods", "-n", ns, "-l", selector, "-o", "json"]);
    return (JSON.parse(out) as { items: RawPod[] }).items.map(toPodInfo);
  }

  /** Waits for exactly `count` Pods Running and Ready (none terminating) and returns them. */
  waitPodsReady(ns: string, selector: string, count: number, timeoutMs = 180_000): Promise<PodInfo[]> {
    let last: PodInfo[] = [];
    return waitFor(
      `${count} Ready Pods (${selector}) in ${ns}`,
      async () => {
        last = await this.pods(ns, selector);
        const live = last.filter((p) => !p.deletionTimestamp);
        return last.length === count && live.every((p) => p.phase === "Running" && p.ready) ? live : undefined;
      },
      {
        timeoutMs,
        diag: () => JSON.stringify(last.map((p) => ({ name: p.name, phase: p.phase, ready: p.ready, restarts: p.restarts, deleting: !!p.deletionTimestamp }))),
        intervalMs: 1000,
      },
    );
  }

  /** The Pod holding the Lease ("" if none): the controller's identity is `<POD_NAME>_<random>` (src/run.ts). */
  async leaseHolder(ns: string, name: string): Promise<string> {
    const r = await this.kubectl(["get", "lease", name, "-n", ns, "-o", "jsonpath={.spec.holderIdentity}"]);
    return r.code === 0 ? r.stdout.trim().replace(/_[0-9a-f]+$/, "") : "";
  }

  /**
   * Waits until a Pod other than `deleted` holds the Lease and returns its name. Which one wins is
   * a race: the standby campaigns every retry period, and the Pod the Deployment creates in place
   * of the deleted one campaigns as soon as it starts; either taking over is correct.
   */
  waitNewLeaseHolder(ns: string, lease: string, deleted: string, selector: string, timeoutMs = 60_000): Promise<string> {
    let holder = "";
    return waitFor(
      `a Pod other than ${deleted} to hold Lease ${lease}`,
      async () => {
        holder = await this.leaseHolder(ns, lease);
        return holder !== "" && holder !== deleted ? holder : undefined;
      },
      {
        timeoutMs,
        intervalMs: 200,
        diag: async () => {
          const pods = await this.pods(ns, selector).catch(() => []);
          const list = pods.map((p) => ({ name: p.name, phase: p.phase, ready: p.ready, restarts: p.restarts, deleting: !!p.deletionTimestamp }));
          return `holder ${JSON.stringify(holder)}; pods ${JSON.stringify(list)}`;
        },
      },
    );
  }

  /** GET http://<pod IP>:8081/readyz?verbose from this machine. */
  async readyz(pod: PodInfo, port = 8081): Promise<{ status: number; body: string }> {
    const r = await fetch(`http://${pod.ip}:${port}/readyz?verbose`, { signal: AbortSignal.timeout(5000) });
    return { status: r.status, body: await r.text() };
  }

  /** GET https://<pod IP>:8080/metrics from this machine as a scraper would (self-signed certificate: unverified). */
  metrics(pod: PodInfo, token?: string, port = 8080): Promise<{ status: number; body: string }> {
    return scrapeMetrics(`https://${pod.ip}:${port}/metrics`, { token, timeoutMs: 5000 });
  }

  /** A token of ServiceAccount ns/name from the TokenRequest API. */
  token(ns: string, name: string): Promise<string> {
    return serviceAccountToken((args) => this.kubectl(args), ns, name);
  }

  async logs(ns: string, pod: string): Promise<string> {
    const r = await this.kubectl(["logs", "-n", ns, pod, "--all-containers", "--timestamps"]);
    const prev = await this.kubectl(["logs", "-n", ns, pod, "--previous", "--all-containers"]);
    return r.stdout + (prev.code === 0 ? prev.stdout : "");
  }
}

/**
 * The Pod-level memory cgroup (v1, cgroupfs driver: kubepods/<qos>/pod<uid>): peak usage since the
 * Pod started and the limit kubelet set from the container limits.
 */
export async function podMemoryCgroup(pod: PodInfo): Promise<{ peakBytes: number; limitBytes: number; path: string }> {
  const qos = pod.qosClass.toLowerCase();
  const path = `/sys/fs/cgroup/memory/kubepods/${qos === "guaranteed" ? "" : `${qos}/`}pod${pod.uid}`;
  const read = async (f: string) => Number((await readFile(join(path, f), "utf8")).trim());
  return { peakBytes: await read("memory.max_usage_in_bytes"), limitBytes: await read("memory.limit_in_bytes"), path };
}

/** The test's view of the node suite, from vitest's `inject`. */
export function nodeOperator(inject: <K extends keyof NodeSuiteContext>(key: K) => NodeSuiteContext[K]): NodeOperator {
  return new NodeOperator({
    nodeKubeconfigPath: inject("nodeKubeconfigPath"),
    nodeIp: inject("nodeIp"),
    nodeControlPlaneBinDir: inject("nodeControlPlaneBinDir"),
    controllerImage: inject("controllerImage"),
  });
}

export interface PodReachableEmulator {
  emu: EmulatorHandle;
  /** `http://<node IP>:<port>`: the chart's ecs.endpoint. */
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * The ECS emulator for Pods: it listens on loopback (its admin API serves loopback clients only)
 * and a TCP forwarder on the node IP carries the Pods' ECS calls to it. Nothing listens on an
 * address reachable from off this machine.
 */
export async function startEmulatorForPods(nodeIp: string, opts: Parameters<typeof startEmulatorInProcess>[0] = {}): Promise<PodReachableEmulator> {
  const emu = await startEmulatorInProcess(opts);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(emu.port, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((res, rej) => {
    server.once("error", rej);
    server.listen(0, nodeIp, () => res());
  });
  const addr = server.address();
  if (!addr || typeof addr === "string") throw new Error("forwarder has no port");
  return {
    emu,
    endpoint: `http://${nodeIp}:${addr.port}`,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
      await emu.stop();
    },
  };
}
