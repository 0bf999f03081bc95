/**
 * `import` round trip: the subcommand (run as users run it) prints YAML for tagged instances;
 * applying it and letting the controller reconcile gives Ready everywhere with 0 Modify calls. The
 * output never carries a password or user data. `--as set` gives one set that is Ready the same way.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type EmulatorHandle, startEmulatorInProcess, TEST_ACCESS_KEY } from "../../../harness/emulator.js";
import { repoRoot } from "../../../harness/exec.js";
import { Fleet, fleetInstances } from "../../../harness/fleet.js";
import { waitFor } from "../../../harness/wait.js";
import { condition, currentStatus, Sets } from "./helpers.js";

const N = 12;
const ns = `import-${Date.now().toString(36)}`;
let emu: EmulatorHandle;
let ctl: RunningController;
let fleet: Fleet;

/** Runs `main.ts import …` as a process; resolves with its exit code, stdout and stderr. */
function runImport(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src/main.ts"), "import", ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_ACCESS_KEY.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_ACCESS_KEY.accessKeySecret },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
  emu = await startEmulatorInProcess({
    seed: {
      instances: [
        ...fleetInstances("ops", N, (i) => ({
          description: i % 3 === 0 ? "" : `ops box ${i}`,
          hostName: `ops-${i}`,
          deletionProtection: i % 2 === 0,
          tags: [{ key: "team", value: "ops" }],
        })),
        ...fleetInstances("other", 3),
      ],
    },
  });
  ctl = await startController({ kubeconfig: inject("kubeconfigPath"), ecsEndpoint: emu.url, namespace: ns, args: ["--resync-period=5s"] });
}, 120_000);

afterAll(async () => {
  await ctl?.stop();
  await emu?.stop();
  await fleet?.deleteNamespace();
});

describe("import", () => {
  it("rejects a call without a selector or region (exit 2, one line)", async () => {
    const r = await runImport(["--region", "cn-hangzhou"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--tag and\/or --instance-ids/);
    expect((await runImport(["--tag", "a=b"])).code).toBe(2);
  });

  it("resources: import → apply → all Ready with 0 Modify calls", async () => {
    const r = await runImport(["--region", "cn-hangzhou", "--tag", "team=ops", "--namespace", ns, "--ecs-endpoint", emu.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`found ${N} instances`));
    expect(r.stdout).not.toMatch(/password|userData/i);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> });
    expect(docs).toHaveLength(N);
    expect(docs.every((d) => d.kind === "EcsInstanceAttributes" && d.spec["managementPolicy"] === "Observe")).toBe(true);
    expect(docs.find((d) => d.metadata.name === "i-ops00001")?.spec).toMatchObject({ description: "ops box 1", hostName: "ops-1", deletionProtection: false });
    await emu.admin.clearCallLog();
    for (const d of docs) await fleet.create(d.metadata.name, d.spec);
    await fleet.waitConverged({ count: N, timeoutMs: 90_000, diag: () => ctl.logs().slice(-2000) });
    expect(await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).toEqual([]);
    for (const o of await fleet.list()) expect(o.status?.pendingChanges ?? []).toEqual([]);
  }, 150_000);

  it("--as set: one set with the shared values, Ready with 0 Modify calls", async () => {
    const r = await runImport(["--region", "cn-hangzhou", "--tag", "team=ops", "--namespace", ns, "--as", "set", "--name", "ops", "--ecs-endpoint", emu.url]);
    expect(r.code, r.stderr).toBe(0);
    const [doc, ...rest] = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; spec: Record<string, unknown> });
    expect(rest).toEqual([]);
    expect(doc?.kind).toBe("EcsInstanceAttributesSet");
    expect(doc?.spec).toMatchObject({ managementPolicy: "Observe", selector: { tags: { team: "ops" } } });
    // Only values every instance shares go into the template (here: not deletionProtection, which alternates).
    expect((doc?.spec["template"] as Record<string, unknown>)["deletionProtection"]).toBeUndefined();
    // The standalone resources from the previous test own these instances; remove them first.
    for (const o of await fleet.list())
      await fleet.custom.deleteNamespacedCustomObject({
        group: "ecs.alicloud.dev",
        version: "v1alpha1",
        namespace: ns,
        plural: "ecsinstanceattributes",
        name: o.metadata.name,
      });
    await emu.admin.clearCallLog();
    const sets = new Sets(fleet.kc, ns);
    await sets.create("ops", doc!.spec);
    const s = await waitFor(
      "set ops Ready",
      async () => {
        const x = await sets.get("ops");
        return currentStatus(x) && condition(x, "Ready")?.status === "True" && x.status?.ready === N ? x : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, diag: () => ctl.logs().slice(-2000) },
    );
    expect(s.status).toMatchObject({ matched: N, ready: N, failing: 0 });
    expect(await emu.admin.callLog({ action: "ModifyInstanceAttribute" })).toEqual([]);
  }, 150_000);
});
