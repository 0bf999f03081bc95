import { describe, expect, it } from "vitest";
import { FIELD_NAMES, parseProviderConfigSpec } from "../../../src/api/provider-config.js";
import { FIELDS } from "../../../src/api/fields.js";

const rrsa = { roleArn: "acs:ram::123456789012:role/a", oidcProviderArn: "acs:ram::123456789012:oidc-provider/b" };

describe("EcsProviderConfig spec (zod side, same rules as the CRD's CEL)", () => {
  it("applies the defaults: RRSA token file, endpoint network, no instance metadata", () => {
    const r = parseProviderConfigSpec({ credentials: { source: "RRSA", rrsa }, endpoint: {} });
    expect(r.ok && r.spec.credentials.rrsa?.oidcTokenFile).toBe("/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token");
    expect(r.ok && r.spec.credentials.allowInstanceMetadata).toBe(false);
    expect(r.ok && r.spec.endpoint).toEqual({ network: "public", allowInsecure: false });
  });

  it.each([
    [{ credentials: { source: "RRSA" } }, "credentials.rrsa is required for source RRSA"],
    [{ credentials: { source: "Default", rrsa } }, "credentials.rrsa is required for source RRSA and allowed only then"],
    [
      { credentials: { source: "Secret", secretRef: { namespace: "a", name: "b" }, allowInstanceMetadata: true } },
      "allowInstanceMetadata applies to source Default only",
    ],
    [{ credentials: { source: "Default" }, endpoint: { regionOverrides: [{ regionId: "cn-hangzhou", endpoint: "http://x:1" }] } }, "must use https://"],
    [{ credentials: { source: "Default" }, constraints: { allowedFields: ["rootPassword"] } }, "spec.constraints.allowedFields.0"],
  ])("refuses %j with a message naming the rule", (spec, message) => {
    const r = parseProviderConfigSpec(spec);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain(message);
  });

  it("accepts http:// overrides only with allowInsecure", () => {
    const r = parseProviderConfigSpec({
      credentials: { source: "Default" },
      endpoint: { allowInsecure: true, regionOverrides: [{ regionId: "cn-hangzhou", endpoint: "http://x:1" }] },
    });
    expect(r.ok).toBe(true);
  });

  it("allowedFields names are the field table's rows", () => {
    expect(FIELD_NAMES).toEqual(FIELDS.map((f) => f.name));
    expect(FIELD_NAMES).toContain("password");
    expect(FIELD_NAMES).toContain("userData");
  });
});
