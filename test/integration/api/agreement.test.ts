/**
 * zod ↔ CRD agreement: the same values go through the controller's zod schema and a server-side
 * dry-run create on the real API server (patterns, enums, lengths, CEL); the verdicts must match.
 */
import type { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateSpec } from "../../../src/api/index.js";
import { AGREEMENT_VALUES, INVALID_CASES, manifest, specWith } from "../../unit/api/fixtures.js";
import { customObjects, dryRunCreate, tempNamespace } from "./helpers.js";

const rows = Object.entries(AGREEMENT_VALUES).flatMap(([field, values]) =>
  values.map((value) => ({ field, value, label: JSON.stringify(value).slice(0, 60) })),
);

describe("zod and the API server agree", () => {
  let ns = "";
  let cleanup: () => Promise<void> = () => Promise.resolve();
  let api: CustomObjectsApi;
  beforeAll(async () => {
    ({ ns, cleanup } = await tempNamespace("api-agree"));
    api = customObjects();
  });
  afterAll(async () => cleanup());

  it("the value table mixes accepted and rejected values for every field", () => {
    for (const [field, values] of Object.entries(AGREEMENT_VALUES)) {
      const verdicts = new Set(values.map((v) => validateSpec(specWith({ [field]: v })).ok));
      expect(verdicts, field).toEqual(new Set([true, false]));
    }
  });

  it.each(rows)("$field = $label", async ({ field, value }) => {
    const zod = validateSpec(specWith({ [field]: value }));
    const server = await dryRunCreate(api, ns, manifest("agree", specWith({ [field]: value }), ns));
    // The server's message (or "accepted") is printed when the verdicts differ.
    expect(zod.ok, `server: ${server ?? "accepted"}; zod: ${zod.ok ? "accepted" : zod.message}`).toBe(server === undefined);
    if (server !== undefined) expect(server).toContain(`spec.${field}`);
  });

  it.each(INVALID_CASES)("invalid case also rejected via the API client: $name", async ({ spec, field }) => {
    const server = await dryRunCreate(api, ns, manifest("agree", specWith(spec), ns));
    expect(server).toBeDefined();
    expect(server).toContain(field);
  });
});
