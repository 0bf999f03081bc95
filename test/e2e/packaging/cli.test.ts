/**
 * The controller binary's CLI as a process (src/main.ts through tsx, as the tests run it):
 * `--version`, and pflag's `--flag=false` form and its error, with the documented exit codes.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ExecResult, run } from "../../../harness/exec.js";
import { repoRoot } from "./support.js";

function controller(args: string[]): Promise<ExecResult> {
  return run(process.execPath, ["--import", "tsx", join(repoRoot, "src/main.ts"), ...args], { cwd: repoRoot });
}

describe("controller CLI", () => {
  it("--version prints the package version and exits 0", async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { version: string };
    const r = await controller(["--version"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`ecs-attributes-controller ${pkg.version}\n`);
  });

  it("refuses --leader-elect=maybe with one line and exit code 2", async () => {
    const r = await controller(["--leader-elect=maybe"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([
      'ecs-attributes-controller: invalid argument "maybe" for "--leader-elect" flag: want true or false (see --help)',
    ]);
  });

  it("refuses a renew deadline that does not fit in the lease, naming the flag", async () => {
    const r = await controller(["--leader-elect=true", "--leader-elect-lease-duration=5s", "--leader-elect-renew-deadline=10s"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--leader-elect-lease-duration: must be greater than --leader-elect-renew-deadline");
  });
});
