import { describe, expect, it } from "vitest";
import type { EcsInstanceAttributes } from "../../../src/api/index.js";
import { ResourceIndexes } from "../../../src/reconciler/indexes.js";

const res = (name: string, spec: Record<string, unknown>, namespace = "ns") =>
  ({ metadata: { namespace, name }, spec: { regionId: "cn-hangzhou", ...spec } }) as unknown as EcsInstanceAttributes;

describe("ResourceIndexes", () => {
  it("maps Secrets and ConfigMaps to the resources that reference them, per namespace", () => {
    const idx = new ResourceIndexes();
    idx.upsert(res("a", { instanceId: "i-1", passwordSecretRef: { name: "pw", key: "k" }, credentialsSecretRef: { name: "creds" } }));
    idx.upsert(res("b", { instanceId: "i-2", userData: { secretRef: { name: "pw", key: "ud" } } }));
    idx.upsert(res("c", { instanceId: "i-3", userData: { configMapRef: { name: "cm", key: "ud" } } }));
    idx.upsert(res("d", { instanceId: "i-4", passwordSecretRef: { name: "pw", key: "k" } }, "other"));
    expect(idx.referencingSecret("ns", "pw").sort()).toEqual(["ns/a", "ns/b"]);
    expect(idx.referencingSecret("ns", "creds")).toEqual(["ns/a"]);
    expect(idx.referencingConfigMap("ns", "cm")).toEqual(["ns/c"]);
    expect(idx.referencingSecret("other", "pw")).toEqual(["other/d"]);
    expect(idx.referencingSecret("ns", "nothing")).toEqual([]);
  });

  it("follows updates and deletes", () => {
    const idx = new ResourceIndexes();
    idx.upsert(res("a", { instanceId: "i-1", passwordSecretRef: { name: "pw", key: "k" } }));
    idx.upsert(res("a", { instanceId: "i-1", passwordSecretRef: { name: "pw2", key: "k" } }));
    expect(idx.referencingSecret("ns", "pw")).toEqual([]);
    expect(idx.referencingSecret("ns", "pw2")).toEqual(["ns/a"]);
    idx.remove(res("a", {}));
    expect(idx.referencingSecret("ns", "pw2")).toEqual([]);
  });

  it("finds the other resources on the same instance", () => {
    const idx = new ResourceIndexes();
    const a = res("a", { instanceId: "i-1" });
    idx.upsert(a);
    idx.upsert(res("b", { instanceId: "i-1" }, "other"));
    idx.upsert(res("c", { instanceId: "i-2" }));
    idx.upsert(res("d", { instanceId: "i-1", regionId: "cn-beijing" }));
    expect(idx.sameInstance(a)).toEqual(["other/b"]);
    idx.remove(res("b", {}, "other"));
    expect(idx.sameInstance(a)).toEqual([]);
  });
});
