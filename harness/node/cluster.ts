/**
 * A real one-node Kubernetes cluster for tests: etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler, containerd + runc, kubelet and kube-proxy, each started by PID, with generated
 * certificates and Node,RBAC authorization. Binaries: scripts/build-controlplane.sh and
 * scripts/build-node-binaries.sh; runtime packages: scripts/setup-node-runtime.sh.
 *
 *   const c = await startNodeCluster({ images: [tarPath] });
 *   await c.kubectl(["get", "nodes"]);   c.kubeconfigPath;  c.nodeIp  (Pods reach the host here)
 *   await c.stop();                      // Pods through kubelet, then every process, then host changes
 *   c.hostChanges                        // after stop(): differences left on the host ("" = none)
 *
 * Host changes (sysctls, iptables, mounts, netns, links, addresses, directories, cgroups) are
 * recorded before the first start and undone by harness/node/host-state.sh: from stop(), and from a
 * detached reaper if this process dies without calling stop(). One cluster per machine (a lock file).
 * Network rule: Pods reach only this machine. The bridge does not masquerade, and a FORWARD rule
 * drops traffic from the pod range to any address that is not local.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { controlPlaneBinDir, type ExecResult, freePort } from "../controlplane.js";
import { cniConfig, containerdConfig, containerdPaths, kubeletConfig, type NodeLayout } from "./configs.js";
import { NodePki } from "./pki.js";
import { checkPrerequisites, nodeBinDir } from "./prerequisites.js";

const execFileP = promisify(execFile);
const here = import.meta.dirname;
const HOST_STATE = join(here, "host-state.sh");
const LOCK_FILE = "/run/ecs-attrs-node-cluster.lock";

/** Addresses of the cluster; none of them is routed off this machine. */
export const NODE_NETWORK = {
  nodeIp: "10.250.250.1",
  podCidr: "10.251.0.0/24",
  serviceCidr: "10.252.0.0/24",
  apiServiceIp: "10.252.0.1",
  nodeName: "ecs-attrs-node",
  guardChain: "ECS-ATTRS-GUARD",
} as const;

export interface NodeClusterOptions {
  /** docker-archive tarballs to import into containerd's k8s.io namespace before kubelet starts. */
  images: string[];
  /** The sandbox (pause) image name inside those tarballs. */
  pauseImage: string;
  log?: (line: string) => void;
  /** Per-step timeout in ms (default 240 s: a shared 2-core machine can be slow). */
  timeoutMs?: number;
}

export interface NodeCluster {
  readonly nodeIp: string;
  readonly kubeconfigPath: string;
  readonly workDir: string;
  readonly binDir: string;
  /** The containerd socket, for `ctr --address`. */
  readonly containerdSock: string;
  kubeConfig(): KubeConfig;
  kubectl(args: string[], opts?: { input?: string }): Promise<ExecResult>;
  /** Imports a docker-archive tarball into containerd (k8s.io namespace). */
  importImage(tarPath: string): Promise<void>;
  stop(): Promise<void>;
  /** After stop(): what host-state.sh diff printed ("" when every host change was undone). */
  readonly hostChanges: string;
}

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  log: WriteStream;
}

function defaultLog(line: string): void {
  process.stderr.write(`[node-cluster] ${line}\n`);
}

async function tail(path: string, lines = 40): Promise<string> {
  return (await readFile(path, "utf8").catch(() => "")).split("\n").slice(-lines).join("\n");
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, diag: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms\n${await diag()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function sh(cmd: string, args: string[]): Promise<ExecResult> {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, { maxBuffer: 64 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    return { stdout: err.stdout ?? "", stderr: err.stderr ?? String(e), code: typeof err.code === "number" ? err.code : 1 };
  }
}

async function mustSh(cmd: string, args: string[]): Promise<string> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * Takes the one-cluster-per-machine lock. While another live process holds it (a second test run
 * on the same machine), waits for it: up to `waitMs`, then says who holds it.
 */
async function takeLock(log: (line: string) => void, waitMs = 30 * 60_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let said = false; ; said = true) {
    const held = (await readFile(LOCK_FILE, "utf8").catch(() => "")).trim();
    const alive = held !== "" && Number(held) !== process.pid && (await sh("kill", ["-0", held])).code === 0;
    if (!alive) break;
    if (Date.now() > deadline) throw new Error(`another one-node cluster runs on this machine (pid ${held}, ${LOCK_FILE})`);
    if (!said) log(`waiting for the one-node cluster of pid ${held} to end (one cluster per machine)`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  // "wx" fails if another waiter took it between our read and this write: wait again.
  const fh = await open(LOCK_FILE, "wx").catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== "EEXIST") throw e;
    const holder = (await readFile(LOCK_FILE, "utf8").catch(() => "")).trim();
    if (holder && (await sh("kill", ["-0", holder])).code === 0) return undefined;
    await rm(LOCK_FILE, { force: true }); // stale: its process is gone
    return open(LOCK_FILE, "wx");
  });
  if (!fh) return takeLock(log, Math.max(0, deadline - Date.now()));
  await fh.writeFile(String(process.pid));
  await fh.close();
}

/** Kills the pids in stateDir/pids and undoes host changes if `parentPid` dies first. */
function spawnReaper(parentPid: number, stateDir: string): ChildProcess {
  const script = `
    while kill -0 ${parentPid} 2>/dev/null; do sleep 1; done
    # Hold the lock while restoring, so that a waiting run does not start on a half-restored host.
    [ "$(cat "${LOCK_FILE}" 2>/dev/null)" = "${parentPid}" ] && echo $$ >"${LOCK_FILE}"
    bash "${HOST_STATE}" restore "${stateDir}" >"${stateDir}.reaper.log" 2>&1
    [ "$(cat "${LOCK_FILE}" 2>/dev/null)" = "$$" ] && rm -f "${LOCK_FILE}"`;
  const reaper = spawn("bash", ["-c", script], { detached: true, stdio: "ignore" });
  reaper.unref();
  return reaper;
}

class Processes {
  readonly list: Proc[] = [];
  constructor(
    private readonly workDir: string,
    private readonly pidsFile: string,
  ) {}

  async start(name: string, bin: string, args: string[]): Promise<Proc> {
    const log = createWriteStream(join(this.workDir, `${name}.log`), { flags: "a" });
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const exited = new Promise<void>((res) => child.once("exit", () => res()));
    const p = { name, child, exited, log };
    this.list.push(p);
    await writeFile(this.pidsFile, this.list.map((x) => `${x.name} ${x.child.pid ?? ""}`).join("\n") + "\n");
    return p;
  }

  logPath(name: string): string {
    return join(this.workDir, `${name}.log`);
  }

  alive(p: Proc): boolean {
    return p.child.exitCode === null && p.child.signalCode === null;
  }

  async stop(p: Proc, timeoutMs = 15_000): Promise<void> {
    if (this.alive(p)) {
      p.child.kill("SIGTERM");
      const timer = setTimeout(() => p.child.kill("SIGKILL"), timeoutMs);
      await p.exited;
      clearTimeout(timer);
    }
    p.log.end();
  }

  /** Fails fast with the component's log if it exited. */
  async assertAlive(p: Proc): Promise<void> {
    if (!this.alive(p)) throw new Error(`${p.name} exited (${p.child.exitCode ?? p.child.signalCode}):\n${await tail(this.logPath(p.name))}`);
  }
}

interface Ctx {
  log: (line: string) => void;
  timeoutMs: number;
  workDir: string;
  stateDir: string;
  binDir: string;
  cpBinDir: string;
  procs: Processes;
  pki: NodePki;
  layout: NodeLayout;
  server: string;
  adminKubeconfig: string;
}

function kubectlAs(ctx: Ctx, kubeconfig: string, args: string[], input = ""): Promise<ExecResult> {
  return runKubectl(join(ctx.cpBinDir, "kubectl"), kubeconfig, args, input);
}

/** Runs kubectl with a kubeconfig; never throws on a non-zero exit (check `code`). */
export async function runKubectl(kubectl: string, kubeconfig: string, args: string[], input = ""): Promise<ExecResult> {
  const child = spawn(kubectl, [`--kubeconfig=${kubeconfig}`, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  child.stdin.end(input);
  const [code] = (await once(child, "exit")) as [number | null];
  return { stdout, stderr, code: code ?? -1 };
}

async function preparePki(ctx: Ctx): Promise<void> {
  const { pki } = ctx;
  const n = NODE_NETWORK;
  await pki.serving(
    "kube-apiserver",
    [n.nodeIp, n.apiServiceIp, "127.0.0.1"],
    ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"],
  );
  await pki.client("admin", "/CN=admin/O=system:masters");
  await pki.client("apiserver-kubelet-client", "/CN=kube-apiserver-kubelet-client/O=system:masters");
  await pki.client("kubelet", `/CN=system:node:${n.nodeName}/O=system:nodes`);
  await pki.client("controller-manager", "/CN=system:kube-controller-manager");
  await pki.client("scheduler", "/CN=system:kube-scheduler");
  await pki.client("kube-proxy", "/CN=system:kube-proxy");
  for (const name of ["admin", "kubelet", "controller-manager", "scheduler", "kube-proxy"]) await pki.kubeconfig(name, ctx.server);
}

/** The node IP on lo (the kernel here has no dummy links; kubelet refuses a loopback node IP). */
async function prepareHostNetwork(ctx: Ctx): Promise<void> {
  const n = NODE_NETWORK;
  const addrs = await mustSh("ip", ["-o", "addr", "show", "dev", "lo"]);
  if (!addrs.includes(` ${n.nodeIp}/32 `)) await mustSh("ip", ["addr", "add", `${n.nodeIp}/32`, "dev", "lo"]);
  // Pods may reach this machine's own addresses and each other, nothing else.
  await mustSh("iptables", ["-w", "-N", n.guardChain]);
  await mustSh("iptables", ["-w", "-A", n.guardChain, "-d", n.podCidr, "-j", "RETURN"]);
  await mustSh("iptables", ["-w", "-A", n.guardChain, "-m", "addrtype", "--dst-type", "LOCAL", "-j", "RETURN"]);
  await mustSh("iptables", ["-w", "-A", n.guardChain, "-j", "DROP"]);
  await mustSh("iptables", ["-w", "-I", "FORWARD", "1", "-s", n.podCidr, "-j", n.guardChain]);
  ctx.log(`node IP ${n.nodeIp}/32 on lo; pod range ${n.podCidr} may not be forwarded off the machine`);
}

async function startContainerd(ctx: Ctx): Promise<void> {
  const p = containerdPaths(ctx.workDir);
  await mkdir(join(ctx.workDir, "containerd"), { recursive: true });
  await mkdir(join(ctx.workDir, "cni/net.d"), { recursive: true });
  await writeFile(p.config, containerdConfig(ctx.layout));
  await writeFile(join(ctx.workDir, "cni/net.d/10-ecs-attrs.conflist"), cniConfig(ctx.layout));
  const proc = await ctx.procs.start("containerd", "containerd", ["--config", p.config, "--log-level", "warn"]);
  await waitFor(
    "containerd",
    ctx.timeoutMs,
    async () => {
      await ctx.procs.assertAlive(proc);
      return (await sh("ctr", ["--address", p.sock, "version"])).code === 0;
    },
    () => tail(ctx.procs.logPath("containerd")),
  );
}

async function importImage(sock: string, tar: string): Promise<void> {
  await mustSh("ctr", ["--address", sock, "-n", "k8s.io", "images", "import", tar]);
}

async function startControlPlane(ctx: Ctx): Promise<void> {
  const n = NODE_NETWORK;
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const etcd = await ctx.procs.start("etcd", join(ctx.cpBinDir, "etcd"), [
    "--name=default",
    `--data-dir=${join(ctx.workDir, "etcd-data")}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ]);
  await waitFor(
    "etcd",
    ctx.timeoutMs,
    async () => {
      await ctx.procs.assertAlive(etcd);
      return (await fetch(`${etcdUrl}/health`).catch(() => undefined))?.ok ?? false;
    },
    () => tail(ctx.procs.logPath("etcd")),
  );
  const pki = (f: string) => ctx.pki.path(f);
  const api = await ctx.procs.start("kube-apiserver", join(ctx.cpBinDir, "kube-apiserver"), [
    `--etcd-servers=${etcdUrl}`,
    `--cert-dir=${join(ctx.workDir, "apiserver-certs")}`,
    `--tls-cert-file=${pki("kube-apiserver.crt")}`,
    `--tls-private-key-file=${pki("kube-apiserver.key")}`,
    `--client-ca-file=${pki("ca.crt")}`,
    `--secure-port=${new URL(ctx.server).port}`,
    `--bind-address=${n.nodeIp}`,
    `--advertise-address=${n.nodeIp}`,
    `--service-cluster-ip-range=${n.serviceCidr}`,
    "--allow-privileged=true",
    "--authorization-mode=Node,RBAC",
    "--enable-admission-plugins=NodeRestriction",
    `--kubelet-client-certificate=${pki("apiserver-kubelet-client.crt")}`,
    `--kubelet-client-key=${pki("apiserver-kubelet-client.key")}`,
    // sandbox: otherwise `kubectl logs` resolves the node's hostname through the machine's resolver.
    "--kubelet-preferred-address-types=InternalIP",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki("sa.pub")}`,
    `--service-account-signing-key-file=${pki("sa.key")}`,
  ]);
  await waitFor(
    "kube-apiserver /readyz",
    ctx.timeoutMs,
    async () => {
      await ctx.procs.assertAlive(api);
      return (await kubectlAs(ctx, ctx.adminKubeconfig, ["get", "--raw", "/readyz"])).code === 0;
    },
    () => tail(ctx.procs.logPath("kube-apiserver")),
  );
  await ctx.procs.start("kube-controller-manager", join(ctx.binDir, "kube-controller-manager"), [
    `--kubeconfig=${pki("controller-manager.kubeconfig")}`,
    "--use-service-account-credentials",
    `--service-account-private-key-file=${pki("sa.key")}`,
    `--root-ca-file=${pki("ca.crt")}`,
    `--cluster-signing-cert-file=${pki("ca.crt")}`,
    `--cluster-signing-key-file=${pki("ca.key")}`,
    "--secure-port=0",
    "--leader-elect=false",
  ]);
  await ctx.procs.start("kube-scheduler", join(ctx.binDir, "kube-scheduler"), [
    `--kubeconfig=${pki("scheduler.kubeconfig")}`,
    "--secure-port=0",
    "--leader-elect=false",
  ]);
}

async function startNode(ctx: Ctx): Promise<void> {
  const n = NODE_NETWORK;
  const pki = (f: string) => ctx.pki.path(f);
  const configPath = join(ctx.workDir, "kubelet-config.yaml");
  await mkdir(join(ctx.workDir, "static-pods"), { recursive: true });
  await writeFile(configPath, kubeletConfig(ctx.layout, pki("ca.crt"), { kubelet: await freePort(), healthz: await freePort() }));
  const kubelet = await ctx.procs.start("kubelet", join(ctx.binDir, "kubelet"), [
    `--config=${configPath}`,
    `--kubeconfig=${pki("kubelet.kubeconfig")}`,
    `--root-dir=${join(ctx.workDir, "kubelet")}`,
    `--cert-dir=${join(ctx.workDir, "kubelet-pki")}`,
    `--node-ip=${n.nodeIp}`,
    `--hostname-override=${n.nodeName}`,
    "--v=1",
  ]);
  const proxy = await ctx.procs.start("kube-proxy", join(ctx.binDir, "kube-proxy"), [
    `--kubeconfig=${pki("kube-proxy.kubeconfig")}`,
    "--proxy-mode=iptables",
    `--hostname-override=${n.nodeName}`,
    // Leave the host's conntrack sysctls alone.
    "--conntrack-max-per-core=0",
    "--conntrack-tcp-timeout-established=0",
    "--conntrack-tcp-timeout-close-wait=0",
    "--iptables-localhost-nodeports=false",
    `--healthz-bind-address=127.0.0.1:${await freePort()}`,
    `--metrics-bind-address=127.0.0.1:${await freePort()}`,
  ]);
  await waitFor(
    "node Ready",
    ctx.timeoutMs,
    async () => {
      await ctx.procs.assertAlive(kubelet);
      await ctx.procs.assertAlive(proxy);
      const r = await kubectlAs(ctx, ctx.adminKubeconfig, ["get", "node", n.nodeName, "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      return r.stdout.trim() === "True";
    },
    () => tail(ctx.procs.logPath("kubelet")),
  );
  // kube-proxy and kubelet add FORWARD rules of their own: the guard must still see pod traffic.
  const guard = await sh("iptables", ["-w", "-C", "FORWARD", "-s", n.podCidr, "-j", n.guardChain]);
  if (guard.code !== 0) throw new Error(`the FORWARD guard for ${n.podCidr} is gone: ${guard.stderr.trim()}`);
  // Pods need their namespace's ServiceAccount (kube-controller-manager creates it).
  await waitFor(
    "default ServiceAccount",
    ctx.timeoutMs,
    async () => (await kubectlAs(ctx, ctx.adminKubeconfig, ["get", "serviceaccount", "default", "-n", "default"])).code === 0,
    () => tail(ctx.procs.logPath("kube-controller-manager")),
  );
}

/** Stops Pods through kubelet first so CNI DEL runs, then each process in reverse start order. */
async function stopAll(ctx: Ctx): Promise<void> {
  const kubelet = ctx.procs.list.find((p) => p.name === "kubelet");
  const api = ctx.procs.list.find((p) => p.name === "kube-apiserver");
  if (kubelet && api && ctx.procs.alive(kubelet) && ctx.procs.alive(api)) {
    const k = (args: string[]) => kubectlAs(ctx, ctx.adminKubeconfig, args);
    await k(["delete", "deployments,replicasets,daemonsets,statefulsets,jobs", "--all", "--all-namespaces", "--wait=false"]);
    await k(["delete", "pods", "--all", "--all-namespaces", "--grace-period=1", "--wait=false"]);
    const sock = containerdPaths(ctx.workDir).sock;
    await waitFor(
      "Pods stopped",
      90_000,
      async () => {
        const r = await sh("ctr", ["--address", sock, "-n", "k8s.io", "tasks", "ls", "-q"]);
        return r.code === 0 && r.stdout.trim() === "";
      },
      () => Promise.resolve(""),
    ).catch((e: Error) => ctx.log(`teardown: ${e.message.split("\n")[0]} (host-state.sh kills the rest)`));
  }
  for (const p of [...ctx.procs.list].reverse()) await ctx.procs.stop(p);
}

export async function startNodeCluster(opts: NodeClusterOptions): Promise<NodeCluster> {
  const log = opts.log ?? defaultLog;
  await checkPrerequisites();
  const [binDir, cpBinDir] = [await nodeBinDir(log), await controlPlaneBinDir(log)];
  await takeLock(log);
  const workDir = await mkdtemp(join(tmpdir(), "ecs-attrs-node-"));
  // Outside workDir: restore removes workDir, then diff records "after" here.
  const stateDir = await mkdtemp(join(tmpdir(), "ecs-attrs-node-state-"));
  const n = NODE_NETWORK;
  const sock = containerdPaths(workDir).sock;
  await writeFile(
    join(stateDir, "env"),
    [
      `NODE_IP=${n.nodeIp}`,
      `POD_CIDR=${n.podCidr}`,
      `WORK_DIR=${workDir}`,
      `CONTAINERD_SOCK=${sock}`,
      `KUBE_PROXY=${join(binDir, "kube-proxy")}`,
      `GUARD_CHAIN=${n.guardChain}`,
      "",
    ].join("\n"),
  );
  await mustSh("bash", [HOST_STATE, "snapshot", stateDir]);
  const reaper = spawnReaper(process.pid, stateDir);
  const pki = await NodePki.create(workDir);
  const server = `https://${n.nodeIp}:${await freePort()}`;
  const ctx: Ctx = {
    log,
    timeoutMs: opts.timeoutMs ?? 240_000,
    workDir,
    stateDir,
    binDir,
    cpBinDir,
    pki,
    server,
    procs: new Processes(workDir, join(stateDir, "pids")),
    layout: { workDir, nodeIp: n.nodeIp, podCidr: n.podCidr, containerdSock: sock, pauseImage: opts.pauseImage },
    adminKubeconfig: join(workDir, "admin.kubeconfig"),
  };

  let hostChanges = "";
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await stopAll(ctx).catch((e: Error) => log(`teardown: ${e.message}`));
      await sh("bash", [HOST_STATE, "restore", stateDir]);
      const diff = await sh("bash", [HOST_STATE, "diff", stateDir]);
      hostChanges = diff.code === 0 ? "" : diff.stdout + diff.stderr;
      reaper.kill("SIGKILL");
      await rm(stateDir, { recursive: true, force: true });
      if ((await readFile(LOCK_FILE, "utf8").catch(() => "")).trim() === String(process.pid)) await rm(LOCK_FILE, { force: true });
    })());

  try {
    const started = Date.now();
    await preparePki(ctx);
    await prepareHostNetwork(ctx);
    await startContainerd(ctx);
    // Unpacking the images takes a while on a busy machine: overlap it with the control plane.
    const imported = Promise.all(opts.images.map((tar) => importImage(sock, tar)));
    imported.catch(() => undefined);
    await startControlPlane(ctx);
    await imported;
    await startNode(ctx);
    log(`node ${n.nodeName} Ready in ${Date.now() - started} ms (API server ${server})`);
  } catch (e) {
    await stop();
    throw e;
  }

  const cluster: NodeCluster = {
    nodeIp: n.nodeIp,
    kubeconfigPath: ctx.adminKubeconfig,
    workDir,
    binDir,
    containerdSock: sock,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(ctx.adminKubeconfig);
      return kc;
    },
    kubectl: (args, o = {}) => kubectlAs(ctx, ctx.adminKubeconfig, args, o.input ?? ""),
    importImage: (tar) => importImage(sock, tar),
    stop,
    get hostChanges() {
      return hostChanges;
    },
  };
  return cluster;
}
