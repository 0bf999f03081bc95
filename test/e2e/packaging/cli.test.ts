/**
 * The controller binary's CLI as a process (src/main.ts through tsx, as the tests run it):
 * `--version`, and pflag's `--flag=false` form and its error, with the documented exit codes.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Exec, repoRoot } from "./support.js";

async function controller(args: string[]): Promise<Exec> {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src/main.ts"), ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const [code] = (await once(child, "exit")) as [number | null];
  return { stdout, stderr, code: code ?? -1 };
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
