/**
 * The controller image built from the repository's real, unchanged Dockerfile with buildah
 * (`--pull=never`: its two base images are local stand-ins made by scripts/build-image-bases.sh),
 * and the sandbox (pause) image from the pause binary of scripts/build-node-binaries.sh. Both are
 * exported as docker-archive tarballs for containerd (harness/node/cluster.ts imports them).
 * buildah keeps its images in the cache's own store (not /var/lib/containers).
 *
 *   const store = await imageStore();
 *   await buildControllerImage(store, "localhost/ecs-attributes-controller:e2e");
 *   await exportImage(store, name, "/tmp/x.tar");
 */
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { scriptDir } from "./prerequisites.js";

const execFileP = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "../..");

export interface ImageStore {
  root: string;
  runroot: string;
}

export interface ImageConfig {
  user: string;
  entrypoint: string[];
  workingDir: string;
}

function defaultLog(line: string): void {
  process.stderr.write(`[image] ${line}\n`);
}

/** The buildah store holding the Dockerfile's base stand-ins (built on first use, then cached). */
export async function imageStore(log: (line: string) => void = defaultLog): Promise<ImageStore> {
  const root = await scriptDir("scripts/build-image-bases.sh", log);
  return { root, runroot: `${root}.run` };
}

export async function buildah(store: ImageStore, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  try {
    const { stdout } = await execFileP("buildah", ["--root", store.root, "--runroot", store.runroot, "--storage-driver", "overlay", ...args], {
      cwd: opts.cwd ?? repoRoot,
      maxBuffer: 256 * 1024 * 1024,
    });
    return stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    const out = `${err.stdout ?? ""}\n${err.stderr ?? ""}`.split("\n").slice(-40).join("\n");
    throw new Error(`buildah ${args[0]} failed:\n${out}`, { cause: e });
  }
}

/** `buildah bud` of the real Dockerfile; `--layers` reuses unchanged steps on warm runs. */
export async function buildControllerImage(store: ImageStore, name: string): Promise<void> {
  await buildah(store, ["bud", "--pull=never", "--layers", "--isolation=chroot", "--network=host", "-f", "Dockerfile", "-t", name, "."]);
}

/** The sandbox image: the static pause binary alone. */
export async function buildPauseImage(store: ImageStore, pauseBin: string, name: string): Promise<void> {
  const exists = await buildah(store, ["inspect", "--type", "image", name]).then(
    () => true,
    () => false,
  );
  if (exists) return;
  const c = (await buildah(store, ["from", "scratch"])).trim();
  try {
    await buildah(store, ["copy", "--chmod", "0755", c, pauseBin, "/pause"]);
    await buildah(store, ["config", "--entrypoint", '["/pause"]', "--user", "65535:65535", c]);
    await buildah(store, ["commit", "-q", c, name]);
  } finally {
    await buildah(store, ["rm", c]).catch(() => undefined);
  }
}

/** Writes `name` as a docker-archive tarball that `ctr images import` reads. */
export async function exportImage(store: ImageStore, name: string, tarPath: string): Promise<void> {
  await rm(tarPath, { force: true });
  await buildah(store, ["push", "-q", name, `docker-archive:${tarPath}:${name}`]);
}

export async function imageConfig(store: ImageStore, name: string): Promise<ImageConfig> {
  const raw = JSON.parse(await buildah(store, ["inspect", "--type", "image", name])) as {
    OCIv1: { config?: { User?: string; Entrypoint?: string[]; WorkingDir?: string } };
  };
  const cfg = raw.OCIv1.config ?? {};
  return { user: cfg.User ?? "", entrypoint: cfg.Entrypoint ?? [], workingDir: cfg.WorkingDir ?? "" };
}

/** Paths (of `candidates`) that exist in the image's filesystem, found through a buildah mount. */
export async function pathsInImage(store: ImageStore, name: string, candidates: string[]): Promise<string[]> {
  const c = (await buildah(store, ["from", "--pull=never", name])).trim();
  try {
    const mnt = (await buildah(store, ["mount", c])).trim();
    const found: string[] = [];
    for (const p of candidates) {
      const r = await execFileP("test", ["-e", join(mnt, p)]).then(
        () => true,
        () => false,
      );
      if (r) found.push(p);
    }
    return found;
  } finally {
    await buildah(store, ["umount", c]).catch(() => undefined);
    await buildah(store, ["rm", c]).catch(() => undefined);
  }
}
