/**
 * The controller runner on the real API server with a tiny test CRD (status subresource on):
 * status-only writes do not enqueue, spec and annotation changes do; a Secret watch maps to the
 * primary objects that reference it; Events are accepted by events.k8s.io/v1 and aggregated.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Action, Controller } from "../../../src/runtime/controller.js";
import { EventRecorder } from "../../../src/runtime/events.js";
import { CoreResources, Informer, type KubeObject, type ResourceType } from "../../../src/runtime/informer.js";
import { kubeRequest } from "../../../src/runtime/kube-http.js";
import { RuntimeMetrics } from "../../../src/runtime/metrics.js";
import { captureLogger, createNamespace, loadKubeConfig } from "./helpers.js";
import { waitFor } from "../../../harness/wait.js";

const GROUP = "runtime-test.example.com";
const WIDGETS: ResourceType = { group: GROUP, version: "v1", plural: "widgets", kind: "Widget" };

interface Widget extends KubeObject {
  spec?: { size?: number; secretName?: string };
  status?: { seen?: number };
}

async function ensureCrd(kc: KubeConfig): Promise<void> {
  const crd = {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `widgets.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: { type: "object", properties: { size: { type: "integer" }, secretName: { type: "string" } } },
                status: { type: "object", properties: { seen: { type: "integer" } } },
              },
            },
          },
        },
      ],
    },
  };
  const r = await kubeRequest(kc, { method: "POST", path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: crd });
  if (r.status !== 201 && r.status !== 409) throw new Error(`CRD create: ${r.status} ${JSON.stringify(r.body)}`);
  await waitFor("widgets served", async () => (await kubeRequest(kc, { method: "GET", path: `/apis/${GROUP}/v1/widgets` })).status === 200, {
    timeoutMs: 60_000,
    intervalMs: 200,
  });
}

describe("Controller + Informer on a real CRD", () => {
  let kc: KubeConfig;
  let ns = "";
  let cleanup = async () => {};
  beforeAll(async () => {
    kc = loadKubeConfig(inject("kubeconfigPath"));
    await ensureCrd(kc);
    ({ ns, cleanup } = await createNamespace(kc, "rt-ctl"));
  });
  afterAll(async () => cleanup());

  const base = () => `/apis/${GROUP}/v1/namespaces/${ns}/widgets`;
  const get = async (name: string) => (await kubeRequest(kc, { method: "GET", path: `${base()}/${name}` })).body as Widget;
  const patch = async (name: string, body: unknown, sub = "") => {
    const r = await kubeRequest(kc, { method: "PATCH", path: `${base()}/${name}${sub}`, body, contentType: "application/merge-patch+json" });
    if (r.status !== 200) throw new Error(`patch ${name}${sub}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as Widget;
  };

  it("status-only updates do not enqueue; spec and annotation updates do; a Secret change maps to its widget", async () => {
    const { log } = captureLogger("info");
    const widgets = new Informer<Widget>({ kubeConfig: kc, resource: WIDGETS, namespace: ns, logger: log });
    const secrets = new Informer({ kubeConfig: kc, resource: CoreResources.Secret, namespace: ns, logger: log });
    const reconciled: string[] = [];
    const metrics = new RuntimeMetrics({ processMetrics: false });
    const ctl = new Controller<Widget>({
      name: "widgets",
      informer: widgets,
      watches: [
        {
          informer: secrets,
          map: (s) =>
            widgets
              .list()
              .filter((w) => w.spec?.secretName === s.metadata?.name)
              .map((w) => ({ namespace: ns, name: w.metadata!.name! })),
        },
      ],
      reconcile: async (key, ctx) => {
        const w = widgets.get(key.namespace, key.name);
        reconciled.push(`${key.name}@${w?.metadata?.generation ?? "gone"}`);
        // Write status like a real controller does: this must not wake us again.
        if (w) await patch(key.name, { status: { seen: reconciled.length } }, "/status");
        ctx.log.debug("status written");
        return Action.awaitChange();
      },
      logger: log,
      metrics,
      concurrency: 2,
    });
    ctl.start();
    widgets.start();
    secrets.start();
    await ctl.startWorkers();

    const create = await kubeRequest(kc, {
      method: "POST",
      path: base(),
      body: { apiVersion: `${GROUP}/v1`, kind: "Widget", metadata: { name: "w1" }, spec: { size: 1, secretName: "w1-secret" } },
    });
    expect(create.status).toBe(201);
    await waitFor("first reconcile", () => reconciled.length === 1 && widgets.get(ns, "w1")?.status?.seen === 1);
    expect(reconciled).toEqual(["w1@1"]);

    // a status-only write by someone else: rv changes, generation does not
    const before = widgets.get(ns, "w1")!.metadata!.resourceVersion;
    await patch("w1", { status: { seen: 99 } }, "/status");
    await waitFor(
      "status update seen by the informer",
      () => widgets.get(ns, "w1")?.metadata?.resourceVersion !== before && widgets.get(ns, "w1")?.status?.seen === 99,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(reconciled).toEqual(["w1@1"]);
    expect((await get("w1")).metadata?.generation).toBe(1);

    // a spec change bumps generation and enqueues
    await patch("w1", { spec: { size: 2 } });
    await waitFor("reconcile after spec change", () => reconciled.length === 2);
    expect(reconciled[1]).toBe("w1@2");

    // an annotation change enqueues (generation unchanged)
    await patch("w1", { metadata: { annotations: { "example.com/paused": "true" } } });
    await waitFor("reconcile after annotation change", () => reconciled.length === 3);
    expect(reconciled[2]).toBe("w1@2");

    // the referenced Secret appears → the widget is reconciled
    const sec = await kubeRequest(kc, {
      method: "POST",
      path: `/api/v1/namespaces/${ns}/secrets`,
      body: { metadata: { name: "w1-secret" }, stringData: { k: "v" } },
    });
    expect(sec.status).toBe(201);
    await waitFor("reconcile after secret create", () => reconciled.length === 4);

    await new Promise((r) => setTimeout(r, 500));
    expect(reconciled).toHaveLength(4); // and our own status writes never looped
    const text = await metrics.registry.metrics();
    expect(text).toContain('controller_runtime_reconcile_total{controller="widgets",result="success"} 4');
    await ctl.stop(5_000);
    await Promise.all([widgets.stop(), secrets.stop()]);
  });

  it("records Events through events.k8s.io/v1 and aggregates repeats into a series", async () => {
    await kubeRequest(kc, { method: "POST", path: base(), body: { apiVersion: `${GROUP}/v1`, kind: "Widget", metadata: { name: "ev" }, spec: { size: 1 } } });
    const w = { apiVersion: `${GROUP}/v1`, kind: "Widget", ...(await get("ev")) };
    const { log, records } = captureLogger("debug");
    const rec = new EventRecorder({
      kubeConfig: kc,
      reportingController: "runtime-test.example.com/widgets",
      reportingInstance: "test-pod",
      logger: log,
      seriesFlushMs: 200,
    });
    for (let i = 0; i < 10; i++) rec.record(w, "Warning", "SyncFailed", "upstream said Throttling.User");
    rec.record(w, "Normal", "Synced", "all good");
    await rec.flush();
    await new Promise((r) => setTimeout(r, 300));
    await rec.close();
    expect(records.filter((r) => Number(r["level"]) >= 40)).toEqual([]);
    const list = await kubeRequest(kc, { method: "GET", path: `/apis/events.k8s.io/v1/namespaces/${ns}/events` });
    const items = (list.body as { items: Array<Record<string, any>> }).items.filter((e) => e["regarding"]?.name === "ev"); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(items).toHaveLength(2);
    const failed = items.find((e) => e["reason"] === "SyncFailed")!;
    expect(failed["series"]?.count).toBe(10);
    expect(failed["regarding"]).toMatchObject({ kind: "Widget", name: "ev", namespace: ns, uid: w.metadata?.uid });
    expect(failed["reportingController"]).toBe("runtime-test.example.com/widgets");
    expect(items.find((e) => e["reason"] === "Synced")!["series"]).toBeUndefined();
    // the core/v1 view of the same Event carries the series as well
    const core = await kubeRequest(kc, { method: "GET", path: `/api/v1/namespaces/${ns}/events` });
    const coreEv = (core.body as { items: Array<{ reason?: string; series?: { count?: number } }> }).items.find((e) => e.reason === "SyncFailed");
    expect(coreEv?.series?.count).toBe(10);
  });
});
