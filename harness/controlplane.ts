/**
 * A real Kubernetes control plane for tests and `npm run cluster`: etcd + kube-apiserver built from
 * Go modules (scripts/build-controlplane.sh), started on random loopback ports the way
 * controller-runtime's envtest does, with generated certificates and RBAC authorization.
 *
 *   const cp = await startControlPlane({ crdsDir: "crds" });
 *   cp.kubeConfig()            // @kubernetes/client-node KubeConfig (admin, system:masters)
 *   await cp.kubectl(["get", "ns"])
 *   await cp.userKubeconfig("system:serviceaccount:ns:sa", ["system:serviceaccounts"])
 *   await cp.stopApiServer(); await cp.startApiServer();   // restart on the same etcd
 *   await cp.stop();
 *
 * Cleanup: stop() kills both processes and removes the temp dir. A detached reaper process also
 * does that if this Node process dies without calling stop() (SIGKILL, crash), so no orphans remain.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { buildScriptDir, type ExecResult, kubectl, repoRoot, run } from "./exec.js";
import { KubeClient } from "./kube.js";
import { WaitAborted, waitFor } from "./wait.js";

export type { ExecResult };

export interface ControlPlaneOptions {
  /** Directory of CRD YAML files to install and wait for (e.g. "crds"). Skipped when absent or empty. */
  crdsDir?: string;
  /** Extra kube-apiserver flags, e.g. ["--etcd-compaction-interval=10s"]. */
  apiServerArgs?: string[];
  /** Where progress lines go (default: stderr). */
  log?: (line: string) => void;
  /** Startup timeout per component in ms (default 60 s; the first start on a cold 2-core machine is slow). */
  startTimeoutMs?: number;
}

export interface ControlPlane {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly binDir: string;
  readonly workDir: string;
  /** The etcd client URL, for tests that need to reach etcd directly. */
  readonly etcdUrl: string;
  kubeConfig(): KubeConfig;
  /** Runs the real kubectl against this cluster as admin (or with a different kubeconfig). */
  kubectl(args: string[], opts?: { kubeconfig?: string; input?: string }): Promise<ExecResult>;
  /** Mints a client certificate for `user` in `groups` and writes a kubeconfig for it. */
  userKubeconfig(user: string, groups?: string[]): Promise<string>;
  /** Installs every *.yaml in dir and waits until discovery serves them. */
  installCrds(dir: string): Promise<void>;
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  stop(): Promise<void>;
}

/** Resolves the directory holding kube-apiserver, etcd and kubectl, building them on first use. */
export async function controlPlaneBinDir(log: (line: string) => void = defaultLog): Promise<string> {
  const fromEnv = process.env["ECS_ATTRS_CONTROLPLANE_BIN"];
  if (fromEnv) return fromEnv;
  const dir = await buildScriptDir("build-controlplane.sh", log);
  process.env["ECS_ATTRS_CONTROLPLANE_BIN"] = dir;
  return dir;
}

function defaultLog(line: string): void {
  process.stderr.write(`[controlplane] ${line}\n`);
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const addr = srv.address();
  srv.close();
  if (addr === null || typeof addr === "string") throw new Error("no port");
  return addr.port;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await run("openssl", args, { cwd });
  if (r.code !== 0) throw new Error(`openssl ${args[0]} failed (is openssl installed?): ${r.stderr.trim()}`);
}

/** A throwaway CA plus the certificates the API server and its clients need. */
class Pki {
  constructor(readonly dir: string) {}

  static async create(dir: string): Promise<Pki> {
    const pki = new Pki(dir);
    await openssl(
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=ecs-attrs-test-ca", "-keyout", "ca.key", "-out", "ca.crt"],
      dir,
    );
    await writeFile(join(dir, "serving.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    await pki.sign("serving", "/CN=kube-apiserver", "serving.ext");
    // Service-account token signing key pair.
    await openssl(["genrsa", "-out", "sa.key", "2048"], dir);
    await openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
    return pki;
  }

  /** Signs a certificate; subject like "/CN=user/O=group1/O=group2". */
  async sign(name: string, subject: string, extFile?: string): Promise<void> {
    await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", `${name}.key`, "-out", `${name}.csr`], this.dir);
    const ext = extFile ?? `${name}.ext`;
    if (!extFile) await writeFile(join(this.dir, ext), "extendedKeyUsage=clientAuth\n");
    await openssl(
      ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", `${name}.crt`],
      this.dir,
    );
  }

  async read(name: string): Promise<string> {
    return readFile(join(this.dir, name), "utf8");
  }
}

function b64(s: string): string {
  return Buffer.from(s).toString("base64");
}

function kubeconfigYaml(server: string, ca: string, cert: string, key: string, user: string): string {
  // Certificates are embedded so the file works from any directory and after the PKI dir is gone.
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: ecs-attrs-test",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(ca)}`,
    "users:",
    `- name: ${JSON.stringify(user)}`,
    "  user:",
    `    client-certificate-data: ${b64(cert)}`,
    `    client-key-data: ${b64(key)}`,
    "contexts:",
    "- name: ecs-attrs-test",
    "  context:",
    "    cluster: ecs-attrs-test",
    `    user: ${JSON.stringify(user)}`,
    "current-context: ecs-attrs-test",
    "",
  ].join("\n");
}

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
  logFile: WriteStream;
}

function startProcess(bin: string, args: string[], logPath: string): Proc {
  const logFile = createWriteStream(logPath, { flags: "a" });
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(logFile, { end: false });
  child.stderr?.pipe(logFile, { end: false });
  const exited = new Promise<void>((res) => child.once("exit", () => res()));
  return { child, exited, logFile };
}

async function stopProcess(p: Proc | undefined, timeoutMs = 10_000): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill("SIGTERM");
  const timer = setTimeout(() => p.child.kill("SIGKILL"), timeoutMs);
  await p.exited;
  clearTimeout(timer);
}

async function tail(path: string, lines = 30): Promise<string> {
  try {
    return (await readFile(path, "utf8")).split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/**
 * Spawns a detached watcher that kills the pids listed in pidsFile and removes dir once
 * `parentPid` is gone. Needed because a SIGKILLed test runner cannot run its own cleanup.
 */
function spawnReaper(parentPid: number, pidsFile: string, dir: string): ChildProcess {
  const script = `
    while kill -0 ${parentPid} 2>/dev/null; do sleep 1; done
    [ -f "${pidsFile}" ] && for p in $(cat "${pidsFile}"); do kill -TERM "$p" 2>/dev/null; done
    sleep 2
    [ -f "${pidsFile}" ] && for p in $(cat "${pidsFile}"); do kill -KILL "$p" 2>/dev/null; done
    rm -rf "${dir}"`;
  const reaper = spawn("bash", ["-c", script], { detached: true, stdio: "ignore" });
  reaper.unref();
  return reaper;
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = opts.log ?? defaultLog;
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const binDir = await controlPlaneBinDir(log);
  const workDir = await mkdtemp(join(tmpdir(), "ecs-attrs-cp-"));
  const pidsFile = join(workDir, "pids");
  const reaper = spawnReaper(process.pid, pidsFile, workDir);
  const pki = await Pki.create(workDir);
  const ca = await pki.read("ca.crt");

  const [etcdClientPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
  const server = `https://127.0.0.1:${apiPort}`;

  const etcd = startProcess(join(binDir, "etcd"), etcdArgs(workDir, etcdUrl, `http://127.0.0.1:${etcdPeerPort}`), join(workDir, "etcd.log"));
  let apiserver: Proc | undefined;
  const recordPids = () =>
    writeFile(
      pidsFile,
      [etcd, apiserver]
        .map((p) => p?.child.pid)
        .filter(Boolean)
        .join("\n"),
    );
  await recordPids();

  const admin = { cert: "", key: "" };
  const cleanup = async () => {
    await stopProcess(apiserver);
    await stopProcess(etcd);
    apiserver?.logFile.end();
    etcd.logFile.end();
    reaper.kill("SIGKILL");
    await rm(workDir, { recursive: true, force: true });
  };

  const apiArgs = [...apiServerArgs(workDir, etcdUrl, apiPort), ...(opts.apiServerArgs ?? [])];

  const startApiServer = async () => {
    if (apiserver && apiserver.child.exitCode === null && apiserver.child.signalCode === null) return;
    apiserver = startProcess(join(binDir, "kube-apiserver"), apiArgs, join(workDir, "kube-apiserver.log"));
    await recordPids();
    const client = new KubeClient(server, { ca, cert: admin.cert, key: admin.key }, 1);
    try {
      const readyz = async () => (await client.request("GET", "/readyz", undefined, { timeoutMs: 2000 })).status === 200;
      await waitReady("kube-apiserver", apiserver, join(workDir, "kube-apiserver.log"), readyz, timeoutMs);
    } finally {
      client.close();
    }
  };

  try {
    await waitReady("etcd", etcd, join(workDir, "etcd.log"), async () => (await fetch(`${etcdUrl}/health`)).ok, timeoutMs);
    await pki.sign("admin", "/CN=admin/O=system:masters");
    admin.cert = await pki.read("admin.crt");
    admin.key = await pki.read("admin.key");
    const started = Date.now();
    await startApiServer();
    log(`kube-apiserver ready at ${server} in ${Date.now() - started} ms`);
  } catch (e) {
    await cleanup();
    throw e;
  }

  const kubeconfigPath = join(workDir, "admin.kubeconfig");
  await writeFile(kubeconfigPath, kubeconfigYaml(server, ca, admin.cert, admin.key, "admin"));

  let userSeq = 0;
  const cp: ControlPlane = {
    server,
    kubeconfigPath,
    binDir,
    workDir,
    etcdUrl,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    },
    kubectl: (args, o = {}) => kubectl(binDir, o.kubeconfig ?? kubeconfigPath, args, o.input),
    async userKubeconfig(user, groups = []) {
      const name = `user${++userSeq}`;
      const subject = `/CN=${user}${groups.map((g) => `/O=${g}`).join("")}`;
      await pki.sign(name, subject);
      const path = join(workDir, `${name}.kubeconfig`);
      await writeFile(path, kubeconfigYaml(server, ca, await pki.read(`${name}.crt`), await pki.read(`${name}.key`), user));
      return path;
    },
    installCrds: (dir) => installCrds(cp, dir, timeoutMs),
    stopApiServer: () => stopProcess(apiserver),
    startApiServer,
    stop: cleanup,
  };

  if (opts.crdsDir) {
    try {
      await cp.installCrds(resolve(repoRoot, opts.crdsDir));
    } catch (e) {
      await cleanup();
      throw e;
    }
  }
  return cp;
}

/** Installs every *.yaml in dir and waits until discovery serves each CRD. */
async function installCrds(cp: ControlPlane, dir: string, timeoutMs: number): Promise<void> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /\.ya?ml$/.test(f));
  if (files.length === 0) return;
  const applied = await cp.kubectl(["apply", "--server-side", "--force-conflicts", "-f", dir]);
  if (applied.code !== 0) throw new Error(`installing CRDs from ${dir} failed: ${applied.stderr}`);
  const established = await cp.kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"]);
  if (established.code !== 0) throw new Error(`CRDs not established: ${established.stderr}`);
  // Established is not enough: discovery can lag, and clients resolve kinds through it.
  const names = await cp.kubectl(["get", "crd", "-o", 'jsonpath={range .items[*]}{.spec.group}/{.spec.versions[0].name}/{.spec.names.plural}{"\\n"}{end}']);
  for (const line of names.stdout.split("\n").filter(Boolean)) {
    const [group, version, plural] = line.split("/");
    await waitFor(
      `discovery of ${plural}.${group}`,
      async () => {
        const r = await cp.kubectl(["get", "--raw", `/apis/${group}/${version}`]);
        return r.code === 0 && r.stdout.includes(`"name":"${plural}"`);
      },
      { timeoutMs, intervalMs: 200 },
    );
  }
}

function etcdArgs(workDir: string, clientUrl: string, peerUrl: string): string[] {
  return [
    "--name=default",
    `--data-dir=${join(workDir, "etcd-data")}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=default=${peerUrl}`,
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ];
}

function apiServerArgs(workDir: string, etcdUrl: string, apiPort: number): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    `--cert-dir=${workDir}`,
    `--tls-cert-file=${join(workDir, "serving.crt")}`,
    `--tls-private-key-file=${join(workDir, "serving.key")}`,
    `--client-ca-file=${join(workDir, "ca.crt")}`,
    `--secure-port=${apiPort}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    // Loopback may not be advertised through the kubernetes Service endpoints; nothing here needs them.
    "--endpoint-reconciler-type=none",
    "--service-cluster-ip-range=10.0.0.0/24",
    "--allow-privileged=true",
    // No controller-manager runs, so nothing would create the ServiceAccounts this plugin demands.
    "--disable-admission-plugins=ServiceAccount",
    "--authorization-mode=RBAC",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${join(workDir, "sa.pub")}`,
    `--service-account-signing-key-file=${join(workDir, "sa.key")}`,
  ];
}

/** Waits until `ready()` holds, failing at once (with its log's tail) if the process exits. */
async function waitReady(name: string, proc: Proc, logPath: string, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  await waitFor(
    name,
    async () => {
      if (proc.child.exitCode !== null) throw new WaitAborted(`${name} exited:\n${await tail(logPath)}`);
      return ready();
    },
    { timeoutMs, intervalMs: 200, diag: () => tail(logPath) },
  );
}
