import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Action, Controller, type ReconcileContext, TerminalError } from "../../../src/runtime/controller.js";
import type { EventSource, InformerHandlers, KubeObject } from "../../../src/runtime/informer.js";
import { RuntimeMetrics } from "../../../src/runtime/metrics.js";

/** An in-memory event source standing in for an informer (the informer itself is tested on a real API server). */
class FakeSource<T extends KubeObject> implements EventSource<T> {
  handlers = new Set<InformerHandlers<T>>();
  synced = false;
  private waiters: Array<() => void> = [];
  objects = new Map<string, T>();
  addHandler(h: InformerHandlers<T>) {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }
  hasSynced() {
    return this.synced;
  }
  waitForSync() {
    return this.synced ? Promise.resolve() : new Promise<void>((r) => this.waiters.push(r));
  }
  keys() {
    return [...this.objects.keys()];
  }
  sync() {
    this.synced = true;
    for (const w of this.waiters.splice(0)) w();
  }
  add(o: T) {
    this.objects.set(`${o.metadata!.namespace}/${o.metadata!.name}`, o);
    for (const h of this.handlers) h.add?.(o);
  }
  update(old: T, cur: T) {
    this.objects.set(`${cur.metadata!.namespace}/${cur.metadata!.name}`, cur);
    for (const h of this.handlers) h.update?.(old, cur);
  }
  remove(o: T) {
    this.objects.delete(`${o.metadata!.namespace}/${o.metadata!.name}`);
    for (const h of this.handlers) h.delete?.(o);
  }
}

const obj = (name: string, generation = 1, annotations: Record<string, string> = {}, rv = "1"): KubeObject => ({
  metadata: { namespace: "ns", name, generation, annotations, resourceVersion: rv },
});

function setup(
  opts: {
    reconcile?: (key: { namespace?: string; name: string }, ctx: ReconcileContext) => Promise<Action>;
    errorPolicy?: ConstructorParameters<typeof Controller>[0]["errorPolicy"];
  } = {},
) {
  const src = new FakeSource<KubeObject>();
  const secrets = new FakeSource<KubeObject>();
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: "debug" },
    new Writable({ write: (c: Buffer, _e, cb) => (lines.push(JSON.parse(c.toString()) as Record<string, unknown>), cb()) }),
  );
  const calls: Array<{ key: string; ctx: ReconcileContext }> = [];
  const metrics = new RuntimeMetrics({ processMetrics: false });
  const ctl = new Controller({
    name: "things",
    informer: src,
    watches: [{ informer: secrets, map: (s) => (s.metadata?.annotations?.["owner"] ? [{ namespace: "ns", name: s.metadata.annotations["owner"] }] : []) }],
    reconcile: async (key, ctx) => {
      calls.push({ key: `${key.namespace}/${key.name}`, ctx });
      return opts.reconcile ? opts.reconcile(key, ctx) : Action.awaitChange();
    },
    ...(opts.errorPolicy ? { errorPolicy: opts.errorPolicy } : {}),
    logger,
    metrics,
    concurrency: 2,
    random: () => 0,
  });
  return { src, secrets, ctl, calls, lines, metrics };
}

const tick = () => vi.advanceTimersByTimeAsync(0);

describe("Controller", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("queues events before workers start and reconciles only after startWorkers and sync", async () => {
    const t = setup();
    t.src.add(obj("a"));
    t.ctl.start();
    t.src.add(obj("b"));
    expect(t.ctl.queue.depth).toBe(2);
    const started = t.ctl.startWorkers();
    await tick();
    expect(t.calls).toHaveLength(0); // not synced yet
    expect(t.ctl.hasSynced()).toBe(false);
    expect(t.ctl.describe()).toBe("controller things (waiting for informer 0, informer 1)");
    t.src.sync();
    t.secrets.sync();
    expect(t.ctl.hasSynced()).toBe(true);
    expect(t.ctl.describe()).toBe("controller things");
    await started;
    await tick();
    expect(t.calls.map((c) => c.key).sort()).toEqual(["ns/a", "ns/b"]);
  });

  it("drops status-only updates and enqueues spec, annotation and deletion changes", async () => {
    const t = setup();
    t.ctl.start();
    t.src.sync();
    t.secrets.sync();
    await t.ctl.startWorkers();
    t.src.add(obj("a"));
    await tick();
    expect(t.calls).toHaveLength(1);

    t.src.update(obj("a", 1, {}, "1"), obj("a", 1, {}, "2")); // status write: rv changes, generation does not
    t.src.update(obj("a", 1, {}, "2"), obj("a", 1, { "kubectl.kubernetes.io/last-applied-configuration": "{}" }, "3"));
    await tick();
    expect(t.calls).toHaveLength(1);

    t.src.update(obj("a", 1, {}, "3"), obj("a", 2, {}, "4")); // spec change
    await tick();
    expect(t.calls).toHaveLength(2);
    t.src.update(obj("a", 2, {}, "4"), obj("a", 2, { "ecs.alicloud.dev/paused": "true" }, "5"));
    await tick();
    expect(t.calls).toHaveLength(3);
    const deleting = obj("a", 2, { "ecs.alicloud.dev/paused": "true" }, "6");
    deleting.metadata!.deletionTimestamp = "2026-01-01T00:00:00Z";
    t.src.update(obj("a", 2, { "ecs.alicloud.dev/paused": "true" }, "5"), deleting);
    await tick();
    expect(t.calls).toHaveLength(4);
    t.src.remove(deleting);
    await tick();
    expect(t.calls).toHaveLength(5);
  });

  it("maps secondary objects to primary keys", async () => {
    const t = setup();
    t.ctl.start();
    t.src.sync();
    t.secrets.sync();
    await t.ctl.startWorkers();
    t.secrets.add({ metadata: { namespace: "ns", name: "pw", annotations: { owner: "web" } } });
    t.secrets.add({ metadata: { namespace: "ns", name: "unrelated" } });
    await tick();
    expect(t.calls.map((c) => c.key)).toEqual(["ns/web"]);
  });

  it("requeueAfter schedules the next reconcile; awaitChange does not", async () => {
    let n = 0;
    const t = setup({ reconcile: async () => (++n < 3 ? Action.requeueAfter(60_000) : Action.awaitChange()) });
    t.ctl.start();
    t.src.sync();
    t.secrets.sync();
    await t.ctl.startWorkers();
    t.src.add(obj("a"));
    await tick();
    expect(t.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(t.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(t.calls).toHaveLength(3);
  });

  it("errors back off per key (1 s, 2 s, 4 s), success resets, TerminalError waits for a change", async () => {
    const script: Array<"fail" | "ok" | "terminal"> = ["fail", "fail", "fail", "ok", "fail", "terminal"];
    const t = setup({
      reconcile: async () => {
        const step = script.shift();
        if (step === "fail") throw new Error("transient");
        if (step === "terminal") throw new TerminalError("bad spec");
        return Action.awaitChange();
      },
    });
    t.ctl.start();
    t.src.sync();
    t.secrets.sync();
    await t.ctl.startWorkers();
    t.src.add(obj("a"));
    await tick();
    const at = (ms: number) => vi.advanceTimersByTimeAsync(ms);
    expect(t.calls).toHaveLength(1);
    await at(1000);
    expect(t.calls).toHaveLength(2);
    await at(1999);
    expect(t.calls).toHaveLength(2);
    await at(1);
    expect(t.calls).toHaveLength(3);
    await at(4000);
    expect(t.calls).toHaveLength(4); // ok: failures reset
    expect(t.calls.map((c) => c.ctx.failures)).toEqual([0, 1, 2, 3]);
    t.src.update(obj("a", 1), obj("a", 2, {}, "2"));
    await tick();
    expect(t.calls).toHaveLength(5); // fails again: backoff starts at 1 s
    await at(1000);
    expect(t.calls).toHaveLength(6); // terminal
    await at(600_000);
    expect(t.calls).toHaveLength(6);
    const text = await t.metrics.registry.metrics();
    expect(text).toContain('controller_runtime_reconcile_total{controller="things",result="error"} 5');
    expect(text).toContain('controller_runtime_reconcile_total{controller="things",result="success"} 1');
    expect(text).toContain('controller_runtime_reconcile_errors_total{controller="things"} 5');
    expect(text).toContain('workqueue_retries_total{name="things",controller="things"} 4');
  });

  it("a custom error policy picks its own delay from the attempt number", async () => {
    const attempts: number[] = [];
    const t = setup({
      reconcile: async () => {
        throw new Error("throttled");
      },
      errorPolicy: (_e, _k, attempt) => {
        attempts.push(attempt);
        return Action.requeueAfter(attempt * 10_000);
      },
    });
    t.ctl.start();
    t.src.sync();
    t.secrets.sync();
    await t.ctl.startWorkers();
    t.src.add(obj("a"));
    await tick();
    await vi.advanceTimersByTimeAsync(10_000);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(attempts).toEqual([1, 2, 3]);
  });

  it("gives each reconcile a child logger with namespace, name, reconcileID; aborts in-flight work after the shutdown timeout", async () => {
    let sawAbort = false;
    const t = setup({
      reconcile: (_k, ctx) =>
        new Promise<Action>((resolve) => {
          ctx.log.info("working");
          ctx.signal.addEventListener("abort", () => {
            sawAbort = true;
            resolve(Action.awaitChange());
          });
        }),
    });
    t.ctl.start();
    t.src.sync();
    t.secrets.sync();
    await t.ctl.startWorkers();
    t.src.add(obj("slow"));
    await tick();
    const line = t.lines.find((l) => l["msg"] === "working");
    expect(line).toMatchObject({ controller: "things", namespace: "ns", name: "slow" });
    expect(String(line?.["reconcileID"])).toMatch(/^[0-9a-f-]{36}$/);
    const stopping = t.ctl.stop(5_000);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(sawAbort).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(stopping).resolves.toEqual(["ns/slow"]);
    expect(sawAbort).toBe(true);
    // after stop, events are ignored
    t.src.add(obj("late"));
    await tick();
    expect(t.calls.map((c) => c.key)).toEqual(["ns/slow"]);
  });
});
