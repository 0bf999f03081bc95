/**
 * One region's outage never delays another region's changes (issue 13).
 *
 * Real kube-apiserver + etcd, the ECS emulator over HTTP and the controller as a child process.
 * Region A's endpoint (`--ecs-endpoint-for-region`) is a closed port, so every call to it is
 * refused; region B goes to the emulator (`--ecs-endpoint`). With one worker and several failing A
 * resources, a worker held in A's in-call retries would make B's change wait; instead A's calls
 * fail fast (circuit breaker, no in-call retry of connection failures) and A's keys wait in the
 * queue's backoff, so B's Modify goes out at once — the emulator's call log shows when.
 */
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type EmulatorHandle, startEmulatorInProcess } from "../../../harness/emulator.js";
import { cond, fetchText, Fleet, type Resource } from "../../../harness/fleet.js";
import { waitFor } from "../../../harness/wait.js";

const REGION_A = "cn-outage";
const REGION_B = "cn-hangzhou";
const A_COUNT = 4;
const ns = `outage-${Date.now().toString(36)}`;
const aName = (i: number) => `a-${i}`;

let fleet: Fleet;
let emu: EmulatorHandle;
let ctl: RunningController;
let deadEndpoint: string;

/** A loopback port nothing listens on: bound to get a free number, then closed (connections are refused). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const failingWithNetworkError = (o: Resource) =>
  cond(o, "Synced")?.status === "False" && cond(o, "Synced")?.reason === "TransientError" && o.status?.error?.code === "NetworkError";

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
  emu = await startEmulatorInProcess({ seed: { instances: [{ instanceId: "i-regb", regionId: REGION_B, instanceName: "b-0" }] } });
  deadEndpoint = `http://127.0.0.1:${await closedPort()}`;
  ctl = await startController({
    kubeconfig: inject("kubeconfigPath"),
    ecsEndpoint: emu.url,
    namespace: ns,
    // One worker: any reconcile that holds it (an in-call retry of A) would hold B's change too.
    args: [`--ecs-endpoint-for-region=${REGION_A}=${deadEndpoint}`, "--concurrency=1", "--resync-period=60s"],
  });
  await ctl.waitForLog(/workers running/);
});

afterAll(async () => {
  await ctl?.stop();
  await emu?.stop();
  await fleet?.deleteNamespace();
});

describe("region outage", () => {
  it("B's change is sent while A's endpoint refuses connections, and A keeps reporting the failure", async () => {
    await fleet.create("b", { regionId: REGION_B, instanceId: "i-regb", instanceName: "b-1" });
    await waitFor("b to converge", async () => cond(await fleet.get("b"), "Ready")?.status === "True", {
      timeoutMs: 60_000,
      diag: () => ctl.logs().slice(-2000),
    });

    for (let i = 0; i < A_COUNT; i++) await fleet.create(aName(i), { regionId: REGION_A, instanceId: `i-rega${i}`, instanceName: `a-${i}` });
    await waitFor(
      "every A resource to report the refused connection and A's circuit to open",
      async () => {
        const as = await Promise.all(Array.from({ length: A_COUNT }, (_, i) => fleet.get(aName(i))));
        const metrics = (await fetchText(ctl.metricsUrl))?.body ?? "";
        return as.every(failingWithNetworkError) && metrics.includes(`ecs_endpoint_circuit_state{endpoint="${deadEndpoint}"} 2`);
      },
      { timeoutMs: 60_000, diag: () => ctl.logs().slice(-2000) },
    );

    const patchedAt = Date.now();
    await fleet.patchSpec("b", { instanceName: "b-2" });
    const modify = await waitFor(
      "B's Modify with the new name in the call log",
      async () =>
        (await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).find((c) => c.params["InstanceId"] === "i-regb" && c.params["InstanceName"] === "b-2"),
      { timeoutMs: 30_000, diag: () => ctl.logs().slice(-2000) },
    );
    const sentAt = Date.parse(modify.time);
    const delayMs = sentAt - patchedAt;
    process.stderr.write(`[region-outage] B's Modify reached the emulator ${delayMs} ms after the PATCH (A's endpoint ${deadEndpoint} refusing)\n`);
    expect(sentAt).toBeGreaterThanOrEqual(patchedAt - 1_000); // same host clock; ISO time has ms precision

    // A is still failing: every A resource still reports the refused connection after B's write.
    const as = await Promise.all(Array.from({ length: A_COUNT }, (_, i) => fleet.get(aName(i))));
    expect(as.filter((o) => !failingWithNetworkError(o)).map((o) => o.metadata.name)).toEqual([]);

    const logs = ctl.logRecords();
    // B did not wait for A's backoff: when B's Modify went out, at least one A key was still waiting
    // for its next attempt (its last failure + the backoff it was given lies after B's Modify).
    const aRetryDue = logs
      .filter((r) => r["msg"] === "reconcile failed; retrying with backoff" && String(r["name"]).startsWith("a-") && Date.parse(String(r["time"])) <= sentAt)
      .map((r) => Date.parse(String(r["time"])) + Number(r["retryInMs"]));
    expect(Math.max(...aRetryDue)).toBeGreaterThan(sentAt);
    // How: A's calls failed fast once its circuit opened, and a refused connection was never retried
    // inside a call (no worker slept on region A).
    expect(logs.some((r) => r["msg"] === "ECS endpoint unreachable; calls to it fail fast until a probe gets through" && r["endpoint"] === deadEndpoint)).toBe(
      true,
    );
    expect(logs.filter((r) => r["msg"] === "ECS call failed, retrying" && r["regionId"] === REGION_A)).toEqual([]);
  });
});
