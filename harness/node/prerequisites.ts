/**
 * What the one-node cluster needs from the machine, and the node binaries it builds on first use
 * (scripts/build-node-binaries.sh, cached like the control plane's).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { access, constants } from "node:fs/promises";
import { join, resolve } from "node:path";

const repoRoot = resolve(import.meta.dirname, "../..");

const TOOLS = ["containerd", "ctr", "runc", "iptables", "iptables-save", "buildah", "debootstrap", "openssl", "ip"];

async function exists(path: string, mode = constants.F_OK): Promise<boolean> {
  return access(path, mode).then(
    () => true,
    () => false,
  );
}

async function onPath(tool: string): Promise<boolean> {
  for (const dir of (process.env["PATH"] ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    if (dir && (await exists(join(dir, tool), constants.X_OK))) return true;
  }
  return false;
}

/**
 * Why a one-node cluster cannot run here (one line, naming what to do), or undefined when it can.
 * The checks match scripts/setup-node-runtime.sh.
 */
export async function nodeClusterUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "the one-node cluster needs root (containerd, kubelet, iptables): run the tests as root";
  if (!(await exists("/sys/fs/cgroup/memory")) && !(await exists("/sys/fs/cgroup/cgroup.controllers"))) {
    return "no cgroups at /sys/fs/cgroup (kubelet needs memory/cpu/pids controllers): run on a host or VM with cgroups";
  }
  const missing: string[] = [];
  for (const t of TOOLS) if (!(await onPath(t))) missing.push(t);
  if (!(await exists("/usr/lib/cni/bridge"))) missing.push("/usr/lib/cni/bridge");
  if (missing.length > 0) return `missing ${missing.join(", ")}: run scripts/setup-node-runtime.sh`;
  return undefined;
}

export async function checkPrerequisites(): Promise<void> {
  const why = await nodeClusterUnavailable();
  if (why) throw new Error(why);
}

function defaultLog(line: string): void {
  process.stderr.write(`[node-binaries] ${line}\n`);
}

/** Runs a repo script that prints one directory on its last stdout line; progress lines go to log. */
export async function scriptDir(script: string, log: (line: string) => void): Promise<string> {
  const child = spawn("bash", [join(repoRoot, script)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    for (const line of d.split("\n")) if (line.trim()) log(line);
  });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`${script} failed with exit code ${code}`);
  const dir = out.trim().split("\n").pop();
  if (!dir) throw new Error(`${script} printed no directory`);
  return dir;
}

/** kubelet, kube-controller-manager, kube-scheduler, kube-proxy and pause; ECS_ATTRS_NODE_BIN skips the build. */
export async function nodeBinDir(log: (line: string) => void = defaultLog): Promise<string> {
  const fromEnv = process.env["ECS_ATTRS_NODE_BIN"];
  if (fromEnv) return fromEnv;
  const dir = await scriptDir("scripts/build-node-binaries.sh", log);
  process.env["ECS_ATTRS_NODE_BIN"] = dir;
  return dir;
}
