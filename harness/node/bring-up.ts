/**
 * Everything before the first Pod: binaries (built on first use), the controller image from the
 * Dockerfile and the pause image, exported and imported into a fresh one-node cluster.
 * Used by harness/node/global-setup.ts (the node test suite) and `npm run demo -- --in-cluster`.
 *
 *   const up = await bringUpNodeCluster(log);
 *   up.cluster.kubectl([...]); up.image   // "localhost/ecs-attributes-controller:e2e"
 *   await up.stop();                      // cluster teardown + host restore; then up.cluster.hostChanges
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { controlPlaneBinDir } from "../controlplane.js";
import { helmBinDir } from "../helm.js";
import { type NodeCluster, startNodeCluster } from "./cluster.js";
import { buildControllerImage, buildPauseImage, exportImage, type ImageStore, imageStore } from "./image.js";
import { nodeBinDir } from "./prerequisites.js";

export const CONTROLLER_IMAGE = { repository: "localhost/ecs-attributes-controller", tag: "e2e" } as const;
const PAUSE_IMAGE = "localhost/pause:ecs-attrs";

export interface NodeBringUp {
  cluster: NodeCluster;
  /** repository:tag of the controller image inside containerd. */
  image: string;
  store: ImageStore;
  controlPlaneBinDir: string;
  stop(): Promise<void>;
}

async function timed<T>(log: (line: string) => void, what: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const r = await fn();
  log(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return r;
}

export async function bringUpNodeCluster(log: (line: string) => void): Promise<NodeBringUp> {
  const binDir = await timed(log, "node binaries (scripts/build-node-binaries.sh)", () => nodeBinDir(log));
  const cpBinDir = await timed(log, "control-plane binaries", () => controlPlaneBinDir(log));
  await timed(log, "helm", () => helmBinDir(log));
  const store = await timed(log, "image base stand-ins (scripts/build-image-bases.sh)", () => imageStore(log));
  const image = `${CONTROLLER_IMAGE.repository}:${CONTROLLER_IMAGE.tag}`;
  await timed(log, "image build (buildah bud of Dockerfile)", () => buildControllerImage(store, image));
  await buildPauseImage(store, join(binDir, "pause"), PAUSE_IMAGE);
  const imagesDir = await mkdtemp(join(tmpdir(), "ecs-attrs-images-"));
  try {
    const tars = [join(imagesDir, "controller.tar"), join(imagesDir, "pause.tar")];
    await timed(log, "image export", async () => {
      await exportImage(store, image, tars[0]!);
      await exportImage(store, PAUSE_IMAGE, tars[1]!);
    });
    const cluster = await timed(log, "cluster start + image import + node Ready", () => startNodeCluster({ images: tars, pauseImage: PAUSE_IMAGE, log }));
    return { cluster, image, store, controlPlaneBinDir: cpBinDir, stop: () => timed(log, "teardown", () => cluster.stop()) };
  } finally {
    await rm(imagesDir, { recursive: true, force: true });
  }
}
