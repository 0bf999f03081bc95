/**
 * Which controller the fleet benchmark runs (`--controller`, `--controller-rev`, `--controller-patch`):
 *
 * - `dist` (default) compiles the committed src/ of a git revision (default HEAD; other sessions may
 *   have half-done edits in the working tree) with tsconfig.build.json under
 *   node_modules/.cache/ecs-bench/<rev>/ and runs `node dist/main.js`, i.e. what users run;
 * - `tsx` runs the working tree's `node --import tsx src/main.ts` like the tests do (adds tsx's own
 *   memory and start-up time to the figures).
 *
 * A patch (unified diff, applied with `patch -p1`; several comma-separated, in order) is applied to
 * the snapshot before compiling: how a proposed fix is measured before it is applied to src/.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { repoRoot } from "../harness/exec.js";

export interface ControllerBuild {
  /** What node runs (after node's own flags). */
  command: string[];
  /** The revision (and patches) it was built from, or "working tree". */
  rev: string;
}

export function buildController(kind: "dist" | "tsx", revSpec: string, patchFiles: string | undefined): ControllerBuild {
  if (kind === "tsx") return { command: ["--import", "tsx", join(repoRoot, "src/main.ts")], rev: "working tree" };
  const rev = spawnSync("git", ["rev-parse", revSpec], { cwd: repoRoot, encoding: "utf8" }).stdout.trim();
  if (!/^[0-9a-f]{40}$/.test(rev)) throw new Error(`--controller-rev ${revSpec}: not a git revision`);
  const patches = (patchFiles ?? "")
    .split(",")
    .filter(Boolean)
    .map((f) => readFileSync(resolve(f), "utf8"));
  const patchId = patches.length > 0 ? `-${createHash("sha256").update(patches.join("")).digest("hex").slice(0, 8)}` : "";
  // Under node_modules/ so the compiled files resolve the repository's dependencies.
  const dir = join(repoRoot, "node_modules/.cache/ecs-bench", rev.slice(0, 12) + patchId);
  const main = join(dir, "dist/main.js");
  if (!existsSync(main)) compile(rev, dir, patches);
  return { command: [main], rev: patches.length > 0 ? `${rev} + ${patchFiles}` : rev };
}

/** git archive of `rev` into `dir`, the patches applied, tsc with tsconfig.build.json. */
function compile(rev: string, dir: string, patches: readonly string[]): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // test/ too: a patch may carry the unit tests of its change.
  const tar = spawnSync("bash", ["-c", `git archive ${rev} src test tsconfig.json tsconfig.build.json | tar -x -C ${JSON.stringify(dir)}`], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  if (tar.status !== 0) throw new Error(`git archive ${rev} failed: ${tar.stderr}`);
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ type: "module" })}\n`);
  for (const one of patches) {
    const applied = spawnSync("patch", ["-p1", "-d", dir], { input: one, encoding: "utf8" });
    if (applied.status !== 0) throw new Error(`--controller-patch does not apply to ${rev}:\n${applied.stdout}${applied.stderr}`);
  }
  const tsc = spawnSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.build.json")], {
    cwd: dir,
    encoding: "utf8",
  });
  if (tsc.status !== 0) throw new Error(`compiling the controller at ${rev} failed:\n${tsc.stdout}${tsc.stderr}`);
}
