/**
 * The resilient informer against a real kube-apiserver + etcd: list, add/update/delete, label
 * selector, API server restart on the same etcd, forced 410 relist with a correct store, and a
 * bounded number of reconnects while the server is down.
 */
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CoreResources, Informer } from "../../../src/runtime/informer.js";
import { type ControlPlane, startControlPlane } from "../../../harness/controlplane.js";
import { captureLogger, compactEtcd, createNamespace, loadKubeConfig } from "./helpers.js";
import { TcpProxy } from "../../../harness/proxy.js";
import { waitFor } from "../../../harness/wait.js";

type Ev = { type: "add" | "update" | "delete"; name: string; value?: string | undefined };

function recordEvents(inf: Informer<V1ConfigMap>): Ev[] {
  const events: Ev[] = [];
  inf.addHandler({
    add: (o) => events.push({ type: "add", name: o.metadata!.name!, value: o.data?.["v"] }),
    update: (_old, o) => events.push({ type: "update", name: o.metadata!.name!, value: o.data?.["v"] }),
    delete: (o) => events.push({ type: "delete", name: o.metadata!.name! }),
  });
  return events;
}

async function putCm(core: CoreV1Api, ns: string, name: string, v: string, labels?: Record<string, string>): Promise<void> {
  try {
    const cur = await core.readNamespacedConfigMap({ name, namespace: ns });
    cur.data = { v };
    await core.replaceNamespacedConfigMap({ name, namespace: ns, body: cur });
  } catch (e) {
    if ((e as { code?: number }).code !== 404) throw e;
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels }, data: { v } } });
  }
}

/** The store's view: name → value, sorted. */
function storeView(inf: Informer<V1ConfigMap>): Record<string, string | undefined> {
  return Object.fromEntries(
    inf
      .list()
      .map((o) => [o.metadata!.name!, o.data?.["v"]] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

async function serverView(core: CoreV1Api, ns: string): Promise<Record<string, string | undefined>> {
  const list = await core.listNamespacedConfigMap({ namespace: ns });
  return Object.fromEntries(
    list.items
      .filter((o) => o.metadata?.name !== "kube-root-ca.crt")
      .map((o) => [o.metadata!.name!, o.data?.["v"]] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

describe("Informer on the shared control plane", () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns = "";
  let cleanup = async () => {};
  beforeAll(async () => {
    kc = loadKubeConfig(inject("kubeconfigPath"));
    core = kc.makeApiClient(CoreV1Api);
    ({ ns, cleanup } = await createNamespace(kc, "rt-informer"));
  });
  afterAll(async () => cleanup());

  it("lists existing objects, then emits add, update and delete; hasSynced only after the list", async () => {
    await putCm(core, ns, "pre-1", "a");
    await putCm(core, ns, "pre-2", "b");
    const { log } = captureLogger();
    const inf = new Informer<V1ConfigMap>({ kubeConfig: kc, resource: CoreResources.ConfigMap, namespace: ns, logger: log });
    const events = recordEvents(inf);
    expect(inf.hasSynced()).toBe(false);
    inf.start();
    await inf.waitForSync();
    expect(inf.hasSynced()).toBe(true);
    expect(events.filter((e) => e.name.startsWith("pre-")).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { type: "add", name: "pre-1", value: "a" },
      { type: "add", name: "pre-2", value: "b" },
    ]);
    const stored = inf.get(ns, "pre-1");
    expect(stored?.kind).toBe("ConfigMap");
    expect(stored?.apiVersion).toBe("v1");
    expect(stored?.metadata).not.toHaveProperty("managedFields"); // stripped from the cache by default

    await putCm(core, ns, "new", "1");
    await waitFor("add of new", () => events.some((e) => e.type === "add" && e.name === "new"));
    await putCm(core, ns, "new", "2");
    await waitFor("update of new", () => events.some((e) => e.type === "update" && e.name === "new" && e.value === "2"));
    await core.deleteNamespacedConfigMap({ name: "pre-1", namespace: ns });
    await waitFor("delete of pre-1", () => events.some((e) => e.type === "delete" && e.name === "pre-1"));
    expect(inf.get(ns, "pre-1")).toBeUndefined();
    expect(inf.get(ns, "new")?.data?.["v"]).toBe("2");
    expect(storeView(inf)).toEqual(await serverView(core, ns));
    await inf.stop();
    // stop() is final
    expect(() => inf.start()).toThrow(/stopped/);
    await putCm(core, ns, "after-stop", "x");
    await new Promise((r) => setTimeout(r, 300));
    expect(events.some((e) => e.name === "after-stop")).toBe(false);
  });

  it("watches all namespaces when no namespace is given", async () => {
    const other = await createNamespace(kc, "rt-informer-b");
    try {
      const label = `rt-all-${Date.now()}`;
      await putCm(core, ns, "all-1", "1", { suite: label });
      const inf = new Informer<V1ConfigMap>({ kubeConfig: kc, resource: CoreResources.ConfigMap, labelSelector: `suite=${label}` });
      inf.start();
      await inf.waitForSync();
      await putCm(core, other.ns, "all-2", "1", { suite: label });
      await waitFor("object in the second namespace", () => inf.get(other.ns, "all-2"));
      expect(inf.keys().sort()).toEqual([`${ns}/all-1`, `${other.ns}/all-2`].sort());
      await inf.stop();
    } finally {
      await other.cleanup();
    }
  });

  it("honours a label selector on list and watch", async () => {
    await putCm(core, ns, "sel-yes", "1", { pick: "yes" });
    await putCm(core, ns, "sel-no", "1", { pick: "no" });
    const inf = new Informer<V1ConfigMap>({ kubeConfig: kc, resource: CoreResources.ConfigMap, namespace: ns, labelSelector: "pick=yes" });
    const events = recordEvents(inf);
    inf.start();
    await inf.waitForSync();
    await putCm(core, ns, "sel-yes-2", "1", { pick: "yes" });
    await putCm(core, ns, "sel-no-2", "1", { pick: "no" });
    await waitFor("sel-yes-2", () => inf.get(ns, "sel-yes-2"));
    expect(inf.keys().sort()).toEqual([`${ns}/sel-yes`, `${ns}/sel-yes-2`]);
    expect(events.every((e) => e.name.startsWith("sel-yes"))).toBe(true);
    await inf.stop();
  });
});

describe("Informer across a kube-apiserver restart (own control plane, same etcd)", () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns = "";
  beforeAll(async () => {
    cp = await startControlPlane({ log: () => undefined });
    kc = cp.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ({ ns } = await createNamespace(kc, "rt-restart"));
  });
  afterAll(async () => cp?.stop());

  it("keeps watching after the API server restarts, with a bounded number of reconnect attempts", async () => {
    await putCm(core, ns, "before", "1");
    const { log, records } = captureLogger();
    const inf = new Informer<V1ConfigMap>({ kubeConfig: kc, resource: CoreResources.ConfigMap, namespace: ns, logger: log });
    const events = recordEvents(inf);
    inf.start();
    await inf.waitForSync();
    await putCm(core, ns, "before", "2");
    await waitFor("update before restart", () => inf.get(ns, "before")?.data?.["v"] === "2");
    const watchesBefore = inf.stats.watches;

    const stoppedAt = Date.now();
    await cp.stopApiServer();
    const downMs = 8_000;
    await new Promise((r) => setTimeout(r, downMs));
    const failuresWhileDown = inf.stats.failures;
    await cp.startApiServer();
    const upAt = Date.now();
    await putCm(core, ns, "after", "1");
    await waitFor("event after restart", () => events.some((e) => e.name === "after"), 60_000);
    const seenAt = Date.now();
    await putCm(core, ns, "before", "3");
    await waitFor("update after restart", () => inf.get(ns, "before")?.data?.["v"] === "3", 30_000);
    expect(storeView(inf)).toEqual(await serverView(core, ns));

    // Reconnect attempts while down follow the backoff (0.8 s, 1.6 s, 3.2 s, …): a handful, not a storm.
    expect(failuresWhileDown).toBeGreaterThanOrEqual(1);
    expect(failuresWhileDown).toBeLessThanOrEqual(6);
    expect(inf.stats.watches - watchesBefore).toBeLessThanOrEqual(10);
    const warnings = records.filter((r) => r["msg"] === "list/watch failed; reconnecting after backoff");
    expect(warnings.length).toBe(inf.stats.failures);
    console.log(
      `[figure] apiserver restart: down ${upAt - stoppedAt} ms (incl. stop); first event seen ${seenAt - upAt} ms after the API server was ready; ` +
        `failures ${inf.stats.failures}, watches opened ${inf.stats.watches - watchesBefore}, relists ${inf.stats.relists}; ` +
        `backoff delays ${JSON.stringify(warnings.map((w) => w["delayMs"]))}`,
    );
    await inf.stop();
  });
});

describe("Informer recovery from errors the stock client-node informer stops on (own control plane)", () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns = "";
  let proxy: TcpProxy;
  beforeAll(async () => {
    cp = await startControlPlane({ log: () => undefined });
    kc = cp.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ({ ns } = await createNamespace(kc, "rt-errors"));
    proxy = await TcpProxy.start({ host: "127.0.0.1", port: Number(new URL(cp.server).port) });
  });
  afterAll(async () => {
    await proxy?.stop();
    await cp?.stop();
  });

  it("keeps retrying a forbidden (403) list with backoff and syncs once RBAC allows it", async () => {
    await putCm(core, ns, "visible", "1");
    const userKc = loadKubeConfig(await cp.userKubeconfig("rt-reader"));
    const { log, records } = captureLogger();
    const inf = new Informer<V1ConfigMap>({
      kubeConfig: userKc,
      resource: CoreResources.ConfigMap,
      namespace: ns,
      logger: log,
      backoff: { initialMs: 200, maxMs: 1000 },
    });
    inf.start();
    await waitFor("a few failures", () => inf.stats.failures >= 3, 30_000);
    expect(inf.hasSynced()).toBe(false);
    expect(inf.stats.lastError).toMatch(/403/);
    const rbac = await cp.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [
          {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "Role",
            metadata: { name: "cm-reader", namespace: ns },
            rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }],
          },
          {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: { name: "cm-reader", namespace: ns },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "cm-reader" },
            subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "rt-reader" }],
          },
        ],
      }),
    });
    expect(rbac.code).toBe(0);
    await waitFor("synced after RBAC", () => inf.hasSynced(), 30_000);
    expect(inf.get(ns, "visible")?.data?.["v"]).toBe("1");
    const delays = records.filter((r) => r["msg"] === "list/watch failed; reconnecting after backoff").map((r) => Number(r["delayMs"]));
    expect(delays.length).toBe(inf.stats.failures);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1000); // capped, and spaced out: no hot loop
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    await inf.stop();
  });

  it("a silently stalled watch (no bytes) is detected by the watchdog and reconnected", async () => {
    const inf = new Informer<V1ConfigMap>({
      kubeConfig: proxy.kubeConfigFor(kc),
      resource: CoreResources.ConfigMap,
      namespace: ns,
      watchdogMs: 2_000,
      backoff: { initialMs: 200, maxMs: 1000 },
    });
    inf.start();
    await inf.waitForSync();
    await putCm(core, ns, "stall-1", "1");
    await waitFor("event before the stall", () => inf.get(ns, "stall-1"));
    let stallsWhenDelivered = -1;
    inf.addHandler({ add: (o) => void (o.metadata?.name === "stall-2" && (stallsWhenDelivered = inf.stats.stalls)) });
    const stallsBefore = inf.stats.stalls;
    proxy.blackhole(); // the open watch connection goes silent; it is not closed
    await putCm(core, ns, "stall-2", "1");
    await waitFor("event delivered after reconnecting", () => inf.get(ns, "stall-2"), 30_000);
    // delivered only after the watchdog gave up on the silent connection
    expect(stallsWhenDelivered).toBeGreaterThan(stallsBefore);
    expect(inf.stats.lastError).toMatch(/stalled/);
    await inf.stop();
  });
});

describe("Informer after a forced 410 Gone (own control plane, watch cache off, etcd compacted)", () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let proxy: TcpProxy;
  let ns = "";
  beforeAll(async () => {
    // Without the watch cache, watches go to etcd, so compacting etcd makes an old resourceVersion
    // answer 410 Expired deterministically.
    cp = await startControlPlane({ log: () => undefined, apiServerArgs: ["--watch-cache=false"] });
    kc = cp.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ({ ns } = await createNamespace(kc, "rt-gone"));
    proxy = await TcpProxy.start({ host: "127.0.0.1", port: Number(new URL(cp.server).port) });
  });
  afterAll(async () => {
    await proxy?.stop();
    await cp?.stop();
  });

  it("relists on 410, emits the diff and ends with a store equal to the server", async () => {
    for (const n of ["keep", "change", "remove"]) await putCm(core, ns, n, "1");
    const { log, records } = captureLogger();
    const inf = new Informer<V1ConfigMap>({
      kubeConfig: proxy.kubeConfigFor(kc),
      resource: CoreResources.ConfigMap,
      namespace: ns,
      logger: log,
      backoff: { initialMs: 200, maxMs: 1000 },
    });
    const events = recordEvents(inf);
    inf.start();
    await inf.waitForSync();
    expect(inf.stats.lists).toBe(1);

    proxy.pause(); // the informer loses its watch and cannot reconnect
    await putCm(core, ns, "change", "2");
    await core.deleteNamespacedConfigMap({ name: "remove", namespace: ns });
    await putCm(core, ns, "added", "1");
    await compactEtcd(cp.etcdUrl);
    const eventsBefore = events.length;
    proxy.resume();

    await waitFor("relist after 410", () => inf.stats.relists >= 1, 30_000);
    await waitFor("store converged", () => JSON.stringify(storeView(inf)) === JSON.stringify({ added: "1", change: "2", keep: "1" }), 30_000);
    expect(storeView(inf)).toEqual(await serverView(core, ns));
    const diff = events.slice(eventsBefore).filter((e) => e.name !== "kube-root-ca.crt");
    expect(diff).toEqual(
      expect.arrayContaining([
        { type: "delete", name: "remove" },
        { type: "update", name: "change", value: "2" },
        { type: "add", name: "added", value: "1" },
      ]),
    );
    expect(diff.some((e) => e.name === "keep")).toBe(false); // unchanged objects are not re-emitted
    expect(records.some((r) => String(r["msg"]).includes("410"))).toBe(true);
    expect(inf.stats.lists).toBeGreaterThanOrEqual(2);

    // and the watch keeps working after the relist
    await putCm(core, ns, "later", "1");
    await waitFor("event after relist", () => inf.get(ns, "later"));

    // A second cut-off + compaction: again a prompt relist, not a backed-off failure (a 410 after
    // a healthy watch is not a "repeated" 410).
    proxy.pause();
    // Two writes, so the compacted revision is past the informer's resourceVersion + 1.
    await core.deleteNamespacedConfigMap({ name: "keep", namespace: ns });
    await putCm(core, ns, "added", "2");
    await compactEtcd(cp.etcdUrl);
    proxy.resume();
    await waitFor("second relist", () => inf.stats.relists >= 2, 30_000);
    await waitFor("keep removed", () => !inf.get(ns, "keep") && inf.get(ns, "added")?.data?.["v"] === "2", 30_000);
    expect(storeView(inf)).toEqual(await serverView(core, ns));
    const failures = records.filter((r) => r["msg"] === "list/watch failed; reconnecting after backoff").map((r) => JSON.stringify(r["err"]));
    expect(failures.filter((f) => /too old|expired|410/i.test(f))).toEqual([]);
    await inf.stop();
  });
});
