/** The HTTP endpoints on loopback: /metrics, /healthz, /readyz content and status codes. */
import { afterEach, describe, expect, it } from "vitest";
import { EventLoopMonitor, type HttpServers, informersSynced, leaderState, parseBindAddress, startHttpServers } from "../../../src/runtime/health.js";
import { RuntimeMetrics } from "../../../src/runtime/metrics.js";

async function get(url: string): Promise<{ status: number; body: string; type: string | null }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text(), type: r.headers.get("content-type") };
}

describe("http endpoints", () => {
  let servers: HttpServers | undefined;
  afterEach(async () => {
    await servers?.close();
    servers = undefined;
  });

  it("parses bind addresses", () => {
    expect(parseBindAddress(":8080")).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(parseBindAddress("127.0.0.1:0")).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseBindAddress("[::1]:9090")).toEqual({ host: "::1", port: 9090 });
    expect(parseBindAddress("0")).toBeUndefined();
    expect(() => parseBindAddress("8080")).toThrow(/host:port/);
  });

  it("serves the runtime metrics (and domain metrics registered on the same registry) on /metrics", async () => {
    const metrics = new RuntimeMetrics();
    const q = metrics.queue("things");
    q.added();
    q.depth(3);
    metrics.setMaxConcurrent("things", 4);
    metrics.reconcileDone("things", "success", 0.2);
    metrics.leaderStatus("lease", true);
    const { Counter } = await import("prom-client");
    new Counter({ name: "ecs_api_requests_total", help: "x", labelNames: ["action"], registers: [metrics.registry] }).inc({ action: "DescribeInstances" });
    servers = await startHttpServers({ metricsBindAddress: "127.0.0.1:0", healthProbeBindAddress: "127.0.0.1:0", registry: metrics.registry });
    const r = await get(`${servers.metricsUrl}/metrics`);
    expect(r.status).toBe(200);
    expect(r.type).toContain("text/plain");
    for (const line of [
      'controller_runtime_reconcile_total{controller="things",result="success"} 1',
      'controller_runtime_reconcile_total{controller="things",result="error"} 0',
      'controller_runtime_reconcile_errors_total{controller="things"} 0',
      'controller_runtime_reconcile_time_seconds_count{controller="things"} 1',
      'controller_runtime_active_workers{controller="things"} 0',
      'controller_runtime_max_concurrent_reconciles{controller="things"} 4',
      'workqueue_depth{name="things",controller="things"} 3',
      'workqueue_adds_total{name="things",controller="things"} 1',
      'workqueue_retries_total{name="things",controller="things"} 0',
      "# TYPE workqueue_queue_duration_seconds histogram",
      "# TYPE workqueue_work_duration_seconds histogram",
      'leader_election_master_status{name="lease"} 1',
      'ecs_api_requests_total{action="DescribeInstances"} 1',
      "process_cpu_seconds_total",
    ]) {
      expect(r.body).toContain(line);
    }
    // probes are on the other port only
    expect((await get(`${servers.metricsUrl}/healthz`)).status).toBe(404);
    expect((await get(`${servers.healthUrl}/metrics`)).status).toBe(404);
  });

  it("/readyz fails until informers synced, and reports leader or standby without failing", async () => {
    let synced = false;
    let leading = false;
    const inf = { hasSynced: () => synced, describe: () => "ecsinstanceattributes" };
    servers = await startHttpServers({
      healthProbeBindAddress: "127.0.0.1:0",
      readiness: { informers: informersSynced(inf), "leader-election": leaderState({ isLeader: () => leading }) },
    });
    let r = await get(`${servers.healthUrl}/readyz`);
    expect(r.status).toBe(500);
    expect(r.body).toBe("[+]ping ok\n[-]informers failed: not synced: ecsinstanceattributes\n[+]leader-election ok (standby)\nreadyz check failed\n");
    synced = true;
    r = await get(`${servers.healthUrl}/readyz`);
    expect(r).toMatchObject({ status: 200, body: "ok" });
    r = await get(`${servers.healthUrl}/readyz?verbose`);
    expect(r.body).toBe("[+]ping ok\n[+]informers ok\n[+]leader-election ok (standby)\nreadyz check passed\n");
    leading = true;
    r = await get(`${servers.healthUrl}/readyz?verbose`);
    expect(r.body).toContain("[+]leader-election ok (leader)");
    expect((await get(`${servers.healthUrl}/nope`)).status).toBe(404);
  });

  it("/healthz is ok while the event loop runs and fails after it was blocked", async () => {
    const loop = new EventLoopMonitor({ intervalMs: 50, stallMs: 1000, windowMs: 10_000 });
    try {
      servers = await startHttpServers({ healthProbeBindAddress: "127.0.0.1:0", liveness: { "event-loop": loop.check } });
      await new Promise((r) => setTimeout(r, 120));
      expect(await get(`${servers.healthUrl}/healthz`)).toMatchObject({ status: 200, body: "ok" });
      expect((await get(`${servers.healthUrl}/healthz?verbose`)).body).toBe("[+]ping ok\n[+]event-loop ok\nhealthz check passed\n");
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        // block the event loop
      }
      await new Promise((r) => setTimeout(r, 120));
      const r = await get(`${servers.healthUrl}/healthz`);
      expect(r.status).toBe(500);
      expect(r.body).toMatch(/^\[\+\]ping ok\n\[-\]event-loop failed: event loop blocked for \d+ ms \(limit 1000 ms\)\nhealthz check failed\n$/);
    } finally {
      loop.stop();
    }
  });

  it("serves everything on one port when both addresses are equal", async () => {
    const metrics = new RuntimeMetrics({ processMetrics: false });
    const { freePort } = await import("../../../harness/controlplane.js");
    const port = await freePort();
    servers = await startHttpServers({ metricsBindAddress: `127.0.0.1:${port}`, healthProbeBindAddress: `127.0.0.1:${port}`, registry: metrics.registry });
    expect(servers.metricsUrl).toBe(servers.healthUrl);
    expect((await get(`${servers.healthUrl}/metrics`)).status).toBe(200);
    expect((await get(`${servers.healthUrl}/healthz`)).status).toBe(200);
  });
});
