/**
 * promtool (Prometheus' own rule checker) for the packaging tests, built from deploy/tools/promtool/
 * by scripts/build-promtool.sh into a cache outside the repository (first use builds it; later uses
 * are instant). ECS_ATTRS_PROMTOOL_BIN (a directory holding `promtool`) skips the build.
 */
import { join } from "node:path";
import { buildScriptDir, type ExecResult, run } from "../../../harness/exec.js";

let binDir: Promise<string> | undefined;

function promtoolDir(): Promise<string> {
  const fromEnv = process.env["ECS_ATTRS_PROMTOOL_BIN"];
  if (fromEnv) return Promise.resolve(fromEnv);
  binDir ??= buildScriptDir("build-promtool.sh", (line) => process.stderr.write(`[promtool] ${line}\n`));
  binDir.catch(() => (binDir = undefined));
  return binDir;
}

/** Runs promtool; never throws on a non-zero exit (check `code`). */
export async function runPromtool(args: string[], cwd?: string): Promise<ExecResult> {
  return run(join(await promtoolDir(), "promtool"), args, cwd === undefined ? {} : { cwd });
}
