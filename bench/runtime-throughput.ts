/**
 * Runtime benchmark (not part of `npm test`): starts its own kube-apiserver + etcd and prints figures.
 *
 *   npx tsx bench/runtime-throughput.ts [--objects 10000] [--skip-failover]
 *
 * 1. synthetic: events pushed straight through Controller → WorkQueue → no-op reconcile (the
 *    runtime's own ceiling, no API server involved)
 * 2. initial sync: Informer lists N ConfigMaps (pages of 500) and the controller reconciles all N
 * 3. watch burst: every object is patched (64 in flight); MODIFIED events → queue → reconcile
 * 4. reconnect delay after a kube-apiserver restart on the same etcd (x2)
 * 5. failover time after a killed leader (default timings: lease 15 s, renew 10 s, retry 2 s)
 */
import { parseArgs } from "node:util";
import type { KubeConfig, V1ConfigMap } from "@kubernetes/client-node";
import { pino } from "pino";
import { Action, Controller } from "../src/runtime/controller.js";
import { CoreResources, type EventSource, Informer, type InformerHandlers, type KubeObject } from "../src/runtime/informer.js";
import { kubeRequest } from "../src/runtime/kube-http.js";
import { LeaderElector } from "../src/runtime/leader-election.js";
import { startControlPlane } from "../harness/controlplane.js";
import { mapLimit } from "../harness/fleet.js";
import { waitFor } from "../harness/wait.js";

const { values: args } = parseArgs({ options: { objects: { type: "string", default: "10000" }, "skip-failover": { type: "boolean", default: false } } });
const N = Number(args.objects);
const log = pino({ level: "warn" });
const figures: Record<string, string> = {};
const fig = (k: string, v: string) => {
  figures[k] = v;
  console.log(`${k}: ${v}`);
};

/** The runtime's own reaction times are measured: poll every 5 ms. */
const until = (cond: () => boolean, timeoutMs: number, what: string) => waitFor(what, cond, { timeoutMs, intervalMs: 5 });

/** 1. The runtime alone: synthetic add/update events into the controller. */
async function synthetic(): Promise<void> {
  const handlers = new Set<InformerHandlers<KubeObject>>();
  const src: EventSource<KubeObject> = {
    addHandler: (h) => (handlers.add(h), () => handlers.delete(h)),
    hasSynced: () => true,
    waitForSync: () => Promise.resolve(),
    keys: () => [],
  };
  let done = 0;
  const ctl = new Controller({ name: "synthetic", informer: src, logger: log, concurrency: 4, reconcile: async () => (done++, Action.awaitChange()) });
  ctl.start();
  await ctl.startWorkers();
  const total = 200_000;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const o = { metadata: { namespace: "ns", name: `o${i % N}`, generation: i, resourceVersion: String(i) } };
    for (const h of handlers) h.add?.(o);
    if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
  }
  await ctl.queue.whenIdle();
  const s = (performance.now() - started) / 1000;
  fig(
    "synthetic events through controller+queue",
    `${Math.round(total / s)} events/s (${total} events over ${N} keys, ${done} reconciles after dedup, ${s.toFixed(2)} s)`,
  );
  await ctl.stop(1000);
}

async function createObjects(kc: KubeConfig, ns: string): Promise<void> {
  const started = performance.now();
  await mapLimit(
    Array.from({ length: N }, (_, i) => i),
    64,
    async (i) => {
      const r = await kubeRequest(kc, {
        method: "POST",
        path: `/api/v1/namespaces/${ns}/configmaps`,
        body: { metadata: { name: `cm-${i}` }, data: { v: "0" } },
      });
      if (r.status !== 201) throw new Error(`create cm-${i}: ${r.status}`);
    },
  );
  const s = (performance.now() - started) / 1000;
  fig("setup: API server create rate", `${Math.round(N / s)} creates/s (${N} ConfigMaps, 64 in flight)`);
}

async function main(): Promise<void> {
  await synthetic();
  console.error("starting control plane …");
  const cp = await startControlPlane({ log: () => undefined });
  try {
    const kc = cp.kubeConfig();
    const ns = "bench";
    await kubeRequest(kc, { method: "POST", path: "/api/v1/namespaces", body: { metadata: { name: ns } } });
    await createObjects(kc, ns);

    // 2. initial sync + reconcile of everything
    const informer = new Informer<V1ConfigMap>({ kubeConfig: kc, resource: CoreResources.ConfigMap, namespace: ns, logger: log });
    const reconciled = new Map<string, string>();
    let reconciles = 0;
    const ctl = new Controller<V1ConfigMap>({
      name: "bench",
      informer,
      logger: log,
      concurrency: 4,
      // ConfigMaps have no generation: react to every change.
      predicate: (a, b) => a.metadata?.resourceVersion !== b.metadata?.resourceVersion,
      reconcile: async (key) => {
        reconciles++;
        reconciled.set(key.name, informer.get(key.namespace, key.name)?.data?.["v"] ?? "");
        return Action.awaitChange();
      },
    });
    ctl.start();
    const t0 = performance.now();
    informer.start();
    const workers = ctl.startWorkers();
    await informer.waitForSync();
    const listS = (performance.now() - t0) / 1000;
    await workers;
    await until(() => reconciled.size >= N, 120_000, "initial reconciles");
    const syncS = (performance.now() - t0) / 1000;
    const mem = process.memoryUsage();
    fig("initial list", `${N} objects in ${listS.toFixed(2)} s (${Math.round(N / listS)} objects/s, pages of 500)`);
    fig("initial list → all reconciled", `${syncS.toFixed(2)} s = ${Math.round(N / syncS)} events/s through informer+queue+workers`);
    fig("memory with the cache filled", `rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`);

    // 3. watch burst: patch every object once
    const before = reconciles;
    const t1 = performance.now();
    let writesDoneAt = 0;
    const writes = mapLimit(
      Array.from({ length: N }, (_, i) => i),
      64,
      async (i) => {
        const r = await kubeRequest(kc, {
          method: "PATCH",
          path: `/api/v1/namespaces/${ns}/configmaps/cm-${i}`,
          body: { data: { v: "1" } },
          contentType: "application/merge-patch+json",
        });
        if (r.status !== 200) throw new Error(`patch cm-${i}: ${r.status}`);
      },
    ).then(() => (writesDoneAt = performance.now()));
    await writes;
    await until(() => [...reconciled.values()].every((v) => v === "1"), 120_000, "burst reconciles");
    const burstS = (performance.now() - t1) / 1000;
    const lagMs = performance.now() - writesDoneAt;
    fig(
      "watch burst",
      `${N} updates: writes ${Math.round(N / ((writesDoneAt - t1) / 1000))}/s; all MODIFIED events reconciled ${burstS.toFixed(2)} s after the first write ` +
        `(${Math.round(N / burstS)} events/s sustained; last reconcile ${lagMs.toFixed(0)} ms after the last write returned; ${reconciles - before} reconciles after dedup)`,
    );

    // 4. restart the API server on the same etcd, twice
    for (const downMs of [3_000, 10_000]) {
      const failuresBefore = informer.stats.failures;
      await cp.stopApiServer();
      await new Promise((r) => setTimeout(r, downMs));
      await cp.startApiServer();
      const readyAt = Date.now();
      const name = `after-restart-${downMs}`;
      await kubeRequest(kc, { method: "POST", path: `/api/v1/namespaces/${ns}/configmaps`, body: { metadata: { name }, data: { v: "x" } } });
      const createdAt = Date.now();
      await until(() => reconciled.has(name), 120_000, "event after restart");
      const seenAt = Date.now();
      const watchAt = informer.stats.lastWatchStartAt ?? 0;
      fig(
        `reconnect after apiserver restart (down ${downMs / 1000} s + stop time)`,
        `an object created right after the API server reported ready (create took ${createdAt - readyAt} ms) was reconciled ${seenAt - readyAt} ms after ready; ` +
          `the watch was re-opened ${watchAt - readyAt} ms relative to ready (negative = before /readyz turned 200); ` +
          `${informer.stats.failures - failuresBefore} failed attempts while down; relists so far ${informer.stats.relists}`,
      );
    }
    await ctl.stop(5000);
    await informer.stop();

    // 5. failover after a killed leader
    if (!args["skip-failover"]) {
      const mk = (id: string) => new LeaderElector({ kubeConfig: kc, namespace: ns, name: "bench-leader", identity: id, logger: log });
      const a = mk("a");
      const b = mk("b");
      a.start();
      await until(() => a.isLeader(), 30_000, "a leads");
      b.start();
      await new Promise((r) => setTimeout(r, 4_000));
      const killedAt = Date.now();
      await a.stop({ release: false });
      await until(() => b.isLeader(), 60_000, "b leads");
      fig("failover after a killed leader (lease 15 s, renew 10 s, retry 2 s)", `${Date.now() - killedAt} ms`);
      const c = mk("c");
      c.start();
      await new Promise((r) => setTimeout(r, 3_000));
      const stopAt = Date.now();
      await b.stop();
      await until(() => c.isLeader(), 30_000, "c leads");
      fig("handover after a graceful stop (Lease released)", `${Date.now() - stopAt} ms`);
      await c.stop();
    }
  } finally {
    await cp.stop();
  }
  console.log(JSON.stringify({ objects: N, figures }, null, 2));
}

await main();
