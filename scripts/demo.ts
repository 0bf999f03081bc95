/**
 * `npm run demo`: the whole product on one machine, on embedded defaults.
 *
 *   local kube-apiserver + etcd (built from Go modules on first use) → CRD installed
 *   ECS emulator seeded with a small fleet (scripts/demo/seed.json)
 *   the controller as a child process, pointed at both
 *   examples/*.yaml + scripts/demo/extras.yaml applied with kubectl
 *   progress until every resource settles, one error shown with its ECS code, one state wait resolved
 *   a final `kubectl get ecsattrs -A` table
 *
 * Then it keeps everything running for you to explore (prints KUBECONFIG) until Ctrl-C, which removes
 * everything. `--once` exits after the table (used by tests). `--use-current-context` runs against
 * your current kubectl context instead of a local control plane (asks before installing the CRD).
 * `--in-cluster` (root, scripts/setup-node-runtime.sh) instead builds the image from the Dockerfile,
 * starts a one-node cluster (harness/node/) and installs the Helm chart: the controller runs as Pods.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { type ControlPlane, controlPlaneBinDir, startControlPlane } from "../harness/controlplane.js";
import { run as exec } from "../harness/exec.js";
import { CHART_DIR, runHelm } from "../harness/helm.js";
import { startEmulator } from "../src/emulator/server.js";
import { bringUpNodeCluster } from "../harness/node/bring-up.js";
import { startEmulatorForPods } from "../harness/node/operator.js";
import { checkPrerequisites } from "../harness/node/prerequisites.js";

const repo = resolve(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    once: { type: "boolean", default: false },
    "use-current-context": { type: "boolean", default: false },
    "in-cluster": { type: "boolean", default: false },
    namespace: { type: "string", default: "demo" },
    "timeout-seconds": { type: "string", default: "180" },
  },
});
const ns = args.namespace;
const inCluster = args["in-cluster"];
const timeoutMs = Number(args["timeout-seconds"]) * 1000;

const tty = process.stdout.isTTY;
const c = (code: number, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const say = (s: string) => process.stdout.write(`${c(1, "demo")} ${s}\n`);

interface Row {
  name: string;
  ready: string;
  reason: string;
  message: string;
  synced: string;
  error?: { code: string; message: string };
  pending: string[];
  observedGeneration?: number;
  generation: number;
}

const cleanups: Array<() => Promise<void>> = [];
let cleaning = false;
async function cleanup(): Promise<void> {
  if (cleaning) return;
  cleaning = true;
  for (const f of cleanups.reverse()) await f().catch(() => undefined);
}
process.on("SIGINT", () => {
  say("Ctrl-C: stopping the controller, the emulator and the control plane...");
  void cleanup().then(() => process.exit(130));
});
process.on("SIGTERM", () => void cleanup().then(() => process.exit(143)));

const run = (cmd: string, argv: string[], input?: string) => exec(cmd, argv, input === undefined ? {} : { input });

async function main(): Promise<void> {
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), "ecs-attrs-demo-"));
  cleanups.push(() => rm(work, { recursive: true, force: true }));

  // ---- Kubernetes
  let kubeconfig: string;
  let kubectlBin: string;
  let cp: ControlPlane | undefined;
  let node: Awaited<ReturnType<typeof bringUpNodeCluster>> | undefined;
  let buildS: number | undefined;
  if (args["use-current-context"]) {
    kubectlBin = "kubectl";
    kubeconfig = process.env["KUBECONFIG"] ?? join(process.env["HOME"] ?? "", ".kube/config");
    const ctx = await run(kubectlBin, ["config", "current-context"]);
    if (ctx.code !== 0) throw new Error(`kubectl has no current context: ${ctx.stderr.trim()}`);
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(`Install the EcsInstanceAttributes CRD into context "${ctx.stdout.trim()}" and use namespace "${ns}"? [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) throw new Error("not confirmed; nothing was changed");
    const crd = await run(kubectlBin, ["apply", "--server-side", "-f", join(repo, "crds")]);
    if (crd.code !== 0) throw new Error(crd.stderr);
  } else if (inCluster) {
    await checkPrerequisites();
    say("building the image from the Dockerfile and starting a one-node cluster (first run builds kubelet & co.; progress below)");
    const up = await bringUpNodeCluster((line) => say(c(2, line)));
    cleanups.push(async () => {
      await up.stop();
      if (up.cluster.hostChanges) say(c(31, `the one-node cluster left host changes behind:\n${up.cluster.hostChanges}`));
    });
    node = up;
    kubeconfig = up.cluster.kubeconfigPath;
    kubectlBin = join(up.controlPlaneBinDir, "kubectl");
  } else {
    say("starting a local kube-apiserver + etcd (the first run builds them from Go modules; progress below)");
    const tBuild = Date.now();
    let built = false; // the build script is silent when its cache is warm
    await controlPlaneBinDir((line) => {
      built = true;
      say(c(2, line));
    });
    buildS = (Date.now() - tBuild) / 1000;
    say(`control-plane binaries ready in ${buildS.toFixed(1)}s${built ? " (first-time build; later runs reuse it)" : " (cached)"}`);
    cp = await startControlPlane({ crdsDir: "crds", log: (line) => say(c(2, line)) });
    const plane = cp;
    cleanups.push(() => plane.stop());
    kubeconfig = cp.kubeconfigPath;
    kubectlBin = join(cp.binDir, "kubectl");
  }
  const kubectl = (argv: string[], input?: string) => run(kubectlBin, [`--kubeconfig=${kubeconfig}`, ...argv], input);

  // ---- the cloud: the ECS emulator, with the example's per-resource key accepted too
  const seed: unknown = JSON.parse(await readFile(join(repo, "scripts/demo/seed.json"), "utf8"));
  const emulatorOptions = {
    port: 0,
    seed: seed as never,
    accessKeys: [
      { accessKeyId: "demo-controller", accessKeySecret: "demo-controller-secret" },
      // examples/full.yaml's credentialsSecretRef holds these obviously fake values.
      { accessKeyId: "FAKEACCESSKEYIDEXAMPLE", accessKeySecret: "fake-access-key-secret-example" },
    ],
    logLevel: "warn",
  };
  // In the cluster, Pods reach the emulator through a forwarder on the node IP.
  const forPods = node ? await startEmulatorForPods(node.cluster.nodeIp, emulatorOptions) : undefined;
  const emulator = forPods ? { url: forPods.emu.url, close: () => forPods.stop() } : await startEmulator(emulatorOptions);
  const controllerEndpoint = forPods?.endpoint ?? emulator.url;
  cleanups.push(() => emulator.close());
  say(`ECS emulator listening on ${emulator.url} (admin API: ${emulator.url}/_emulator/instances)`);

  const nsResult = await kubectl(["create", "namespace", ns]);
  if (nsResult.code !== 0 && !nsResult.stderr.includes("AlreadyExists")) throw new Error(nsResult.stderr);
  const controllerRunning = node
    ? await installChart(kubectl, kubeconfig, node.image, controllerEndpoint)
    : startController(kubeconfig, controllerEndpoint, work);

  // ---- apply the examples; convergence is timed from here
  const setupS = (Date.now() - started) / 1000;
  const applied0 = Date.now();
  for (const file of ["examples/", "scripts/demo/extras.yaml"]) {
    const applied = await kubectl(["apply", "-n", ns, "-f", join(repo, file)]);
    if (applied.code !== 0) throw new Error(`kubectl apply ${file} failed:\n${applied.stderr}`);
    for (const line of applied.stdout.trim().split("\n")) say(`  ${line}`);
  }

  // ---- watch progress
  const seen = new Map<string, string>();
  let stoppedQueueDemo = false;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = await controllerRunning.gone();
    if (gone) throw new Error(gone);
    const rows = await listRows(kubectl);
    for (const r of rows) {
      const line = describeRow(r);
      if (seen.get(r.name) !== line) {
        seen.set(r.name, line);
        say(line);
      }
    }
    const queueDemo = rows.find((r) => r.name === "queue-demo");
    if (!stoppedQueueDemo && queueDemo?.reason === "WaitingForInstanceState") {
      stoppedQueueDemo = true;
      say(c(33, "queue-demo waits for a Stopped instance; stopping i-bp1demo0000000021 through the emulator's admin API"));
      const res = await fetch(`${emulator.url}/_emulator/instances/i-bp1demo0000000021/stop`, { method: "POST" });
      if (!res.ok) throw new Error(`emulator stop failed: HTTP ${res.status} ${await res.text()}`);
    }
    if (rows.length > 0 && rows.every(settled) && stoppedQueueDemo) break;
    if (Date.now() > deadline) {
      say(c(31, `not every resource settled within ${timeoutMs / 1000}s; see ${controllerRunning.logs}`));
      process.exitCode = 1;
      break;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }

  const table = await kubectl(["get", "ecsattrs", "-A"]);
  process.stdout.write(`\n${table.stdout}\n`);
  const wrong = (await listRows(kubectl)).find((r) => r.name === "wrong-vpc");
  if (wrong?.error) {
    say(`wrong-vpc shows the ECS error in its status: status.error.code=${c(31, wrong.error.code)}`);
    say(`  message: ${wrong.error.message}`);
    say(`  fix the spec (securityGroupIds: [sg-bp1demo0000000001]) and it converges.`);
  }
  if (node) {
    const pods = await kubectl(["get", "pods", "-n", CHART_NAMESPACE, "-o", "wide"]);
    say("the controller's Pods (Helm release ecs-attributes-controller):");
    process.stdout.write(`${pods.stdout}\n`);
  }
  const buildNote = buildS === undefined ? "" : `, of which ${buildS.toFixed(1)}s control-plane build`;
  say(`converged in ${((Date.now() - applied0) / 1000).toFixed(1)}s after the examples were applied (set-up before that: ${setupS.toFixed(1)}s${buildNote})`);

  if (args.once) {
    await cleanup();
    return;
  }
  say("everything keeps running so you can explore. In another shell:");
  process.stdout.write(
    `  export KUBECONFIG=${kubeconfig}\n  alias kubectl=${kubectlBin}\n  kubectl get ecsattrs -n ${ns} -o yaml\n  curl -s ${emulator.url}/_emulator/instances\n`,
  );
  say("Ctrl-C stops and removes everything.");
  await controllerRunning.exited;
  await cleanup();
}

interface RunningController {
  /** Why the controller is no longer running, or "" while it runs. */
  gone(): Promise<string>;
  /** Resolves when it stops (never, for the in-cluster Pods: Ctrl-C ends the demo). */
  exited: Promise<unknown>;
  /** Where to look for its logs. */
  logs: string;
}

/** The controller as a child process, as `npm run demo` always ran it. */
function startController(kubeconfig: string, endpoint: string, work: string): RunningController {
  // The controller from source, pointed at the local control plane.
  const logPath = join(work, "controller.log");
  const logFile = createWriteStream(logPath);
  const controller: ChildProcess = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(repo, "src/main.ts"),
      `--kubeconfig=${kubeconfig}`,
      `--namespace=${ns}`,
      `--ecs-endpoint=${endpoint}`,
      "--resync-period=30s",
      "--state-poll-interval=3s",
      "--metrics-bind-address=127.0.0.1:0",
      "--health-probe-bind-address=127.0.0.1:0",
      "--log-level=info",
    ],
    {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ALIBABA_CLOUD_ACCESS_KEY_ID: "demo-controller", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "demo-controller-secret" },
    },
  );
  controller.stdout?.pipe(logFile);
  controller.stderr?.pipe(logFile);
  const controllerExit = new Promise<number | null>((r) => controller.once("exit", (code) => r(code)));
  cleanups.push(async () => {
    if (controller.exitCode === null) {
      controller.kill("SIGTERM");
      await controllerExit;
    }
  });
  say(`controller started (logs: ${logPath})`);
  return {
    gone: () => Promise.resolve(controller.exitCode !== null ? `the controller exited with code ${controller.exitCode}; see ${logPath}` : ""),
    exited: controllerExit,
    logs: logPath,
  };
}

const CHART_NAMESPACE = "ecs-attributes-system";

/** The controller as users install it: the Helm chart, the image from the Dockerfile, 2 Pods. */
async function installChart(kubectl: Kubectl, kubeconfig: string, image: string, endpoint: string): Promise<RunningController> {
  await kubectl(["create", "namespace", CHART_NAMESPACE]);
  const secret = await kubectl([
    "create",
    "secret",
    "generic",
    "demo-controller",
    "-n",
    CHART_NAMESPACE,
    "--from-literal=ALIBABA_CLOUD_ACCESS_KEY_ID=demo-controller",
    "--from-literal=ALIBABA_CLOUD_ACCESS_KEY_SECRET=demo-controller-secret",
  ]);
  if (secret.code !== 0 && !secret.stderr.includes("AlreadyExists")) throw new Error(secret.stderr);
  const [name, tag] = image.split(/:(?=[^:/]+$)/) as [string, string];
  // The chart composes registry/repository (image.registry defaults to ghcr.io).
  const [registry, repository] = name.split(/\/(.*)/s) as [string, string];
  say(`helm install ecs-attributes-controller (image ${image}, 2 replicas, watching namespace ${ns})`);
  const helm = await runHelm([
    "install",
    "ecs-attributes-controller",
    CHART_DIR,
    "-n",
    CHART_NAMESPACE,
    `--kubeconfig=${kubeconfig}`,
    "--set",
    `image.registry=${registry}`,
    "--set",
    `image.repository=${repository}`,
    "--set",
    `image.tag=${tag}`,
    "--set",
    `ecs.endpoint=${endpoint}`,
    "--set",
    "credentials.existingSecret=demo-controller",
    "--set",
    `watchNamespace=${ns}`,
    "--set",
    "controller.resyncPeriod=30s",
    "--set",
    "controller.extraArgs={--state-poll-interval=3s}",
    "--wait",
    "--timeout=300s",
  ]);
  if (helm.code !== 0) throw new Error(`helm install failed:\n${helm.stderr}`);
  const logs = `kubectl --kubeconfig=${kubeconfig} logs -n ${CHART_NAMESPACE} deployment/ecs-attributes-controller`;
  return {
    async gone() {
      const r = await kubectl(["get", "deployment", "ecs-attributes-controller", "-n", CHART_NAMESPACE, "-o", "jsonpath={.status.availableReplicas}"]);
      return r.code === 0 && Number(r.stdout) > 0 ? "" : `no controller Pod is available; see ${logs}`;
    },
    exited: new Promise(() => undefined),
    logs,
  };
}

type Kubectl = (argv: string[], input?: string) => Promise<{ code: number; stdout: string; stderr: string }>;

async function listRows(kubectl: (argv: string[]) => Promise<{ code: number; stdout: string; stderr: string }>): Promise<Row[]> {
  const res = await kubectl(["get", "ecsattrs", "-n", ns, "-o", "json"]);
  if (res.code !== 0) return [];
  const list = JSON.parse(res.stdout) as { items: Array<{ metadata: { name: string; generation: number }; status?: Record<string, unknown> }> };
  return list.items.map((o) => {
    const conds = (o.status?.["conditions"] ?? []) as Array<{ type: string; status: string; reason: string; message: string }>;
    const ready = conds.find((x) => x.type === "Ready");
    const synced = conds.find((x) => x.type === "Synced");
    return {
      name: o.metadata.name,
      generation: o.metadata.generation,
      observedGeneration: o.status?.["observedGeneration"] as number | undefined,
      ready: ready?.status ?? "-",
      reason: ready?.reason ?? "Pending",
      message: ready?.message ?? "",
      synced: synced?.status ?? "-",
      error: o.status?.["error"] as Row["error"],
      pending: (o.status?.["pendingChanges"] ?? []) as string[],
    };
  });
}

/** Ready, or stuck on something only a person can fix (the demo's deliberate error, drift under Observe). */
function settled(r: Row): boolean {
  if (r.observedGeneration !== r.generation) return false;
  return (
    r.ready === "True" ||
    ["DriftDetected", "InvalidSpec", "Conflict", "SecretNotFound", "ConfigMapNotFound", "Paused"].includes(r.reason) ||
    (r.synced === "False" && r.error?.code !== undefined && !/Throttling|Internal|Unavailable/.test(r.error.code))
  );
}

function describeRow(r: Row): string {
  const mark = r.ready === "True" ? c(32, "✔ Ready  ") : r.reason === "Pending" ? c(2, "… pending") : c(33, "✖ waiting");
  const pending = r.pending.length ? ` pending=[${r.pending.join(",")}]` : "";
  const err = r.error ? ` error=${r.error.code}` : "";
  return `${mark} ${r.name.padEnd(12)} ${r.reason}${pending}${err}${r.ready === "True" ? "" : ` — ${r.message}`}`;
}

main().catch(async (e: unknown) => {
  process.stderr.write(`demo failed: ${(e as Error).message}\n`);
  await cleanup();
  process.exit(1);
});
