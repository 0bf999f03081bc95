/**
 * Every admin PATCH route merges: fields absent from the body keep their value (issue 20 item 2: a
 * description-only PATCH of a security group used to reset its VPC, type, name, rule count and tags).
 * The route list is read from src/emulator/admin.ts, so a new PATCH route without a case here fails.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulatorInProcess, type EmulatorHandle } from "../../../harness/emulator.js";

let emu: EmulatorHandle;
beforeAll(async () => {
  emu = await startEmulatorInProcess({
    seed: {
      vpcs: [{ vpcId: "vpc-ent", regionId: "cn-shanghai" }],
      securityGroups: [
        {
          securityGroupId: "sg-full",
          regionId: "cn-shanghai",
          vpcId: "vpc-ent",
          securityGroupType: "enterprise",
          securityGroupName: "web",
          description: "before",
          serviceManaged: true,
          ruleCount: 42,
          capacity: 7,
          tags: [{ key: "team", value: "a" }],
        },
      ],
      instances: [
        {
          instanceId: "i-full",
          regionId: "cn-shanghai",
          vpcId: "vpc-ent",
          securityGroupIds: ["sg-full"],
          instanceName: "full-1",
          description: "before",
          hostName: "host-1",
          osType: "windows",
          tags: [{ key: "team", value: "a" }],
          operationLocks: [{ lockReason: "financial", lockMsg: "overdue" }],
          privateDnsNameOptions: { hostnameType: "Custom", enableIpDnsARecord: true },
        },
      ],
    },
  });
});
afterAll(() => emu.stop());
beforeEach(() => emu.admin.reset());

async function http(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${emu.url}/_emulator/${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.status, `${method} ${path}`).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

interface PatchCase {
  /** `PATCH <route>` as written in admin.ts. */
  route: string;
  path: string;
  /** A body touching one field only. */
  body: Record<string, unknown>;
}

const CASES: PatchCase[] = [
  { route: "instances/:id", path: "instances/i-full", body: { description: "after" } },
  { route: "instances/:id/tags", path: "instances/i-full/tags", body: { env: "prod" } },
  { route: "security-groups/:id", path: "security-groups/sg-full", body: { description: "after" } },
  { route: "account", path: "account", body: { securityGroupQuotaPerInstance: 9 } },
  { route: "delays", path: "delays", body: { stopMs: 123 } },
  { route: "sts", path: "sts", body: { lifetimeSeconds: 60 } },
  { route: "consistency", path: "consistency", body: { defaultLag: 250 } },
];

function patchRoutesInAdminSource(): string[] {
  const src = readFileSync(new URL("../../../src/emulator/admin.ts", import.meta.url), "utf8");
  // Route-table keys of admin.ts: `"PATCH account": …`.
  return [...src.matchAll(/^\s*"PATCH ([^"]+)":/gm)].map((m) => m[1]!).sort();
}

describe("admin PATCH routes merge (fields not in the body are kept)", () => {
  it("this suite has a case for every PATCH route in admin.ts", () => {
    expect(CASES.map((c) => c.route).sort()).toEqual(patchRoutesInAdminSource());
  });

  it.each(CASES)("PATCH /_emulator/$path changes only the fields in the body", async ({ path, body }) => {
    const before = await http("GET", path);
    const after = await http("PATCH", path, body);
    expect(after).toEqual({ ...before, ...body });
    expect(await http("GET", path)).toEqual(after);
  });

  it("a description-only PATCH keeps the region, VPC, type, name, rule count, capacity and tags of an enterprise group", async () => {
    const sg = await http("PATCH", "security-groups/sg-full", { description: "only this" });
    expect(sg).toMatchObject({
      vpcId: "vpc-ent",
      securityGroupType: "enterprise",
      securityGroupName: "web",
      regionId: "cn-shanghai",
      serviceManaged: true,
      ruleCount: 42,
      capacity: 7,
      tags: [{ key: "team", value: "a" }],
      description: "only this",
    });
  });

  it("nested objects merge too (instance cpuOptions / privateDnsNameOptions)", async () => {
    const before = await http("GET", "instances/i-full");
    const after = await http("PATCH", "instances/i-full", { privateDnsNameOptions: { enableIpDnsPtrRecord: true } });
    expect(after["privateDnsNameOptions"]).toEqual({
      ...(before["privateDnsNameOptions"] as object),
      enableIpDnsPtrRecord: true,
    });
    expect(after["operationLocks"]).toEqual(before["operationLocks"]);
    expect(after["hostName"]).toBe("host-1");
  });
});
