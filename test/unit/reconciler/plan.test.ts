import { describe, expect, it } from "vitest";
import type { EcsInstanceAttributesSpec } from "../../../src/api/index.js";
import { extrasFor, plan, type PlanInputs, stateAllows } from "../../../src/reconciler/plan.js";
import { observedInstance } from "./fixtures.js";

/** The plan tests' instance: two groups, jumbo/queue/user data read back. */
const observed = (over: Parameters<typeof observedInstance>[0] = {}) =>
  observedInstance({
    securityGroupIds: ["sg-a", "sg-b"],
    startTime: "2026-11-27T10:00Z",
    enableJumboFrame: false,
    networkInterfaceQueueNumber: 2,
    userData: "",
    ...over,
  });

function spec(over: Partial<EcsInstanceAttributesSpec> = {}): EcsInstanceAttributesSpec {
  return { instanceId: "i-bp1abc", regionId: "cn-hangzhou", managementPolicy: "Apply", ...over };
}

function inputs(over: Partial<PlanInputs> = {}): PlanInputs {
  return { spec: spec(), generation: 1, observed: observed(), ...over };
}

const secretSource = { kind: "Secret" as const, name: "pw", key: "password", uid: "u1", resourceVersion: "10" };

describe("plan", () => {
  it("sends nothing when only identity fields are set", () => {
    const p = plan(inputs());
    expect(p).toEqual({ differences: [], heldBack: [], request: undefined, restartFields: [] });
  });

  it("sends only the fields that differ", () => {
    const p = plan(inputs({ spec: spec({ instanceName: "new-name", description: "old description", deletionProtection: true }) }));
    expect(p.request).toEqual({ instanceId: "i-bp1abc", instanceName: "new-name", deletionProtection: true });
    expect(p.differences).toEqual(["instanceName", "deletionProtection"]);
  });

  it("compares security groups as a set", () => {
    expect(plan(inputs({ spec: spec({ securityGroupIds: ["sg-b", "sg-a"] }) })).request).toBeUndefined();
    expect(plan(inputs({ spec: spec({ securityGroupIds: ["sg-a"] }) })).request).toEqual({ instanceId: "i-bp1abc", securityGroupIds: ["sg-a"] });
  });

  it("holds back stopped-only fields while Running and applies the rest", () => {
    const p = plan(inputs({ spec: spec({ networkInterfaceQueueNumber: 4, instanceName: "new-name", cpuOptions: { threadsPerCore: 1 } }) }));
    expect(p.request).toEqual({ instanceId: "i-bp1abc", instanceName: "new-name" });
    expect(p.heldBack).toEqual([
      { field: "networkInterfaceQueueNumber", needs: "Stopped" },
      { field: "cpuOptions.threadsPerCore", needs: "Stopped" },
    ]);
    expect(p.differences).toContain("networkInterfaceQueueNumber");
  });

  it("applies stopped-only fields once Stopped", () => {
    const p = plan(
      inputs({
        observed: observed({ status: "Stopped" }),
        spec: spec({ networkInterfaceQueueNumber: 4, cpuOptions: { threadsPerCore: 1, topologyType: "DiscreteCoreToHTMapping" } }),
      }),
    );
    expect(p.request).toEqual({
      instanceId: "i-bp1abc",
      networkInterfaceQueueNumber: 4,
      cpuOptions: { threadsPerCore: 1, topologyType: "DiscreteCoreToHTMapping" },
    });
    expect(p.heldBack).toEqual([]);
  });

  it("holds hostname and password while Starting, and reports them as restart fields once sent", () => {
    const password = { value: "Secr3t!pass", source: secretSource };
    const starting = plan(
      inputs({ observed: observed({ status: "Starting" }), spec: spec({ hostName: "web-1", passwordSecretRef: { name: "pw", key: "password" } }), password }),
    );
    expect(starting.request).toBeUndefined();
    expect(starting.heldBack.map((h) => h.field)).toEqual(["hostName", "password"]);
    const running = plan(inputs({ spec: spec({ hostName: "web-1", passwordSecretRef: { name: "pw", key: "password" } }), password }));
    expect(running.request).toEqual({ instanceId: "i-bp1abc", hostName: "web-1", password: "Secr3t!pass" });
    expect(running.restartFields).toEqual(["hostName", "password"]);
  });

  it("re-applies a password only when the Secret version changes", () => {
    const s = spec({ passwordSecretRef: { name: "pw", key: "password" } });
    const password = { value: "Secr3t!pass", source: secretSource };
    const applied = { password: { ...secretSource, appliedTime: "2026-11-27T10:00:00Z" } };
    expect(plan(inputs({ spec: s, password, applied })).request).toBeUndefined();
    const rotated = { value: "N3w!password", source: { ...secretSource, resourceVersion: "11" } };
    expect(plan(inputs({ spec: s, password: rotated, applied })).request?.password).toBe("N3w!password");
    const recreated = { value: "Secr3t!pass", source: { ...secretSource, uid: "u2" } };
    expect(plan(inputs({ spec: s, password: recreated, applied })).differences).toEqual(["password"]);
  });

  it("compares inline user data by content and tries it while Running (the current docs give no state rule)", () => {
    const content = Buffer.from("#!/bin/sh\necho hi\n").toString("base64");
    const s = spec({ userData: { inlineBase64: content } });
    const userData = { value: content, source: { kind: "Inline" as const, generation: 1 } };
    expect(plan(inputs({ spec: s, userData, observed: observed({ status: "Stopped", userData: content }) })).request).toBeUndefined();
    const running = plan(inputs({ spec: s, userData, observed: observed({ userData: "" }) }));
    expect(running.heldBack).toEqual([]);
    expect(running.request).toEqual({ instanceId: "i-bp1abc", userData: content });
    expect(running.restartFields).toEqual(["userData"]);
  });

  it("holds user data for Stopped once ECS refused it in another state (a NeedsStopped hold), and sends it when Stopped", () => {
    const content = Buffer.from("#!/bin/sh\necho hi\n").toString("base64");
    const s = spec({ userData: { inlineBase64: content }, instanceName: "new-name" });
    const userData = { value: content, source: { kind: "Inline" as const, generation: 1 } };
    const restartHolds = [{ field: "userData", cause: "NeedsStopped" as const, since: "2026-11-27T10:01:00Z" }];
    const running = plan(inputs({ spec: s, userData, restartHolds, observed: observed({ userData: "" }) }));
    expect(running.heldBack).toEqual([{ field: "userData", needs: "Stopped", learned: true }]);
    expect(running.request).toEqual({ instanceId: "i-bp1abc", instanceName: "new-name" });
    expect(running.differences).toEqual(["instanceName", "userData"]);
    const stopped = plan(inputs({ spec: s, userData, restartHolds, observed: observed({ status: "Stopped", userData: "" }) }));
    expect(stopped.heldBack).toEqual([]);
    expect(stopped.request).toEqual({ instanceId: "i-bp1abc", instanceName: "new-name", userData: content });
  });

  it("compares Secret user data by version only", () => {
    const s = spec({ userData: { secretRef: { name: "ud", key: "cloud-init" } } });
    const source = { kind: "Secret" as const, name: "ud", key: "cloud-init", uid: "u9", resourceVersion: "5" };
    const userData = { value: "c2VjcmV0", source };
    const applied = { userData: { ...source, appliedTime: "2026-11-27T10:00:00Z" } };
    // Observed content differs, but the version was applied: no write (content is never compared).
    expect(plan(inputs({ spec: s, userData, applied, observed: observed({ status: "Stopped", userData: "b3RoZXI=" }) })).request).toBeUndefined();
  });

  it("sends queue number -1 once per generation", () => {
    const s = spec({ networkInterfaceQueueNumber: -1 });
    const stopped = observed({ status: "Stopped" });
    expect(plan(inputs({ spec: s, observed: stopped, generation: 3, lastSyncedGeneration: 2 })).request).toEqual({
      instanceId: "i-bp1abc",
      networkInterfaceQueueNumber: -1,
    });
    expect(plan(inputs({ spec: s, observed: stopped, generation: 3, lastSyncedGeneration: 3 })).request).toBeUndefined();
  });

  it("sends queue number -1 once it is no longer held back, even when that generation already synced", () => {
    const s = spec({ networkInterfaceQueueNumber: -1 });
    const running = plan(inputs({ spec: s, generation: 3, lastSyncedGeneration: 2 }));
    expect(running.heldBack).toEqual([{ field: "networkInterfaceQueueNumber", needs: "Stopped" }]);
    // Held back while Running: status listed it as pending, and Synced=True recorded generation 3.
    const stopped = plan(
      inputs({ spec: s, observed: observed({ status: "Stopped" }), generation: 3, lastSyncedGeneration: 3, pendingBefore: ["networkInterfaceQueueNumber"] }),
    );
    expect(stopped.request).toEqual({ instanceId: "i-bp1abc", networkInterfaceQueueNumber: -1 });
  });

  it("plans jumbo frames for Running or Stopped only", () => {
    const s = spec({ enableJumboFrame: true });
    expect(plan(inputs({ spec: s })).request).toEqual({ instanceId: "i-bp1abc", enableJumboFrame: true });
    expect(plan(inputs({ spec: s, observed: observed({ status: "Stopping" }) })).heldBack).toEqual([
      { field: "enableJumboFrame", needs: "Running or Stopped" },
    ]);
  });

  it("plans private DNS options per field", () => {
    const p = plan(inputs({ spec: spec({ privateDnsNameOptions: { hostnameType: "Custom", enableIpDnsARecord: true } }) }));
    expect(p.request).toEqual({ instanceId: "i-bp1abc", privateDnsNameOptions: { enableIpDnsARecord: true } });
    expect(p.differences).toEqual(["privateDnsNameOptions.enableIpDnsARecord"]);
  });
});

describe("extrasFor", () => {
  it("asks for single-instance reads only for the fields that need them", () => {
    expect(extrasFor(spec({ instanceName: "x1" }))).toEqual({ jumboFrame: false, userData: false, nicQueue: false });
    expect(extrasFor(spec({ enableJumboFrame: true, networkInterfaceQueueNumber: 2, userData: { inlineBase64: "aGk=" } }))).toEqual({
      jumboFrame: true,
      userData: true,
      nicQueue: true,
    });
    expect(extrasFor(spec({ networkInterfaceQueueNumber: -1, userData: { secretRef: { name: "a", key: "b" } } }))).toEqual({
      jumboFrame: false,
      userData: false,
      nicQueue: false,
    });
  });
});

describe("stateAllows", () => {
  it("follows the state matrix", () => {
    expect(stateAllows("Stopped", "Running")).toBe(false);
    expect(stateAllows("Stopped", "Stopped")).toBe(true);
    expect(stateAllows("Running or Stopped", "Starting")).toBe(false);
    expect(stateAllows("not Pending or Starting", "Stopping")).toBe(true);
    expect(stateAllows(undefined, "Pending")).toBe(true);
  });
});
