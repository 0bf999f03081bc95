/**
 * The GitOps health probe (test/tools/gitops-health/, Go: kstatus from sigs.k8s.io/cli-utils and
 * gopher-lua running the chart's Argo CD health script) for tests. scripts/build-gitops-health.sh
 * builds it on first use into a cache outside the repository; ECS_ATTRS_GITOPS_HEALTH_BIN (a
 * directory holding `gitops-health`) skips the build.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildScriptDir, repoRoot, run } from "../../harness/exec.js";
import { GROUP, PLURAL, VERSION } from "../../harness/fleet.js";

/** The chart's Argo CD health script (the one docs/gitops.md shows). */
export const ARGOCD_HEALTH_LUA = join(repoRoot, "deploy/helm/ecs-attributes-controller/files/argocd-health.lua");

export interface HealthReport {
  name: string;
  generation: number;
  observedGeneration: number;
  kstatus: { status: string; message: string };
  argocd: { status: string; message: string };
}

let binDir: Promise<string> | undefined;

function probeDir(): Promise<string> {
  const fromEnv = process.env["ECS_ATTRS_GITOPS_HEALTH_BIN"];
  if (fromEnv) return Promise.resolve(fromEnv);
  binDir ??= buildScriptDir("build-gitops-health.sh", (line) => process.stderr.write(`[gitops-health] ${line}\n`));
  binDir.catch(() => (binDir = undefined));
  return binDir;
}

async function probe(args: readonly string[]): Promise<HealthReport[]> {
  const r = await run(join(await probeDir(), "gitops-health"), ["--lua", ARGOCD_HEALTH_LUA, ...args]);
  if (r.code !== 0) throw new Error(`gitops-health failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as HealthReport);
}

/** Reads EcsInstanceAttributes `names` in `namespace` from the API server and reports kstatus's and Argo CD's verdicts. */
export async function gitopsHealth(kubeconfig: string, namespace: string, names: readonly string[]): Promise<HealthReport[]> {
  return probe(["--kubeconfig", kubeconfig, "--resource", `${PLURAL}.${VERSION}.${GROUP}`, "--namespace", namespace, ...names]);
}

/** The same verdicts for objects given as data (shapes the API server here cannot hold, e.g. a kind whose CRD is not installed). */
export async function gitopsHealthOf(items: readonly object[]): Promise<HealthReport[]> {
  const dir = await mkdtemp(join(tmpdir(), "gitops-health-"));
  try {
    const file = join(dir, "list.json");
    await writeFile(file, JSON.stringify({ apiVersion: "v1", kind: "List", items }));
    return await probe(["--file", file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
