import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConditionType, Reason, specSchema } from "../../../src/api/index.js";

const doc = readFileSync(join(import.meta.dirname, "../../../docs/api.md"), "utf8");

describe("docs/api.md", () => {
  it("documents every spec field", () => {
    const missing = Object.keys(specSchema.shape).filter((f) => !doc.includes(`\`${f}`));
    expect(missing).toEqual([]);
  });
  it("documents every condition type and reason", () => {
    const missing = [...Object.values(ConditionType), ...Object.values(Reason)].filter((r) => !doc.includes(`\`${r}\``));
    expect(missing).toEqual([]);
  });
});
