/**
 * Writes the EcsInstanceAttributes CRD generated from src/api to crds/ (and any extra targets).
 *
 *   tsx scripts/gen-crd.ts                  write crds/ecs.alicloud.dev_ecsinstanceattributes.yaml
 *   tsx scripts/gen-crd.ts --check          exit 1 if any target is missing or differs (CI)
 *   tsx scripts/gen-crd.ts --also PATH ...  also write/check PATH (e.g. the Helm chart's crds/ file)
 *
 * Other generators can import { renderCrdYaml, writeCrdFiles, checkCrdFiles } from this file.
 * It also regenerates (or, with --check, checks) the field table in docs/api.md (scripts/gen-docs.ts).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { renderCrdYaml } from "../src/api/crd.js";
import { PROVIDER_CONFIG_CRD_FILE_NAME, renderProviderConfigCrdYaml } from "../src/api/provider-config-crd.js";
import { API_DOC_PATH, apiDocIsCurrent, writeApiDoc } from "./gen-docs.js";

export { renderCrdYaml };

const repoRoot = resolve(import.meta.dirname, "..");
/** File name used for the CRD everywhere (crds/ and the chart's crds/). */
export const CRD_FILE_NAME = "ecs.alicloud.dev_ecsinstanceattributes.yaml";
/** The committed CRD file. */
export const CRD_PATH = resolve(repoRoot, "crds", CRD_FILE_NAME);

/** Writes the CRD to every path (creating directories); returns the paths written. */
export async function writeCrdFiles(paths: readonly string[] = [CRD_PATH]): Promise<string[]> {
  const text = renderCrdYaml();
  for (const p of paths) {
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, text);
  }
  return [...paths];
}

/** Returns the paths whose content is missing or differs from renderCrdYaml(). */
export async function checkCrdFiles(paths: readonly string[] = [CRD_PATH]): Promise<string[]> {
  const text = renderCrdYaml();
  const stale: string[] = [];
  for (const p of paths) {
    const current = await readFile(p, "utf8").catch(() => undefined);
    if (current !== text) stale.push(p);
  }
  return stale;
}

/** The cluster-scoped EcsProviderConfig CRD: generated beside the main one. */
const PROVIDER_CONFIG_CRD_PATH = resolve(repoRoot, "crds", PROVIDER_CONFIG_CRD_FILE_NAME);

/** Writes (or, with check, compares) the EcsProviderConfig CRD; returns the path when stale/written. */
async function syncProviderConfigCrd(check: boolean): Promise<string[]> {
  const text = renderProviderConfigCrdYaml();
  if (!check) {
    await writeFile(PROVIDER_CONFIG_CRD_PATH, text);
    return [PROVIDER_CONFIG_CRD_PATH];
  }
  const current = await readFile(PROVIDER_CONFIG_CRD_PATH, "utf8").catch(() => undefined);
  return current === text ? [] : [PROVIDER_CONFIG_CRD_PATH];
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes("--check");
  const extra: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--also") {
      const p = argv[++i];
      if (!p) {
        process.stderr.write("gen-crd: --also needs a path\n");
        return 2;
      }
      extra.push(resolve(p));
    } else if (argv[i] !== "--check") {
      process.stderr.write(`gen-crd: unknown argument ${argv[i]}\n`);
      return 2;
    }
  }
  const targets = [CRD_PATH, ...extra];
  const rel = (p: string) => relative(process.cwd(), p) || p;
  if (check) {
    const stale = await checkCrdFiles(targets);
    stale.push(...(await syncProviderConfigCrd(true)));
    if (!(await apiDocIsCurrent())) stale.push(API_DOC_PATH);
    for (const p of stale) process.stderr.write(`gen-crd: ${rel(p)} is stale; run npm run gen:crd\n`);
    return stale.length === 0 ? 0 : 1;
  }
  for (const p of await syncProviderConfigCrd(false)) process.stdout.write(`gen-crd: wrote ${rel(p)}\n`);
  for (const p of await writeCrdFiles(targets)) process.stdout.write(`gen-crd: wrote ${rel(p)}\n`);
  if (await writeApiDoc()) process.stdout.write(`gen-crd: wrote ${rel(API_DOC_PATH)}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`gen-crd: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
