/**
 * The controller's module floor, reported with every fleet run: the RSS of a fresh `node --expose-gc`
 * process that has imported what dist/main.js imports (dist/run.js, dist/config.js, after the
 * module hook main.js registers first where the build has one) without starting anything, after two garbage collections, minus the same reading of a process that imported nothing.
 * Everything the controller holds for its resources comes on top of this.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const MiB = 1024 * 1024;

/** RSS (bytes) of a fresh process after importing `modules` and collecting garbage. */
function rssAfterImport(modules: readonly string[], prelude = ""): number {
  const script = `${prelude}
for (const m of ${JSON.stringify(modules)}) await import(m);
globalThis.gc(); await new Promise((r) => setTimeout(r, 50)); globalThis.gc();
process.stdout.write(String(process.memoryUsage().rss));`;
  const r = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`module floor: measuring process failed (${r.status}): ${r.stderr.slice(0, 500)}`);
  return Number(r.stdout);
}

/**
 * Script text doing what dist/main.js does before its imports (src/slim-kube-client.ts), for builds
 * in `distDir` that have it; empty for older builds.
 */
export function slimPrelude(distDir: string): string {
  const slim = join(distDir, "slim-kube-client.js");
  return existsSync(slim) ? `(await import(${JSON.stringify(pathToFileURL(slim).href)})).useSlimKubeClient();` : "";
}

/**
 * Module-load RSS of the compiled controller whose entry is `mainJs` (median of `runs` processes), in
 * MiB: the absolute figure and the part above bare node. Undefined for the tsx controller (tsx's own
 * loader would be counted).
 */
export function moduleFloor(mainJs: string, runs = 3): { rss_mib: number; above_bare_node_mib: number } {
  const entry = ["run.js", "config.js"].map((f) => pathToFileURL(join(dirname(mainJs), f)).href);
  const prelude = slimPrelude(dirname(mainJs));
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const loaded = median(Array.from({ length: runs }, () => rssAfterImport(entry, prelude)));
  const bare = median(Array.from({ length: runs }, () => rssAfterImport([])));
  const mib = (b: number) => Math.round((b / MiB) * 10) / 10;
  return { rss_mib: mib(loaded), above_bare_node_mib: mib(loaded - bare) };
}
