/**
 * The helm CLI for tests and scripts, built from deploy/tools/helm/ by scripts/build-helm.sh into a
 * cache outside the repository (first use builds it, a few minutes on 2 cores; later uses are instant).
 *
 *   const helm = await helmPath();                 // absolute path of the helm binary
 *   const r = await runHelm(["template", "x", CHART_DIR]);  // { stdout, stderr, code }
 *
 * ECS_ATTRS_HELM_BIN (a directory holding `helm`) skips the build.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join, resolve } from "node:path";

const repoRoot = resolve(import.meta.dirname, "..");

/** The chart directory. */
export const CHART_DIR = join(repoRoot, "deploy/helm/ecs-attributes-controller");

function defaultLog(line: string): void {
  process.stderr.write(`[helm] ${line}\n`);
}

let cached: Promise<string> | undefined;

/** Resolves the directory holding helm, building it on first use. */
export function helmBinDir(log: (line: string) => void = defaultLog): Promise<string> {
  const fromEnv = process.env["ECS_ATTRS_HELM_BIN"];
  if (fromEnv) return Promise.resolve(fromEnv);
  cached ??= (async () => {
    const child = spawn("bash", [join(repoRoot, "scripts/build-helm.sh")], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      for (const line of d.split("\n")) if (line.trim()) log(line);
    });
    const [code] = (await once(child, "exit")) as [number | null];
    if (code !== 0) throw new Error(`scripts/build-helm.sh failed with exit code ${code}`);
    const dir = out.trim().split("\n").pop();
    if (!dir) throw new Error("scripts/build-helm.sh printed no directory");
    return dir;
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}

/** Absolute path of the helm binary. */
export async function helmPath(log?: (line: string) => void): Promise<string> {
  return join(await helmBinDir(log), "helm");
}

export interface HelmResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs helm with args; never throws on a non-zero exit (check `code`). */
export async function runHelm(args: string[], opts: { cwd?: string; input?: string } = {}): Promise<HelmResult> {
  const child = spawn(await helmPath(), args, {
    cwd: opts.cwd ?? repoRoot,
    stdio: ["pipe", "pipe", "pipe"],
    // Keep helm away from the user's own repositories, plugins and kubeconfig.
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(repoRoot, "node_modules/.cache/helm/cache"),
      HELM_CONFIG_HOME: join(repoRoot, "node_modules/.cache/helm/config"),
      HELM_DATA_HOME: join(repoRoot, "node_modules/.cache/helm/data"),
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  child.stdin.end(opts.input ?? "");
  const [code] = (await once(child, "exit")) as [number | null];
  return { stdout, stderr, code: code ?? -1 };
}
