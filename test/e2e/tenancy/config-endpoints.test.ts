/**
 * Issue 16, per-config ECS endpoints: a dedicated real API server (EcsProviderConfigs are
 * cluster-scoped), two ECS emulators A and B, and the controller as a process started with
 * `--ecs-endpoint=<A>`. Both emulators hold the same instances, so a call sent to the wrong one would
 * succeed there: only the call logs tell where each call went.
 *
 *   default   EcsProviderConfig without an endpoint block → the controller's --ecs-endpoint (A)
 *   team-b    endpoint.allowInsecure + regionOverrides[{REGION, B}] → B for that region (precedence:
 *             the config's override > --ecs-endpoint-for-region / --ecs-endpoint > derived host)
 *   plain     the same override without allowInsecure → refused at admission (the CRD's CEL rule),
 *             so its resource is ProviderConfigNotFound and nothing is sent to either emulator
 *
 * Also: `--sts-endpoint=http://…` without `--allow-insecure-endpoints` → the process exits 2 with a
 * one-line reason before it does anything; the chart's `sts.endpoint` value becomes that flag.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../../../harness/controlplane.js";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type CallRecord, type EmulatorHandle, startEmulatorInProcess } from "../../../harness/emulator.js";
import { cond, Fleet, REGION, type Resource } from "../../../harness/fleet.js";
import { CHART_DIR, runHelm } from "../../../harness/helm.js";
import { waitFor } from "../../../harness/wait.js";

const NS = "endpoints";
const INSTANCES = ["i-epdefault1", "i-epteamb001", "i-epplain001"];
let cp: ControlPlane;
let emuA: EmulatorHandle;
let emuB: EmulatorHandle;
let ctl: RunningController;
let fleet: Fleet;

const providerConfig = (name: string, endpoint?: Record<string, unknown>) => ({
  apiVersion: "ecs.alicloud.dev/v1alpha1",
  kind: "EcsProviderConfig",
  metadata: { name },
  spec: { credentials: { source: "Default" }, ...(endpoint ? { endpoint } : {}) },
});

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, input !== undefined ? { input } : {});
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function waitReason(name: string, reason: string): Promise<Resource> {
  let last: Resource | undefined;
  return waitFor(
    `${NS}/${name} Ready reason ${reason}`,
    async () => {
      last = await fleet.get(name);
      return cond(last, "Ready")?.reason === reason && last.status?.observedGeneration === last.metadata.generation ? last : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250, diag: () => `last status: ${JSON.stringify(last?.status)}\n${ctl.logs().slice(-3000)}` },
  );
}

/** Every call of an emulator that names the instance (DescribeInstances' InstanceIds or an InstanceId). */
async function callsNaming(emu: EmulatorHandle, instanceId: string): Promise<CallRecord[]> {
  return (await emu.admin.callLog()).filter((c) => c.params["InstanceId"] === instanceId || (c.params["InstanceIds"] ?? "").includes(instanceId));
}
const modifies = (calls: CallRecord[]) => calls.filter((c) => c.action === "ModifyInstanceAttribute");

beforeAll(async () => {
  cp = await startControlPlane({ crdsDir: "crds" });
  const seed = { instances: INSTANCES.map((instanceId) => ({ instanceId, regionId: REGION, instanceName: "before" })) };
  emuA = await startEmulatorInProcess({ seed });
  emuB = await startEmulatorInProcess({ seed });
  fleet = await Fleet.open(cp.kubeconfigPath, NS);
  await kubectlOk(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [providerConfig("default"), providerConfig("team-b", { allowInsecure: true, regionOverrides: [{ regionId: REGION, endpoint: emuB.url }] })],
    }),
  );
  ctl = await startController({ kubeconfig: cp.kubeconfigPath, ecsEndpoint: emuA.url, namespace: "*", args: ["--resync-period=10m"] });
  await ctl.waitForLog(/workers running/);
}, 240_000);

afterAll(async () => {
  await ctl?.stop();
  await emuA?.stop();
  await emuB?.stop();
  await cp?.stop();
});

describe("per-config ECS endpoints (real API server, two emulators, call-log evidence)", () => {
  it("a config's region override routes its resource to emulator B; none of its calls reach A", async () => {
    await fleet.createMany([
      { name: "b", spec: { instanceId: "i-epteamb001", regionId: REGION, providerConfigRef: { name: "team-b" }, instanceName: "after-b" } },
    ]);
    await waitReason("b", "InSync");
    const atB = await callsNaming(emuB, "i-epteamb001");
    const atA = await callsNaming(emuA, "i-epteamb001");
    expect(modifies(atB).map((c) => c.code)).toEqual(["OK"]);
    expect(atA).toEqual([]);
    expect((await emuB.admin.getInstance("i-epteamb001")).instanceName).toBe("after-b");
    expect((await emuA.admin.getInstance("i-epteamb001")).instanceName).toBe("before");
    // The config is Ready with no "not applied" caveat: the choice is applied.
    const msg = await kubectlOk(["get", "ecspc", "team-b", "-o", "jsonpath={.status.conditions[0].status} {.status.conditions[0].message}"]);
    expect(msg.trim()).toBe("True credentials source Default: the controller's credential chain");
    process.stdout.write(`[config-endpoints] team-b: ${JSON.stringify({ callsAtB: atB.map((c) => c.action), callsAtA: atA.length })}\n`);
  });

  it("a resource on the default config (no endpoint block) still goes to the controller's --ecs-endpoint (A)", async () => {
    await fleet.createMany([{ name: "d", spec: { instanceId: "i-epdefault1", regionId: REGION, instanceName: "after-d" } }]);
    await waitReason("d", "InSync");
    const atA = await callsNaming(emuA, "i-epdefault1");
    const atB = await callsNaming(emuB, "i-epdefault1");
    expect(modifies(atA).map((c) => c.code)).toEqual(["OK"]);
    expect(atB).toEqual([]);
    expect((await emuA.admin.getInstance("i-epdefault1")).instanceName).toBe("after-d");
    expect((await emuB.admin.getInstance("i-epdefault1")).instanceName).toBe("before");
    process.stdout.write(`[config-endpoints] default: ${JSON.stringify({ callsAtA: atA.map((c) => c.action), callsAtB: atB.length })}\n`);
  });

  it("the same override without allowInsecure is refused in one line at admission; its resource sends nothing anywhere", async () => {
    const refused = await cp.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify(providerConfig("plain", { regionOverrides: [{ regionId: REGION, endpoint: emuB.url }] })),
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("endpoint.regionOverrides must use https:// unless endpoint.allowInsecure is true");
    await fleet.createMany([
      { name: "p", spec: { instanceId: "i-epplain001", regionId: REGION, providerConfigRef: { name: "plain" }, instanceName: "after-p" } },
    ]);
    const r = await waitReason("p", "ProviderConfigNotFound");
    expect(cond(r, "Ready")?.message).toContain("EcsProviderConfig plain not found");
    expect(await callsNaming(emuA, "i-epplain001")).toEqual([]);
    expect(await callsNaming(emuB, "i-epplain001")).toEqual([]);
    process.stdout.write(`[config-endpoints] plain: ${JSON.stringify({ admission: refused.stderr.trim().split("\n")[0], callsAtA: 0, callsAtB: 0 })}\n`);
  });

  it("--sts-endpoint=http://… without --allow-insecure-endpoints: exit 2 with a one-line reason", async () => {
    const bad = await startController({
      kubeconfig: cp.kubeconfigPath,
      ecsEndpoint: emuA.url,
      namespace: NS,
      args: [`--sts-endpoint=http://${emuB.endpoint}`],
    });
    expect(await bad.exited).toBe(2);
    const lines = bad
      .logs()
      .split("\n")
      .filter((l) => l.trim() !== "");
    expect(lines).toEqual([
      "ecs-attributes-controller: --sts-endpoint: is http:// (STS answers carry temporary keys); use https:// or set --allow-insecure-endpoints (see --help)",
    ]);
  });

  it("the chart's sts.endpoint value becomes --sts-endpoint (empty: no flag); a malformed one fails the values schema", async () => {
    const args = async (extra: string[]) => {
      const r = await runHelm(["template", "sts", CHART_DIR, "--skip-tests", ...extra]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.split("\n").filter((l) => l.includes("--sts-endpoint"));
    };
    expect(await args([])).toEqual([]);
    expect((await args(["--set", "sts.endpoint=https://sts-vpc.cn-hangzhou.aliyuncs.com"])).map((l) => l.trim())).toEqual([
      "- --sts-endpoint=https://sts-vpc.cn-hangzhou.aliyuncs.com",
    ]);
    const bad = await runHelm(["template", "sts", CHART_DIR, "--skip-tests", "--set", "sts.endpoint=https://sts.example.com/path x"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("/sts/endpoint");
  });
});
