/**
 * Child processes for the harness: run a command to completion (kubectl, helm, openssl), and run one
 * of the repository's build scripts (scripts/build-controlplane.sh, scripts/build-helm.sh), which
 * print progress on stderr and the directory of what they built as their last stdout line.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";

/** The repository's root directory. */
export const repoRoot = resolve(import.meta.dirname, "..");

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  input?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs `cmd` to completion; never throws on a non-zero exit (check `code`). */
export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], ...(opts.cwd ? { cwd: opts.cwd } : {}), ...(opts.env ? { env: opts.env } : {}) });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  // A missing binary emits "error" (ENOENT) and then "close"; report it like a failed exit.
  child.on("error", (e) => (stderr += `${e.message}\n`));
  child.stdin.on("error", () => undefined);
  child.stdin.end(opts.input ?? "");
  const [code] = (await once(child, "close")) as [number | null];
  return { stdout, stderr, code: code ?? -1 };
}

/** `kubectl --kubeconfig=… args`; never throws on a non-zero exit. */
export function kubectl(binDir: string, kubeconfig: string, args: readonly string[], input?: string): Promise<ExecResult> {
  return run(resolve(binDir, "kubectl"), [`--kubeconfig=${kubeconfig}`, ...args], input === undefined ? {} : { input });
}

/**
 * Runs `scripts/<name>` (which takes a lock and caches its build outside the repository), passing
 * its stderr lines to `log`, and returns the directory it printed last.
 */
export async function buildScriptDir(name: string, log: (line: string) => void): Promise<string> {
  const child = spawn("bash", [resolve(repoRoot, "scripts", name)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    for (const line of d.split("\n")) if (line.trim()) log(line);
  });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`scripts/${name} failed with exit code ${code}`);
  const dir = out.trim().split("\n").pop();
  if (!dir) throw new Error(`scripts/${name} printed no directory`);
  return dir;
}
