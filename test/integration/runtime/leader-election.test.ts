/**
 * Leader election with two electors against the real API server, default timings (15 s lease,
 * 10 s renew deadline, 2 s retry): exactly one leads; a killed leader (no release) is replaced
 * after the lease expires; a gracefully stopped leader hands over within about one retry period.
 * Also pins the client-node Lease time traps (MicroTime precision on write, strings on read).
 */
import { CoordinationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { kubeRequest } from "../../../src/runtime/kube-http.js";
import { LeaderElector, microTime } from "../../../src/runtime/leader-election.js";
import { RuntimeMetrics } from "../../../src/runtime/metrics.js";
import { captureLogger, createNamespace, loadKubeConfig } from "./helpers.js";
import { waitFor } from "../../../harness/wait.js";

describe("LeaderElector on the real API server", () => {
  let kc: KubeConfig;
  let ns = "";
  let cleanup = async () => {};
  beforeAll(async () => {
    kc = loadKubeConfig(inject("kubeconfigPath"));
    ({ ns, cleanup } = await createNamespace(kc, "rt-leader"));
  });
  afterAll(async () => cleanup());

  function elector(identity: string, name: string, events: string[], metrics?: RuntimeMetrics) {
    const { log } = captureLogger("info");
    return new LeaderElector({
      kubeConfig: kc,
      namespace: ns,
      name,
      identity,
      logger: log,
      ...(metrics ? { metrics } : {}),
      onStartedLeading: () => events.push(`${identity}:start`),
      onStoppedLeading: ({ lost }) => events.push(`${identity}:stop${lost ? ":lost" : ""}`),
    });
  }

  it("Lease times: MicroTime is accepted, a millisecond Date is rejected, and reads return strings", async () => {
    expect(microTime(new Date("2026-01-02T03:04:05.678Z"))).toBe("2026-01-02T03:04:05.678000Z");
    const path = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
    const bad = await kubeRequest(kc, {
      method: "POST",
      path,
      body: { metadata: { name: "ms-precision" }, spec: { holderIdentity: "x", renewTime: new Date().toISOString() } },
    });
    expect(bad.status).toBe(400);
    const good = await kubeRequest(kc, {
      method: "POST",
      path,
      body: { metadata: { name: "us-precision" }, spec: { holderIdentity: "x", renewTime: microTime() } },
    });
    expect(good.status).toBe(201);
    const read = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: "us-precision", namespace: ns });
    expect(typeof read.spec?.renewTime).toBe("string"); // typed V1MicroTime, but a string at run time
    expect(String(read.spec?.renewTime)).toMatch(/\.\d{6}Z$/);
  });

  it("one of two leads; a killed leader is replaced after lease duration + retry; a graceful stop hands over at once", async () => {
    const events: string[] = [];
    const metrics = new RuntimeMetrics({ processMetrics: false });
    const a = elector("a", "failover", events, metrics);
    const b = elector("b", "failover", events);
    a.start();
    await waitFor("a leads", () => a.isLeader(), 20_000);
    b.start();
    // b stays standby while a renews
    await new Promise((r) => setTimeout(r, 5_000));
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(b.observedLeader()).toBe("a");
    expect(await metrics.registry.getSingleMetricAsString("leader_election_master_status")).toContain('leader_election_master_status{name="failover"} 1');

    // kill a: stop renewing without releasing (as a crashed process would)
    let bothLeading = false;
    const monitor = setInterval(() => (bothLeading ||= a.isLeader() && b.isLeader()), 20);
    const killedAt = Date.now();
    await a.stop({ release: false });
    await waitFor("b leads after a was killed", () => b.isLeader(), { timeoutMs: 30_000, intervalMs: 20 });
    const failoverMs = Date.now() - killedAt;
    // Not before the lease could have expired, and within lease duration + retry (+ slack for a busy machine).
    expect(failoverMs).toBeGreaterThanOrEqual(15_000 - 2_400);
    expect(failoverMs).toBeLessThanOrEqual(15_000 + 2_400 + 3_000);

    // graceful stop of b: a new elector c takes over within about one retry period
    const c = elector("c", "failover", events);
    c.start();
    await new Promise((r) => setTimeout(r, 3_000));
    expect(c.isLeader()).toBe(false);
    const stoppedAt = Date.now();
    await b.stop();
    await waitFor("c leads after b released", () => c.isLeader(), { timeoutMs: 20_000, intervalMs: 20 });
    const handoverMs = Date.now() - stoppedAt;
    expect(handoverMs).toBeLessThanOrEqual(2_400 + 2_000);
    clearInterval(monitor);
    expect(bothLeading).toBe(false);
    await c.stop();

    const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: "failover", namespace: ns });
    expect(lease.spec?.holderIdentity ?? "").toBe(""); // c released it
    expect(lease.spec?.leaseTransitions).toBe(2); // a → b → c
    expect(events).toEqual(["a:start", "a:stop", "b:start", "b:stop", "c:start", "c:stop"]);
    expect(await metrics.registry.getSingleMetricAsString("leader_election_master_status")).toContain('leader_election_master_status{name="failover"} 0');
    console.log(`[figure] leader failover after a killed leader: ${failoverMs} ms (lease 15 s, retry 2 s); graceful handover: ${handoverMs} ms`);
  });

  it("a leader that cannot renew steps down after the renew deadline", async () => {
    const events: string[] = [];
    const { log } = captureLogger("info");
    const le = new LeaderElector({
      kubeConfig: kc,
      namespace: ns,
      name: "stepdown",
      identity: "solo",
      leaseDurationMs: 3_000,
      renewDeadlineMs: 2_000,
      retryPeriodMs: 500,
      logger: log,
      onStartedLeading: () => events.push("start"),
      onStoppedLeading: ({ lost }) => events.push(lost ? "lost" : "stopped"),
    });
    le.start();
    await waitFor("solo leads", () => le.isLeader(), 10_000);
    // Someone else takes the Lease over (e.g. an operator edit): our renewals now fail with 409/holder mismatch.
    const api = kc.makeApiClient(CoordinationV1Api);
    const lease = await api.readNamespacedLease({ name: "stepdown", namespace: ns });
    lease.spec!.holderIdentity = "intruder";
    lease.spec!.renewTime = microTime() as unknown as Date;
    await api.replaceNamespacedLease({ name: "stepdown", namespace: ns, body: lease });
    await waitFor("solo steps down", () => !le.isLeader(), 10_000);
    expect(events).toEqual(["start", "lost"]);
    await le.stop();
  });
});
