import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostNameSchema, KIND, PLURAL } from "../../../src/api/index.js";
import { kubectl, tempNamespace } from "./helpers.js";

const examplesDir = join(import.meta.dirname, "../../../examples");
const files = readdirSync(examplesDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

describe("examples/ against the real API server", () => {
  let ns = "";
  let cleanup: () => Promise<void> = () => Promise.resolve();
  beforeAll(async () => ({ ns, cleanup } = await tempNamespace("api-examples")));
  afterAll(async () => cleanup());

  it("has the five example files", () => {
    expect(files).toEqual(["fleet.yaml", "full.yaml", "minimal.yaml", "observe-only.yaml", "set.yaml"]);
  });

  it.each(files)("%s applies with --dry-run=server, then for real", async (file) => {
    const path = join(examplesDir, file);
    const dry = await kubectl(["apply", "-n", ns, "--dry-run=server", "-f", path]);
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    const docs = parseAllDocuments(readFileSync(path, "utf8")).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    for (const d of docs) expect(dry.stdout).toContain(`${d.metadata.name} created (server dry run)`);

    const real = await kubectl(["apply", "-n", ns, "-f", path]);
    expect(real.stderr).toBe("");
    expect(real.code).toBe(0);
    for (const d of docs.filter((x) => x.kind === KIND)) {
      const got = await kubectl(["get", "ecsattrs", d.metadata.name, "-n", ns, "-o", "jsonpath={.spec.instanceId} {.spec.managementPolicy}"]);
      expect(got.code).toBe(0);
      // The API server applied the managementPolicy default where the example leaves it out.
      expect(got.stdout).toMatch(/^i-[a-z0-9]+ (Apply|Observe)$/);
    }
  });

  it("lists them with the printer columns, under both short names", async () => {
    const out = await kubectl(["get", "eia", "-n", ns]);
    expect(out.code).toBe(0);
    const header = out.stdout.split("\n")[0]?.split(/\s+/).filter(Boolean);
    expect(header).toEqual(["NAME", "INSTANCE", "REGION", "READY", "SYNCED", "REASON", "AGE"]);
    expect(out.stdout).toContain("i-bp1demo0000000001");
    const short = await kubectl(["get", "ecsattrs", "-n", ns, "-o", "name"]);
    expect(short.stdout.trim().split("\n").length).toBe(7);
    expect(short.stdout).toContain(`${PLURAL}.ecs.alicloud.dev/batch-4`);
  });

  it("kubectl explain ecsattrs.spec.hostName prints the schema's description", async () => {
    const out = await kubectl(["explain", "ecsattrs.spec.hostName"]);
    expect(out.code).toBe(0);
    const description = hostNameSchema.meta()?.description;
    expect(description).toBeTruthy();
    const flat = (s: string) => s.replaceAll(/\s+/g, " ").trim();
    expect(flat(out.stdout)).toContain(flat(description ?? "?"));
  });
});
