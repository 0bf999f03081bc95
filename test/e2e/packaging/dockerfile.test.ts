/**
 * Static checks of the Dockerfile (no Docker engine here): multi-stage with a runtime stage that
 * needs no shell, pinned Node 24 bases, a numeric non-root user matching the chart, and a build
 * context (.dockerignore allow-list) that holds what the build copies. runtime-stage.test.ts runs
 * the stages' npm steps for real.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { CHART_DIR, repoRoot } from "./support.js";

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name: string;
  body: Instruction[];
}

/** Instructions with line continuations joined and comments dropped. */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text.split("\n").filter((l) => !/^\s*#/.test(l));
  const joined = lines.join("\n").replace(/\\\n/g, " ");
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const raw of joined.split("\n")) {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(raw);
    if (!m) continue;
    const op = m[1]!;
    const rest = m[2]!.trim();
    if (op === "FROM") {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      stages.push({ from: f?.[1] ?? rest, name: f?.[2] ?? "", body: [] });
    } else if (op === "ARG" && stages.length === 0) {
      const [k, v] = rest.split("=");
      if (k) args[k] = v ?? "";
    } else {
      stages.at(-1)?.body.push({ op, args: rest });
    }
  }
  return { args, stages };
}

describe("Dockerfile", () => {
  let df: ReturnType<typeof parseDockerfile>;
  let runtime: Stage;
  beforeAll(async () => {
    df = parseDockerfile(await readFile(join(repoRoot, "Dockerfile"), "utf8"));
    runtime = df.stages.at(-1)!;
  });

  it("is multi-stage: build (all deps) -> deps (production only) -> runtime", () => {
    expect(df.stages.map((s) => s.name)).toEqual(["build", "deps", "runtime"]);
    const build = df.stages[0]!.body.filter((i) => i.op === "RUN")
      .map((i) => i.args)
      .join("\n");
    expect(build).toMatch(/npm ci\b(?!.*--omit=dev)/);
    expect(build).toContain("npm run build");
    const deps = df.stages[1]!.body.filter((i) => i.op === "RUN")
      .map((i) => i.args)
      .join("\n");
    expect(deps).toContain("npm ci --omit=dev");
    expect(runtime.body.filter((i) => i.op === "COPY").map((i) => i.args)).toEqual(["--from=deps /app ./"]);
  });

  it("pins Node 24 bases by tag: slim for building, distroless for running", () => {
    expect(df.args["NODE_VERSION"]).toMatch(/^24\.\d+\.\d+$/);
    // Overridable for mirrors (BUILD_IMAGE / RUNTIME_IMAGE); the defaults are the upstream names.
    expect(df.stages[0]!.from).toBe("${BUILD_IMAGE}");
    expect(df.stages[1]!.from).toBe("${BUILD_IMAGE}");
    expect(df.args["BUILD_IMAGE"]).toBe("node:${NODE_VERSION}-bookworm-slim");
    expect(runtime.from).toBe("${RUNTIME_IMAGE}");
    expect(df.args["RUNTIME_IMAGE"]).toMatch(/^gcr\.io\/distroless\/nodejs24-debian\d+:nonroot$/);
  });

  it("labels the image with the version --version prints and package.json declares", async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { version: string };
    const { VERSION_STRING } = await import("../../../src/app.js");
    expect(df.args["VERSION"]).toBe(pkg.version);
    expect(VERSION_STRING).toBe(pkg.version);
    expect(runtime.body.filter((i) => i.op === "ARG").map((i) => i.args)).toContain("VERSION");
    const label = runtime.body.find((i) => i.op === "LABEL")?.args ?? "";
    expect(label).toContain('org.opencontainers.image.version="${VERSION}"');
  });

  it("needs no shell at runtime and runs node dist/main.js as the chart's non-root user", async () => {
    expect(runtime.body.filter((i) => ["RUN", "CMD", "SHELL"].includes(i.op))).toEqual([]);
    const entry = runtime.body.find((i) => i.op === "ENTRYPOINT");
    expect(JSON.parse(entry!.args)).toEqual(["/nodejs/bin/node", "dist/main.js"]);
    const user = runtime.body.find((i) => i.op === "USER")!.args;
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const values = parseYaml(await readFile(join(CHART_DIR, "values.yaml"), "utf8")) as {
      podSecurityContext: { runAsUser: number; runAsGroup: number };
    };
    expect(user).toBe(`${values.podSecurityContext.runAsUser}:${values.podSecurityContext.runAsGroup}`);
  });

  it(".dockerignore lets through exactly what the build stage copies from the context", async () => {
    const ignore = (await readFile(join(repoRoot, ".dockerignore"), "utf8")).split("\n").map((l) => l.trim());
    expect(ignore.find((l) => l && !l.startsWith("#"))).toBe("*");
    const allowed = new Set(ignore.filter((l) => l.startsWith("!")).map((l) => l.slice(1).replace(/\/$/, "")));
    const copied = df.stages[0]!.body.filter((i) => i.op === "COPY" && !i.args.startsWith("--from")).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(copied.length).toBeGreaterThan(3);
    for (const path of copied) expect(allowed, `${path} is copied but excluded by .dockerignore`).toContain(path.replace(/\/$/, ""));
    expect(allowed.has("node_modules")).toBe(false);
  });
});
