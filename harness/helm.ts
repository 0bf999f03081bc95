/**
 * The helm CLI for tests and scripts, built from deploy/tools/helm/ by scripts/build-helm.sh into a
 * cache outside the repository (first use builds it, a few minutes on 2 cores; later uses are instant).
 *
 *   const helm = await helmPath();                 // absolute path of the helm binary
 *   const r = await runHelm(["template", "x", CHART_DIR]);  // { stdout, stderr, code }
 *
 * ECS_ATTRS_HELM_BIN (a directory holding `helm`) skips the build.
 */
import { join } from "node:path";
import { buildScriptDir, type ExecResult, repoRoot, run } from "./exec.js";

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
  cached ??= buildScriptDir("build-helm.sh", log);
  cached.catch(() => (cached = undefined));
  return cached;
}

/** Absolute path of the helm binary. */
export async function helmPath(log?: (line: string) => void): Promise<string> {
  return join(await helmBinDir(log), "helm");
}

/** Runs helm with args; never throws on a non-zero exit (check `code`). */
export async function runHelm(args: string[], opts: { cwd?: string; input?: string } = {}): Promise<ExecResult> {
  return run(await helmPath(), args, {
    cwd: opts.cwd ?? repoRoot,
    ...(opts.input === undefined ? {} : { input: opts.input }),
    // Keep helm away from the user's own repositories, plugins and kubeconfig.
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(repoRoot, "node_modules/.cache/helm/cache"),
      HELM_CONFIG_HOME: join(repoRoot, "node_modules/.cache/helm/config"),
      HELM_DATA_HOME: join(repoRoot, "node_modules/.cache/helm/data"),
    },
  });
}
