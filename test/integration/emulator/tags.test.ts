/**
 * Instance tags through the official SDK: DescribeInstances returns `Tags.Tag[]` (TagKey/TagValue),
 * filters by `Tag.N.Key` / `Tag.N.Value` (N 1..20, all terms must match) and by VpcId, pages through a
 * tag-filtered set with NextToken; the admin routes set, replace and remove tags and Describe sees the
 * change at once.
 */
import * as $Ecs from "@alicloud/ecs20140526";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ecsClient, startEmulatorInProcess, type EcsClient, type EmulatorHandle, type SeedInput } from "../../../harness/emulator.js";
import { expectEcsError, REGION } from "./fixtures.js";

const WORKERS = Array.from({ length: 25 }, (_, n) => ({
  instanceId: `i-worker-${String(n).padStart(2, "0")}`,
  vpcId: n % 2 === 0 ? "vpc-a" : "vpc-b",
  tags: [
    { key: "role", value: "worker" },
    { key: "team", value: n < 15 ? "a" : "b" },
  ],
}));

const SEED: SeedInput = {
  instances: [
    ...WORKERS,
    { instanceId: "i-untagged", vpcId: "vpc-a" },
    { instanceId: "i-empty-value", vpcId: "vpc-a", tags: [{ key: "managed-by", value: "" }] },
    // A repeated key: the later value wins (keys are unique per resource).
    {
      instanceId: "i-dup",
      vpcId: "vpc-a",
      tags: [
        { key: "team", value: "x" },
        { key: "team", value: "y" },
      ],
    },
    { instanceId: "i-beijing", regionId: "cn-beijing", tags: [{ key: "role", value: "worker" }] },
  ],
};

let emu: EmulatorHandle;
let ecs: EcsClient;
beforeAll(async () => {
  emu = await startEmulatorInProcess({ seed: SEED });
  ecs = ecsClient(emu);
});
afterAll(() => emu.stop());
beforeEach(() => emu.admin.reset());

type Filter = Array<{ key: string; value?: string }>;

async function describeIds(filter: Filter, extra: Partial<$Ecs.DescribeInstancesRequest> = {}): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const res = await ecs.describeInstances(
      new $Ecs.DescribeInstancesRequest({
        regionId: REGION,
        maxResults: 10,
        tag: filter.map((t) => new $Ecs.DescribeInstancesRequestTag(t)),
        ...(nextToken ? { nextToken } : {}),
        ...extra,
      }),
    );
    ids.push(...(res.body?.instances?.instance ?? []).map((i) => i.instanceId!));
    nextToken = res.body?.nextToken || undefined;
  } while (nextToken);
  return ids.sort();
}

describe("DescribeInstances and tags", () => {
  it("returns Tags.Tag[] with TagKey / TagValue as the real API", async () => {
    const res = await ecs.describeInstances(
      new $Ecs.DescribeInstancesRequest({ regionId: REGION, instanceIds: JSON.stringify(["i-worker-00", "i-untagged", "i-dup"]) }),
    );
    const byId = new Map(res.body!.instances!.instance!.map((i) => [i.instanceId, i.tags?.tag ?? []]));
    expect(byId.get("i-worker-00")!.map((t) => ({ tagKey: t.tagKey, tagValue: t.tagValue }))).toEqual([
      { tagKey: "role", tagValue: "worker" },
      { tagKey: "team", tagValue: "a" },
    ]);
    expect(byId.get("i-untagged")).toEqual([]);
    expect(byId.get("i-dup")!.map((t) => [t.tagKey, t.tagValue])).toEqual([["team", "y"]]);
  });

  it("Tag.N.Key + Tag.N.Value: every term must match; a key without a value matches any value", async () => {
    expect(await describeIds([{ key: "team", value: "b" }])).toEqual(WORKERS.slice(15).map((w) => w.instanceId));
    expect(
      await describeIds([
        { key: "role", value: "worker" },
        { key: "team", value: "a" },
      ]),
    ).toEqual(WORKERS.slice(0, 15).map((w) => w.instanceId));
    expect(await describeIds([{ key: "team" }])).toEqual([...WORKERS.map((w) => w.instanceId), "i-dup"].sort());
    expect(await describeIds([{ key: "managed-by", value: "" }])).toEqual(["i-empty-value"]);
    expect(await describeIds([{ key: "team", value: "c" }])).toEqual([]);
    // Region scoped: the Beijing worker is not in cn-hangzhou's answer.
    expect(await describeIds([{ key: "role", value: "worker" }])).not.toContain("i-beijing");
  });

  it("a tag filter combines with VpcId and pages with NextToken (25 matches, 10 per page)", async () => {
    const all = await describeIds([{ key: "role", value: "worker" }]);
    expect(all).toHaveLength(25);
    const inA = await describeIds([{ key: "role", value: "worker" }], { vpcId: "vpc-a" });
    expect(inA).toEqual(WORKERS.filter((w) => w.vpcId === "vpc-a").map((w) => w.instanceId));
    const first = await ecs.describeInstances(
      new $Ecs.DescribeInstancesRequest({ regionId: REGION, maxResults: 10, tag: [new $Ecs.DescribeInstancesRequestTag({ key: "role", value: "worker" })] }),
    );
    expect(first.body!.instances!.instance).toHaveLength(10);
    expect(first.body!.totalCount).toBe(25);
    expect(first.body!.nextToken).not.toBe("");
  });

  it("Tag.20 is accepted, Tag.21 (and Tag.0) is InvalidParameter naming the parameter", async () => {
    const twenty = Array.from({ length: 20 }, (_, n) => ({ key: n === 0 ? "role" : `k${n}` }));
    expect(await describeIds(twenty)).toEqual([]);
    const e = await expectEcsError(
      ecs.describeInstances(
        new $Ecs.DescribeInstancesRequest({ regionId: REGION, tag: [...twenty, { key: "k21" }].map((t) => new $Ecs.DescribeInstancesRequestTag(t)) }),
      ),
      "InvalidParameter",
      400,
    );
    expect((e as { data?: Record<string, unknown> }).data?.["Message"]).toContain("Tag.21.Key");
  });
});

describe("admin tag routes", () => {
  it("PATCH sets and (with null) removes keys; Describe sees it at once", async () => {
    expect(await emu.admin.setTags("i-untagged", { team: "a", role: "worker" })).toEqual({ team: "a", role: "worker" });
    expect(await describeIds([{ key: "team", value: "a" }])).toContain("i-untagged");
    expect(await emu.admin.setTags("i-untagged", { team: null, env: "prod" })).toEqual({ role: "worker", env: "prod" });
    expect(await describeIds([{ key: "team", value: "a" }])).not.toContain("i-untagged");
    expect(await emu.admin.getTags("i-untagged")).toEqual({ role: "worker", env: "prod" });
  });

  it("PUT replaces every tag; DELETE removes named keys or all", async () => {
    expect(await emu.admin.replaceTags("i-worker-00", { only: "this" })).toEqual({ only: "this" });
    expect(await describeIds([{ key: "role" }])).not.toContain("i-worker-00");
    await emu.admin.setTags("i-worker-01", { extra: "1" });
    expect(await emu.admin.removeTags("i-worker-01", ["team", "absent"])).toEqual({ role: "worker", extra: "1" });
    expect(await emu.admin.removeTags("i-worker-01")).toEqual({});
  });

  it("bad bodies are 400, an unknown instance 404; reset restores the seeded tags", async () => {
    const bad = await fetch(`${emu.url}/_emulator/instances/i-untagged/tags`, { method: "PATCH", body: JSON.stringify({ team: 3 }) });
    expect(bad.status).toBe(400);
    const putNull = await fetch(`${emu.url}/_emulator/instances/i-untagged/tags`, { method: "PUT", body: JSON.stringify({ team: null }) });
    expect(putNull.status).toBe(400);
    const missing = await fetch(`${emu.url}/_emulator/instances/i-nope/tags`);
    expect(missing.status).toBe(404);
    await emu.admin.replaceTags("i-worker-00", {});
    await emu.admin.reset();
    expect(await emu.admin.getTags("i-worker-00")).toEqual({ role: "worker", team: "a" });
  });
});
