/**
 * Whole processes built from src/runtime (fixtures/app.ts) against the real API server: probes and
 * metrics of a leader and a standby, SIGTERM draining an in-flight reconcile then releasing the
 * Lease (exit 0, standby takes over at once), and SIGKILL failover after the lease expires.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { kubeRequest } from "../../../src/runtime/kube-http.js";
import { freePort } from "../../../harness/controlplane.js";
import { createNamespace, loadKubeConfig } from "./helpers.js";
import { WaitAborted, waitFor } from "../../../harness/wait.js";

interface App {
  name: string;
  child: ChildProcess;
  metricsUrl: string;
  healthUrl: string;
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

const apps: App[] = [];

async function startApp(name: string, ns: string): Promise<App> {
  const [mp, hp] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "fixtures/app.ts")], {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      KUBECONFIG_PATH: inject("kubeconfigPath"),
      WATCH_NAMESPACE: ns,
      IDENTITY: name,
      METRICS_ADDR: `127.0.0.1:${mp}`,
      HEALTH_ADDR: `127.0.0.1:${hp}`,
      // the production default: a smaller budget made a loaded CI machine time the release step out
      SHUTDOWN_TIMEOUT_MS: "30000",
    },
  });
  const lines: Array<Record<string, unknown>> = [];
  let buf = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ msg: line });
      }
    }
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const app = { name, child, metricsUrl: `http://127.0.0.1:${mp}`, healthUrl: `http://127.0.0.1:${hp}`, lines, exited };
  apps.push(app);
  await waitFor(
    `${name} started`,
    () => {
      if (child.exitCode !== null) throw new WaitAborted(`${name} exited: ${stderr}`);
      return lines.some((l) => l["msg"] === "app started");
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  return app;
}

const has = (app: App, msg: string, extra: (l: Record<string, unknown>) => boolean = () => true) => app.lines.some((l) => l["msg"] === msg && extra(l));
const text = async (url: string) => {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
};

describe("controller processes built from the runtime", () => {
  let kc: KubeConfig;
  let ns = "";
  let cleanup = async () => {};
  beforeAll(async () => {
    kc = loadKubeConfig(inject("kubeconfigPath"));
    ({ ns, cleanup } = await createNamespace(kc, "rt-proc"));
  });
  afterAll(async () => {
    for (const a of apps) if (a.child.exitCode === null) a.child.kill("SIGKILL");
    await cleanup();
  });

  it("leader and standby probes; SIGTERM drains, releases the Lease and exits 0; SIGKILL fails over", async () => {
    await kubeRequest(kc, { method: "POST", path: `/api/v1/namespaces/${ns}/configmaps`, body: { metadata: { name: "plain" }, data: { a: "1" } } });
    const a = await startApp("app-a", ns);
    await waitFor("a leads", () => has(a, "became leader"), { timeoutMs: 30_000, intervalMs: 100 });
    await waitFor("a reconciled plain", () => has(a, "reconcile finished", (l) => l["name"] === "plain"), { timeoutMs: 30_000, intervalMs: 100 });
    const b = await startApp("app-b", ns);
    await waitFor("b synced", async () => (await text(`${b.healthUrl}/readyz`)).status === 200, { timeoutMs: 30_000, intervalMs: 100 });

    // probes: both ready and alive; leadership reported, not required
    expect((await text(`${a.healthUrl}/readyz?verbose`)).body).toContain("[+]leader-election ok (leader)");
    expect((await text(`${b.healthUrl}/readyz?verbose`)).body).toBe("[+]ping ok\n[+]informers ok\n[+]leader-election ok (standby)\nreadyz check passed\n");
    expect(await text(`${b.healthUrl}/healthz`)).toEqual({ status: 200, body: "ok" });
    const ma = (await text(`${a.metricsUrl}/metrics`)).body;
    const mb = (await text(`${b.metricsUrl}/metrics`)).body;
    expect(ma).toContain('leader_election_master_status{name="app-leader"} 1');
    expect(mb).toContain('leader_election_master_status{name="app-leader"} 0');
    expect(ma).toMatch(/controller_runtime_reconcile_total\{controller="configmaps",result="success"\} [1-9]/);
    expect(mb).not.toContain("controller_runtime_reconcile_total{"); // standby runs no workers
    expect(has(b, "reconcile started")).toBe(false);

    // an in-flight reconcile when SIGTERM arrives finishes before the Lease is released
    await kubeRequest(kc, { method: "POST", path: `/api/v1/namespaces/${ns}/configmaps`, body: { metadata: { name: "slow" }, data: { sleepMs: "3000" } } });
    await waitFor("slow started on a", () => has(a, "reconcile started", (l) => l["name"] === "slow"), { timeoutMs: 30_000, intervalMs: 50 });
    a.child.kill("SIGTERM");
    const termAt = Date.now();
    expect(await a.exited).toBe(0);
    const idx = (msg: string, f: (l: Record<string, unknown>) => boolean = () => true) => a.lines.findIndex((l) => l["msg"] === msg && f(l));
    const finished = idx("reconcile finished", (l) => l["name"] === "slow" && l["aborted"] === false);
    const released = idx("released the Lease");
    expect(a.lines.filter((l) => l["msg"] === "shutdown step timed out")).toEqual([]);
    expect(finished).toBeGreaterThan(-1);
    expect(released).toBeGreaterThan(finished);
    expect(idx("shutdown complete")).toBeGreaterThan(released);
    await waitFor("b leads after a released", () => has(b, "became leader"), { timeoutMs: 20_000, intervalMs: 50 });
    const handoverMs = Date.now() - termAt;

    // SIGKILL: no release; a third process takes over once the 6 s lease expires
    const c = await startApp("app-c", ns);
    await waitFor("c synced", async () => (await text(`${c.healthUrl}/readyz`)).status === 200, { timeoutMs: 30_000, intervalMs: 100 });
    b.child.kill("SIGKILL");
    const killAt = Date.now();
    await waitFor("c leads after b was killed", () => has(c, "became leader"), { timeoutMs: 30_000, intervalMs: 50 });
    const failoverMs = Date.now() - killAt;
    expect(failoverMs).toBeGreaterThanOrEqual(6_000 - 1_200);
    c.child.kill("SIGTERM");
    expect(await c.exited).toBe(0);
    console.log(
      `[figure] process SIGTERM→standby leads: ${handoverMs} ms (includes a 3 s in-flight reconcile drained); SIGKILL→failover: ${failoverMs} ms (lease 6 s, retry 1 s)`,
    );
  });
});
