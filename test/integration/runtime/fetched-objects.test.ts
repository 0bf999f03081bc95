/**
 * Referenced Secrets without a cluster-wide Secret cache (issue 15), against a real kube-apiserver:
 * a metadata-only informer (PartialObjectMetadata) holds no data yet sees every change, and
 * FetchedObjects GETs an object once per version, only when asked, and drops it on delete.
 */
import { CoreV1Api, type KubeConfig, type V1Secret } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { FetchedObjects } from "../../../src/runtime/fetched-objects.js";
import { CoreResources, Informer, type KubeObject } from "../../../src/runtime/informer.js";
import { kubeRequest } from "../../../src/runtime/kube-http.js";
import { waitFor } from "../../../harness/wait.js";
import { captureLogger, createNamespace, loadKubeConfig } from "./helpers.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const value = (s: V1Secret | undefined) => (s?.data?.["k"] === undefined ? undefined : Buffer.from(s.data["k"], "base64").toString());

describe("metadata-only informer + FetchedObjects", () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns = "";
  let cleanup = async () => {};
  let meta: Informer<KubeObject>;
  let secrets: FetchedObjects<V1Secret & KubeObject>;
  const updates: string[] = [];

  beforeAll(async () => {
    kc = loadKubeConfig(inject("kubeconfigPath"));
    core = kc.makeApiClient(CoreV1Api);
    ({ ns, cleanup } = await createNamespace(kc, "rt-fetched"));
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "pw" }, data: { k: b64("one") } } });
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "unrelated" }, data: { k: b64("big".repeat(1000)) } } });
    meta = new Informer<KubeObject>({ kubeConfig: kc, resource: CoreResources.Secret, namespace: ns, metadataOnly: true, logger: captureLogger().log });
    meta.addHandler({ update: (_o, cur) => void updates.push(cur.metadata?.name ?? "") });
    secrets = new FetchedObjects({ kubeConfig: kc, resource: CoreResources.Secret, index: meta });
    meta.start();
    await meta.waitForSync();
  });
  afterAll(async () => {
    await meta.stop();
    await cleanup();
  });

  it("lists and watches metadata only", async () => {
    expect(meta.keys().sort()).toEqual([`${ns}/pw`, `${ns}/unrelated`]);
    for (const o of meta.list()) {
      expect(o.metadata?.resourceVersion).toMatch(/^\d+$/);
      expect(o).not.toHaveProperty("data");
    }
    const patched = await kubeRequest(kc, {
      method: "PATCH",
      path: `/api/v1/namespaces/${ns}/secrets/unrelated`,
      body: { metadata: { labels: { touched: "yes" } } },
      contentType: "application/merge-patch+json",
    });
    expect(patched.status).toBe(200);
    await waitFor("the metadata informer to see the label", () => meta.get(ns, "unrelated")?.metadata?.labels?.["touched"] === "yes", {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    expect(updates).toContain("unrelated");
    expect(meta.get(ns, "unrelated")).not.toHaveProperty("data");
  });

  it("fetches a referenced object once per version and follows its changes and deletion", async () => {
    expect(secrets.get(ns, "pw")).toBeUndefined();
    await Promise.all([secrets.ensure(ns, "pw"), secrets.ensure(ns, "pw"), secrets.ensure(ns, "pw")]);
    const first = secrets.get(ns, "pw");
    expect(value(first)).toBe("one");
    expect(first?.metadata).not.toHaveProperty("managedFields");
    await secrets.ensure(ns, "pw");
    expect(secrets.get(ns, "pw")).toBe(first); // same version: no second GET
    expect(secrets.size).toBe(1); // the unrelated Secret's data was never read

    const oldRv = meta.get(ns, "pw")?.metadata?.resourceVersion;
    await core.replaceNamespacedSecret({ name: "pw", namespace: ns, body: { metadata: { name: "pw" }, data: { k: b64("two") } } });
    await waitFor("the new version in the informer", () => meta.get(ns, "pw")?.metadata?.resourceVersion !== oldRv, { timeoutMs: 20_000, intervalMs: 100 });
    await secrets.ensure(ns, "pw");
    expect(value(secrets.get(ns, "pw"))).toBe("two");

    await core.deleteNamespacedSecret({ name: "pw", namespace: ns });
    await waitFor("the deletion", () => secrets.get(ns, "pw") === undefined, { timeoutMs: 20_000, intervalMs: 100 });
    await secrets.ensure(ns, "pw");
    await secrets.ensure(ns, "never-existed");
    expect(secrets.get(ns, "pw")).toBeUndefined();
    expect(secrets.get(ns, "never-existed")).toBeUndefined();
  });
});
