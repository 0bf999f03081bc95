/**
 * The status writer against the real API server: a write made after the spec changed (an edit
 * during the reconcile) lands instead of failing with 409, fields the new status lacks are removed,
 * the read-your-writes view covers a cache that lags by several versions, and a deleted or
 * re-created object is left alone without an error.
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type EcsInstanceAttributes, type EcsInstanceAttributesStatus, GROUP, PLURAL, VERSION } from "../../../src/api/index.js";
import { statusWriter as genericStatusWriter } from "../../../src/runtime/status-writer.js";
import { Fleet } from "../../../harness/fleet.js";

const ns = `status-writer-${Date.now().toString(36)}`;
let fleet: Fleet;
const logLines: string[] = [];
const log = pino({ level: "debug" }, { write: (l: string) => logLines.push(l) });

const statusFor = (generation: number, secretVersion: string): EcsInstanceAttributesStatus => ({
  observedGeneration: generation,
  conditions: [
    {
      type: "Ready",
      status: "True",
      reason: "InSync",
      message: "ECS matches the spec",
      observedGeneration: generation,
      lastTransitionTime: "2026-11-27T00:00:00Z",
    },
  ],
  appliedSecretVersions: { password: { kind: "Secret", name: "pw", key: "password", resourceVersion: secretVersion, appliedTime: "2026-11-27T00:00:00Z" } },
});

const asObj = (o: unknown) => o as EcsInstanceAttributes;
const statusWriter = (kc: Fleet["kc"], l: typeof log) =>
  genericStatusWriter<EcsInstanceAttributesStatus, EcsInstanceAttributes>(kc, { group: GROUP, version: VERSION, plural: PLURAL }, l);

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
});
afterAll(async () => {
  await fleet?.deleteNamespace();
});

describe("status writer", () => {
  it("lands although the spec changed since the read, so what was applied is not lost", async () => {
    const writer = statusWriter(fleet.kc, log);
    const read = asObj(await fleet.create("conflicted", { instanceId: "i-sw000001", instanceName: "v1" }));
    // The spec changes twice while the reconcile that read `read` is still writing ECS.
    await fleet.patchSpec("conflicted", { instanceName: "v2" });
    const latest = asObj(await fleet.patchSpec("conflicted", { instanceName: "v3" }));
    expect(latest.metadata.resourceVersion).not.toBe(read.metadata.resourceVersion);

    await writer.write(read, statusFor(1, "101"));

    const onServer = asObj(await fleet.get("conflicted"));
    expect(onServer.status?.appliedSecretVersions?.password?.resourceVersion).toBe("101");
    expect(onServer.status?.observedGeneration).toBe(1); // the generation this reconcile saw
    expect(onServer.metadata.generation).toBe(3);
    expect(onServer.spec.instanceName).toBe("v3"); // the spec is never written
    expect(logLines.filter((l) => l.includes("status written while the spec changed"))).toHaveLength(1);
  });

  it("read-your-writes: a cache several versions behind shows our status until it catches up", async () => {
    const writer = statusWriter(fleet.kc, log);
    const v1 = asObj(await fleet.create("lagging", { instanceId: "i-sw000002", instanceName: "v1" }));
    const v2 = asObj(await fleet.patchSpec("lagging", { instanceName: "v2" }));
    await writer.write(v1, statusFor(1, "7"));

    // The cache still holds v1 or v2 (neither has our status): both get it.
    expect(writer.fresh(v1)?.status?.appliedSecretVersions?.password?.resourceVersion).toBe("7");
    expect(writer.fresh(v2)?.status?.appliedSecretVersions?.password?.resourceVersion).toBe("7");
    expect(writer.fresh(v2)?.spec.instanceName).toBe("v2"); // only the status is substituted

    // The cache catches up: the object is returned as is and the stand-in is dropped.
    const caughtUp = asObj(await fleet.get("lagging"));
    expect(writer.fresh(caughtUp)).toBe(caughtUp);
    expect(writer.fresh(v2)?.status).toBeUndefined();
  });

  it("clears status fields the new status no longer has", async () => {
    const writer = statusWriter(fleet.kc, log);
    const v1 = asObj(await fleet.create("cleared", { instanceId: "i-sw000003" }));
    await writer.write(v1, { ...statusFor(1, "1"), pendingChanges: ["instanceName"] });
    const withPending = asObj(await fleet.get("cleared"));
    expect(withPending.status?.pendingChanges).toEqual(["instanceName"]);
    await writer.write(withPending, statusFor(1, "1"));
    expect(asObj(await fleet.get("cleared")).status?.pendingChanges).toBeUndefined();
  });

  it("a deleted and re-created object does not get the old one's status", async () => {
    const writer = statusWriter(fleet.kc, log);
    const old = asObj(await fleet.create("recreated", { instanceId: "i-sw000005" }));
    await fleet.custom.deleteNamespacedCustomObject({
      group: "ecs.alicloud.dev",
      version: "v1alpha1",
      namespace: ns,
      plural: "ecsinstanceattributes",
      name: "recreated",
    });
    const replacement = asObj(await fleet.create("recreated", { instanceId: "i-sw000005" }));
    expect(replacement.metadata.uid).not.toBe(old.metadata.uid);
    await writer.write(old, statusFor(1, "9"));
    expect(asObj(await fleet.get("recreated")).status).toBeUndefined();
  });

  it("a status the schema rejects is an error, not mistaken for a re-created object", async () => {
    const writer = statusWriter(fleet.kc, log);
    const obj = asObj(await fleet.create("invalid-status", { instanceId: "i-sw000006" }));
    const bad = { ...statusFor(1, "1"), pendingChanges: Array.from({ length: 40 }, (_, i) => `field${i}`) }; // max 32
    await expect(writer.write(obj, bad)).rejects.toThrow(/422/);
  });

  it("a deleted object is skipped, not an error", async () => {
    const writer = statusWriter(fleet.kc, log);
    const gone = asObj(await fleet.create("deleted", { instanceId: "i-sw000004" }));
    await fleet.custom.deleteNamespacedCustomObject({
      group: "ecs.alicloud.dev",
      version: "v1alpha1",
      namespace: ns,
      plural: "ecsinstanceattributes",
      name: "deleted",
    });
    await expect(writer.write(gone, statusFor(1, "1"))).resolves.toBeUndefined();
  });
});
