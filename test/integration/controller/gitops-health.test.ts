/**
 * GitOps health (issue 18): what kstatus (sigs.k8s.io/cli-utils, as Flux and kubectl-based deploy
 * tools run it) and Argo CD (the chart's health script under gopher-lua, as Argo CD runs it) say
 * about real objects the controller wrote.
 *
 * Real kube-apiserver + etcd, the ECS emulator over HTTP, the controller as a child process. Each
 * state is reached through the controller (no hand-written status), then the Go probe
 * (test/tools/gitops-health/) reads the objects from the API server and reports both verdicts.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type EmulatorHandle, startEmulatorInProcess } from "../../../harness/emulator.js";
import { cond, Fleet, REGION } from "../../../harness/fleet.js";
import { gitopsHealth, type HealthReport } from "../../tools/gitops-health.js";

const ns = `gitops-${Date.now().toString(36)}`;
let fleet: Fleet;
let emu: EmulatorHandle;
let ctl: RunningController;

const diag = async () => `controller log tail:\n${ctl.logs().slice(-1500)}`;

async function health(...names: string[]): Promise<Record<string, HealthReport>> {
  const reports = await gitopsHealth(inject("kubeconfigPath"), ns, names);
  for (const r of reports) {
    process.stderr.write(`[gitops-health] ${r.name}: kstatus ${r.kstatus.status} (${r.kstatus.message}); Argo CD ${r.argocd.status} (${r.argocd.message})\n`);
  }
  return Object.fromEntries(reports.map((r) => [r.name, r]));
}

const verdicts = (r: HealthReport) => ({ kstatus: r.kstatus.status, argocd: r.argocd.status });

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
  const instance = (id: string, extra: Record<string, unknown> = {}) => ({ instanceId: id, regionId: REGION, instanceName: `${id}-seed`, ...extra });
  emu = await startEmulatorInProcess({
    seed: {
      instances: [
        instance("i-ghsync"),
        instance("i-ghwait", { networkInterfaceQueueNumber: 2 }),
        instance("i-ghterm"),
        instance("i-ghwin", { osType: "windows" }),
        instance("i-ghsecret"),
        instance("i-ghpaused"),
        instance("i-ghrestart", { hostName: "seed-host" }),
      ],
    },
  });
  ctl = await startController({
    kubeconfig: inject("kubeconfigPath"),
    ecsEndpoint: emu.url,
    namespace: ns,
    args: ["--resync-period=30s", "--state-poll-interval=2s"],
  });
  await ctl.waitForLog(/workers running/);
});

afterAll(async () => {
  await ctl?.stop();
  await emu?.stop();
  await fleet?.deleteNamespace();
});

describe("kstatus and Argo CD health of real objects", () => {
  it("in sync → Current / Healthy; waiting for a state → InProgress / Progressing; terminal, invalid, missing reference → Failed / Degraded; paused → InProgress / Suspended", async () => {
    await fleet.create("in-sync", { instanceId: "i-ghsync", instanceName: "gitops-synced" });
    await fleet.create("waiting", { instanceId: "i-ghwait", networkInterfaceQueueNumber: 4 });
    await fleet.create("terminal", { instanceId: "i-ghterm", securityGroupIds: ["sg-bp1doesnotexist01"] });
    await fleet.create("invalid", { instanceId: "i-ghwin", hostName: "web.example.com" });
    await fleet.create("missing-ref", { instanceId: "i-ghsecret", passwordSecretRef: { name: "absent", key: "password" } });
    await fleet.create("paused", { instanceId: "i-ghpaused", instanceName: "never-written" }, { annotations: { "ecs.alicloud.dev/paused": "true" } });

    const wait = { timeoutMs: 60_000, diag };
    await fleet.waitForCondition("in-sync", "Ready", "True", wait);
    await fleet.waitForCondition("waiting", "Reconciling", "True", { reason: "WaitingForInstanceState", ...wait });
    await fleet.waitForCondition("terminal", "Stalled", "True", { reason: "TerminalError", ...wait });
    await fleet.waitForCondition("invalid", "Stalled", "True", { reason: "InvalidSpec", ...wait });
    await fleet.waitForCondition("missing-ref", "Stalled", "True", { reason: "SecretNotFound", ...wait });
    await fleet.waitForCondition("paused", "Ready", "False", { reason: "Paused", ...wait });

    const h = await health("in-sync", "waiting", "terminal", "invalid", "missing-ref", "paused");
    expect(verdicts(h["in-sync"]!)).toEqual({ kstatus: "Current", argocd: "Healthy" });
    expect(verdicts(h["waiting"]!)).toEqual({ kstatus: "InProgress", argocd: "Progressing" });
    expect(h["waiting"]!.argocd.message).toContain("networkInterfaceQueueNumber");
    expect(verdicts(h["terminal"]!)).toEqual({ kstatus: "Failed", argocd: "Degraded" });
    expect(h["terminal"]!.kstatus.message).toContain("InvalidSecurityGroupId.NotFound");
    expect(h["terminal"]!.argocd.message).toContain("InvalidSecurityGroupId.NotFound");
    expect(verdicts(h["invalid"]!)).toEqual({ kstatus: "Failed", argocd: "Degraded" });
    expect(verdicts(h["missing-ref"]!)).toEqual({ kstatus: "Failed", argocd: "Degraded" });
    expect(h["missing-ref"]!.argocd.message).toContain("absent");
    expect(verdicts(h["paused"]!)).toEqual({ kstatus: "InProgress", argocd: "Suspended" });

    // Stalled is not sticky: the missing Secret appears and the resource converges.
    await fleet.secret("absent", { password: "Gitops!Health9" });
    await fleet.waitForCondition("missing-ref", "Ready", "True", wait);
    expect(verdicts((await health("missing-ref"))["missing-ref"]!)).toEqual({ kstatus: "Current", argocd: "Healthy" });
  });

  it("a field held until the instance restarts → InProgress / Progressing (Reconciling, WaitingForRestart)", async () => {
    await fleet.create("restart", { instanceId: "i-ghrestart", hostName: "first-host" });
    await fleet.waitForCondition("restart", "RestartRequired", "True", { timeoutMs: 60_000, diag });
    // A second hostname before the restart: ECS answers InvalidInstanceStatus.NeedRestart and the field is held.
    await fleet.patchSpec("restart", { hostName: "second-host" });
    await fleet.waitForCondition("restart", "Reconciling", "True", { reason: "WaitingForRestart", timeoutMs: 60_000, diag });
    const h = (await health("restart"))["restart"]!;
    expect(verdicts(h)).toEqual({ kstatus: "InProgress", argocd: "Progressing" });
    expect(h.argocd.message).toContain("hostName");
  });

  it("retrying a transient ECS failure → InProgress / Progressing, then Current / Healthy once ECS answers again", async () => {
    const fault = await emu.admin.addFault({ action: "ModifyInstanceAttribute", code: "InternalError" });
    await fleet.patchSpec("in-sync", { description: "changed during an outage" });
    await fleet.waitForCondition("in-sync", "Reconciling", "True", { reason: "TransientError", timeoutMs: 60_000, diag });
    expect(verdicts((await health("in-sync"))["in-sync"]!)).toEqual({ kstatus: "InProgress", argocd: "Progressing" });

    await emu.admin.removeFault(fault.id);
    await fleet.waitForCondition("in-sync", "Ready", "True", { timeoutMs: 90_000, diag });
    const after = await fleet.get("in-sync");
    expect(cond(after, "Reconciling")).toBeUndefined();
    expect(verdicts((await health("in-sync"))["in-sync"]!)).toEqual({ kstatus: "Current", argocd: "Healthy" });
  });

  it("a generation the controller has not seen → InProgress / Progressing (observedGeneration)", async () => {
    await ctl.stop();
    await fleet.patchSpec("in-sync", { instanceName: "gitops-unseen" });
    const h = (await health("in-sync"))["in-sync"]!;
    expect(h.observedGeneration).toBeLessThan(h.generation);
    expect(verdicts(h)).toEqual({ kstatus: "InProgress", argocd: "Progressing" });
  });
});
