import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Condition, ConditionType, Reason, reasonFromEcsCode, setCondition, statusSchema, validateSpec } from "../../../src/api/index.js";
import { INVALID_CASES, manifest, specWith } from "../../unit/api/fixtures.js";
import { kubectl, tempNamespace } from "./helpers.js";

// JSON, not YAML: kubectl reads YAML 1.1, where an unquoted `yes` is a boolean, so a YAML
// serialiser following YAML 1.2 could change the value under test.
const json = (o: unknown) => JSON.stringify(o);

describe("admission-time validation by the real API server", () => {
  let ns = "";
  let cleanup: () => Promise<void> = () => Promise.resolve();
  beforeAll(async () => ({ ns, cleanup } = await tempNamespace("api-admission")));
  afterAll(async () => cleanup());

  it("the table has at least 25 invalid manifests, each also rejected by zod", () => {
    expect(INVALID_CASES.length).toBeGreaterThanOrEqual(25);
    for (const c of INVALID_CASES) expect(validateSpec(specWith(c.spec)).ok, c.name).toBe(false);
  });

  it.each(INVALID_CASES)("kubectl apply rejects: $name (message names $field)", async ({ spec, field }) => {
    const out = await kubectl(["apply", "-n", ns, "--dry-run=server", "-f", "-"], json(manifest("bad", specWith(spec))));
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("is invalid");
    expect(out.stderr).toContain(field);
  });

  it("the valid base manifest is accepted (so the rejections above are about the one broken rule)", async () => {
    const out = await kubectl(["apply", "-n", ns, "--dry-run=server", "-f", "-"], json(manifest("good", specWith({}))));
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
  });

  describe("on update", () => {
    beforeAll(async () => {
      const out = await kubectl(["apply", "-n", ns, "-f", "-"], json(manifest("immutable", specWith({ instanceName: "web-1" }))));
      expect(out.code).toBe(0);
    });

    it("changing instanceId is rejected", async () => {
      const out = await kubectl(["patch", "ecsattrs", "immutable", "-n", ns, "--type=merge", "-p", '{"spec":{"instanceId":"i-bp1demo0000000099"}}']);
      expect(out.code).not.toBe(0);
      expect(out.stderr).toContain("spec.instanceId");
      expect(out.stderr).toContain("instanceId is immutable");
    });

    it("changing regionId is rejected", async () => {
      const out = await kubectl(["patch", "ecsattrs", "immutable", "-n", ns, "--type=merge", "-p", '{"spec":{"regionId":"cn-beijing"}}']);
      expect(out.code).not.toBe(0);
      expect(out.stderr).toContain("regionId is immutable");
    });

    it("removing instanceId is rejected", async () => {
      const out = await kubectl(["patch", "ecsattrs", "immutable", "-n", ns, "--type=json", "-p", '[{"op":"remove","path":"/spec/instanceId"}]']);
      expect(out.code).not.toBe(0);
      expect(out.stderr).toContain("spec.instanceId");
    });

    it("changing a mutable attribute is accepted", async () => {
      const out = await kubectl(["patch", "ecsattrs", "immutable", "-n", ns, "--type=merge", "-p", '{"spec":{"instanceName":"web-2"}}']);
      expect(out.stderr).toBe("");
      expect(out.code).toBe(0);
    });
  });

  describe("status", () => {
    beforeAll(async () => {
      const out = await kubectl(["apply", "-n", ns, "-f", "-"], json(manifest("status-demo", specWith({ hostName: "web-1" }))));
      expect(out.code).toBe(0);
    });

    const patchStatus = (status: unknown) =>
      kubectl(["patch", "ecsattrs", "status-demo", "-n", ns, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })]);

    it("rejects a condition reason with a dot (a raw ECS code)", async () => {
      const bad = [{ type: "Synced", status: "False", reason: "InvalidHostName.Malformed", message: "", lastTransitionTime: "2026-01-01T00:00:00Z" }];
      const out = await patchStatus({ conditions: bad });
      expect(out.code).not.toBe(0);
      expect(out.stderr).toContain("status.conditions[0].reason");
    });

    it("accepts a status built with the helpers, and it reads back through the zod status schema", async () => {
      const now = new Date();
      let conditions: Condition[] = [];
      conditions = setCondition(
        conditions,
        {
          type: ConditionType.Synced,
          status: "False",
          reason: reasonFromEcsCode("InvalidHostName.Malformed"),
          message: 'InvalidHostName.Malformed: The specified parameter "HostName" is not valid.',
          observedGeneration: 1,
        },
        now,
      );
      conditions = setCondition(
        conditions,
        { type: ConditionType.Ready, status: "False", reason: Reason.TerminalError, message: "hostName rejected by ECS", observedGeneration: 1 },
        now,
      );
      conditions = setCondition(conditions, { type: ConditionType.RestartRequired, status: "False", reason: Reason.NoRestartPending, message: "" }, now);
      const status = statusSchema.parse({
        observedGeneration: 1,
        conditions,
        error: {
          code: "InvalidHostName.Malformed",
          message: 'The specified parameter "HostName" is not valid.',
          retryable: false,
          lastTime: now.toISOString(),
          action: "ModifyInstanceAttribute",
        },
        atProvider: {
          instanceName: "web-1",
          hostName: "old",
          status: "Running",
          osType: "linux",
          securityGroupIds: ["sg-a"],
          cpuOptions: { core: 2, threadsPerCore: 2, topologyType: "" },
          privateDnsNameOptions: { hostnameType: "Custom" },
          lockReasons: [],
        },
        pendingChanges: ["hostName"],
        lastSyncTime: now.toISOString(),
        appliedSecretVersions: {
          password: { kind: "Secret", name: "login", key: "password", uid: "0b3c", resourceVersion: "123", appliedTime: now.toISOString() },
        },
      });
      const out = await patchStatus(status);
      expect(out.stderr).toBe("");
      expect(out.code).toBe(0);
      const got = await kubectl(["get", "ecsattrs", "status-demo", "-n", ns, "-o", "json"]);
      const back = statusSchema.safeParse((JSON.parse(got.stdout) as { status: unknown }).status);
      expect(back.success).toBe(true);
      expect(back.data?.conditions?.map((c) => c.reason)).toEqual(["InvalidHostNameMalformed", "TerminalError", "NoRestartPending"]);
      expect(back.data?.error?.code).toBe("InvalidHostName.Malformed");
    });

    it("kubectl wait --for=condition=Ready returns once status says Ready=True", async () => {
      const notYet = await kubectl(["wait", "-n", ns, "--for=condition=Ready", "ecsattrs/status-demo", "--timeout=1s"]);
      expect(notYet.code).not.toBe(0);
      const got = await kubectl(["get", "ecsattrs", "status-demo", "-n", ns, "-o", "json"]);
      const current = (JSON.parse(got.stdout) as { status: { conditions: Condition[] } }).status.conditions;
      const conditions = setCondition(current, { type: ConditionType.Ready, status: "True", reason: Reason.InSync, message: "" }, new Date());
      const waiting = kubectl(["wait", "-n", ns, "--for=condition=Ready", "ecsattrs/status-demo", "--timeout=60s"]);
      const patched = await patchStatus({ conditions });
      expect(patched.code).toBe(0);
      const done = await waiting;
      expect(done.stderr).toBe("");
      expect(done.code).toBe(0);
      expect(done.stdout).toContain("condition met");
      const row = await kubectl(["get", "ecsattrs", "status-demo", "-n", ns, "--no-headers"]);
      expect(row.stdout.split(/\s+/).slice(0, 6)).toEqual(["status-demo", "i-bp1demo0000000001", "cn-hangzhou", "True", "False", "InSync"]);
    });
  });
});
