/**
 * promtool (Prometheus' own rule checker) for the packaging tests, built from deploy/tools/promtool/
 * by scripts/build-promtool.sh into a cache outside the repository (first use builds it; later uses
 * are instant). ECS_ATTRS_PROMTOOL_BIN (a directory holding `promtool`) skips the build.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { repoRoot } from "./support.js";

export interface ToolResult {
  stdout: string;
  stderr: string;
  code: number;
}

async function run(cmd: string, args: string[], cwd = repoRoot): Promise<ToolResult> {
  const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const [code] = (await once(child, "exit")) as [number | null];
  return { stdout, stderr, code: code ?? -1 };
}

let binDir: Promise<string> | undefined;

function promtoolDir(): Promise<string> {
  const fromEnv = process.env["ECS_ATTRS_PROMTOOL_BIN"];
  if (fromEnv) return Promise.resolve(fromEnv);
  binDir ??= run("bash", [join(repoRoot, "scripts/build-promtool.sh")]).then((r) => {
    const dir = r.stdout.trim().split("\n").pop();
    if (r.code !== 0 || !dir) throw new Error(`scripts/build-promtool.sh failed (${r.code}): ${r.stderr.slice(-2000)}`);
    return dir;
  });
  return binDir;
}

/** Runs promtool; never throws on a non-zero exit (check `code`). */
export async function runPromtool(args: string[], cwd?: string): Promise<ToolResult> {
  return run(join(await promtoolDir(), "promtool"), args, cwd);
}
