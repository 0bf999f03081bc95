/**
 * The Dockerfile's stages without Docker: build the project from the same files the build context
 * holds, `npm pack` it (what the image gets is exactly what npm would publish), `npm ci --omit=dev`
 * into a clean folder, and run `node dist/main.js --help` there. This proves the runtime image has
 * everything the controller needs and no dev dependencies.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run as runCommand } from "../../../harness/exec.js";
import { findObject, fixture, parseObjects, renderChart, repoRoot } from "./support.js";

const childEnv = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env["PATH"] ?? ""}` };

const run = (cmd: string, args: string[], cwd: string) => runCommand(cmd, args, { cwd, env: childEnv });

/** npm on PATH, run by the Node that runs the tests (Node 24): its directory goes first on PATH. */
const npm = (args: string[], cwd: string) => run("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], cwd);

/** The build context: the paths .dockerignore lets through (besides README/LICENSE when present). */
const CONTEXT = ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "src", "crds", "README.md", "LICENSE"];

describe("runtime stage (Dockerfile without Docker)", () => {
  let tmp = "";
  let app = "";
  let pkg: { dependencies: Record<string, string>; devDependencies: Record<string, string> };

  beforeAll(async () => {
    expect(existsSync(join(repoRoot, "src/main.ts")), "src/main.ts (the controller entry point) does not exist yet").toBe(true);
    pkg = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as typeof pkg;
    tmp = await mkdtemp(join(tmpdir(), "ecs-attrs-image-"));
    const project = join(tmp, "build");
    app = join(tmp, "app");
    await mkdir(project);
    for (const entry of CONTEXT) {
      if (existsSync(join(repoRoot, entry))) await cp(join(repoRoot, entry), join(project, entry), { recursive: true });
    }
    // Build stage: `npm ci` (all deps) — reuse the repository's install instead of downloading again.
    await symlink(join(repoRoot, "node_modules"), join(project, "node_modules"), "dir");
    const build = await npm(["run", "build"], project);
    expect(build.code, `npm run build failed:\n${build.stdout}\n${build.stderr}`).toBe(0);
    const pack = await npm(["pack", "--ignore-scripts", "--pack-destination", tmp], project);
    expect(pack.code, pack.stderr).toBe(0);
    const tarball = pack.stdout.trim().split("\n").pop()!;
    // Runtime stage: only the packed files plus the lockfile, production dependencies only.
    await mkdir(app);
    const untar = await run("tar", ["-xzf", join(tmp, tarball), "-C", app, "--strip-components=1"], tmp);
    expect(untar.code, untar.stderr).toBe(0);
    await cp(join(repoRoot, "package-lock.json"), join(app, "package-lock.json"));
    const ci = await npm(["ci", "--omit=dev", "--ignore-scripts", "--prefer-offline"], app);
    expect(ci.code, `npm ci --omit=dev failed:\n${ci.stderr}`).toBe(0);
  });

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("ships compiled code and the CRD, not sources or tests", async () => {
    const top = (await readdir(app)).sort();
    expect(top).toEqual(expect.arrayContaining(["dist", "crds", "package.json", "node_modules"]));
    for (const unwanted of ["src", "test", "scripts", "deploy", "tsconfig.json"]) expect(top).not.toContain(unwanted);
    expect(existsSync(join(app, "dist/main.js"))).toBe(true);
  });

  it("installs every production dependency and no dev-only package", async () => {
    for (const dep of Object.keys(pkg.dependencies)) {
      expect(existsSync(join(app, "node_modules", dep, "package.json")), `missing ${dep}`).toBe(true);
    }
    // The lockfile marks packages only dev dependencies need with "dev": true.
    const lock = JSON.parse(await readFile(join(repoRoot, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }>;
    };
    const present: string[] = [];
    const missing: string[] = [];
    for (const [path, meta] of Object.entries(lock.packages)) {
      if (!path.startsWith("node_modules/")) continue;
      const there = existsSync(join(app, path, "package.json"));
      if (meta.dev && there) present.push(path);
      if (!meta.dev && !meta.optional && !meta.devOptional && !there) missing.push(path);
    }
    expect(present, "dev-only packages in the runtime install").toEqual([]);
    expect(missing, "production packages missing from the runtime install").toEqual([]);
    for (const tool of ["typescript", "vitest", "tsx", "eslint"]) expect(existsSync(join(app, "node_modules", tool))).toBe(false);
  });

  it("runs `node dist/main.js --help` and knows every flag the Helm chart passes", async () => {
    const help = await run(process.execPath, ["dist/main.js", "--help"], app);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain("Usage: ecs-attributes-controller");
    const text = (await readFile(fixture("values-all.yaml"), "utf8")).replaceAll("WATCH_NS", "w").replaceAll("LEASE_NS", "l");
    const valuesPath = join(tmp, "values-all.yaml");
    await writeFile(valuesPath, text);
    const dep = findObject(parseObjects(await renderChart("image", "ns", ["-f", valuesPath])), "Deployment") as unknown as {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    const flags = new Set(dep.spec.template.spec.containers[0]!.args.map((a) => a.replace(/=.*$/, "")));
    expect(flags.size).toBeGreaterThan(15);
    for (const f of flags) expect(help.stdout, `--help does not list ${f}`).toMatch(new RegExp(`^\\s+${f}\\b`, "m"));
  });
});
