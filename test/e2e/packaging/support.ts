/**
 * Helpers for the packaging tests: kubectl against the shared control plane (vitest `inject`),
 * helm rendering of the chart, namespaces, YAML documents.
 */
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { inject } from "vitest";
import { parseAllDocuments } from "yaml";
import { type ExecResult, kubectl as runKubectl } from "../../../harness/exec.js";
import { CHART_DIR, runHelm } from "../../../harness/helm.js";

export const repoRoot = resolve(import.meta.dirname, "../../..");
export const fixture = (name: string) => join(import.meta.dirname, "fixtures", name);
export { CHART_DIR, runHelm };

/** The real kubectl as cluster admin (or as the user of another kubeconfig). */
export async function kubectl(args: string[], opts: { input?: string; kubeconfig?: string } = {}): Promise<ExecResult> {
  return runKubectl(inject("controlPlaneBinDir"), opts.kubeconfig ?? inject("kubeconfigPath"), args, opts.input);
}

/** kubectl that throws with its stderr on a non-zero exit. */
export async function kubectlOk(args: string[], opts: { input?: string; kubeconfig?: string } = {}): Promise<string> {
  const r = await kubectl(args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** A name unique to this run: prefix + 6 hex characters. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

/** Creates (or updates) a namespace with labels. */
export async function ensureNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  const doc = { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
  await kubectlOk(["apply", "-f", "-"], { input: JSON.stringify(doc) });
}

/** `helm template` of the chart; throws with helm's stderr on failure. */
export async function renderChart(release: string, namespace: string, extraArgs: string[] = []): Promise<string> {
  const r = await runHelm(["template", release, CHART_DIR, "--namespace", namespace, ...extraArgs]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr.trim()}`);
  return r.stdout;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** Parses a multi-document YAML stream into objects (empty documents dropped). */
export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`YAML error: ${d.errors[0]?.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && typeof o === "object");
}

export function findObject(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind}${name ? ` ${name}` : ""} among ${objects.map((o) => o.kind).join(", ")}`);
  return found;
}
