/**
 * vitest globalSetup of the `node` project (test/e2e/node/): builds the controller image from the
 * Dockerfile, starts one one-node cluster for the whole project and tears it down at the end,
 * failing the run if any host change was left behind.
 *
 * Where the machine cannot run it (not root, no cgroups, runtime packages missing) the suite is
 * skipped with the reason, except with CI=true: there a skip would hide a broken suite, so it fails.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { controlPlaneBinDir } from "../../test/support/controlplane.js";
import { helmBinDir } from "../../test/support/helm.js";
import { type NodeCluster, NODE_NETWORK, startNodeCluster } from "./cluster.js";
import { buildControllerImage, buildPauseImage, exportImage, imageStore } from "./image.js";
import { nodeBinDir, nodeClusterUnavailable } from "./prerequisites.js";

export const CONTROLLER_IMAGE = { repository: "localhost/ecs-attributes-controller", tag: "e2e" } as const;

declare module "vitest" {
  export interface ProvidedContext {
    /** Empty when the cluster runs; otherwise why the node suite is skipped. */
    nodeSkipReason: string;
    nodeKubeconfigPath: string;
    nodeIp: string;
    nodeControlPlaneBinDir: string;
    nodeContainerdSock: string;
    nodeImageStoreRoot: string;
    controllerImage: string;
  }
}

let cluster: NodeCluster | undefined;
let imagesDir: string | undefined;

const log = (line: string): void => void process.stderr.write(`[node-suite] ${line}\n`);

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const r = await fn();
  log(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return r;
}

function provideEmpty(project: TestProject, reason: string): void {
  project.provide("nodeSkipReason", reason);
  for (const k of ["nodeKubeconfigPath", "nodeIp", "nodeControlPlaneBinDir", "nodeContainerdSock", "nodeImageStoreRoot", "controllerImage"] as const) {
    project.provide(k, "");
  }
}

export async function setup(project: TestProject): Promise<void> {
  const why = await nodeClusterUnavailable();
  if (why) {
    if (process.env["CI"] === "true") throw new Error(`node suite cannot run and CI=true forbids skipping it: ${why}`);
    log(`skipped: ${why}`);
    provideEmpty(project, why);
    return;
  }
  const binDir = await timed("node binaries (scripts/build-node-binaries.sh)", () => nodeBinDir(log));
  const cpBinDir = await timed("control-plane binaries", () => controlPlaneBinDir(log));
  await timed("helm", () => helmBinDir(log));
  const store = await timed("image base stand-ins (scripts/build-image-bases.sh)", () => imageStore(log));
  const image = `${CONTROLLER_IMAGE.repository}:${CONTROLLER_IMAGE.tag}`;
  const pause = "localhost/pause:ecs-attrs";
  await timed("image build (buildah bud of Dockerfile)", () => buildControllerImage(store, image));
  await buildPauseImage(store, join(binDir, "pause"), pause);
  imagesDir = await mkdtemp(join(tmpdir(), "ecs-attrs-images-"));
  const tars = [join(imagesDir, "controller.tar"), join(imagesDir, "pause.tar")];
  await timed("image export", async () => {
    await exportImage(store, image, tars[0]!);
    await exportImage(store, pause, tars[1]!);
  });
  cluster = await timed("cluster start + image import + node Ready", () => startNodeCluster({ images: tars, pauseImage: pause, log }));
  project.provide("nodeSkipReason", "");
  project.provide("nodeKubeconfigPath", cluster.kubeconfigPath);
  project.provide("nodeIp", NODE_NETWORK.nodeIp);
  project.provide("nodeControlPlaneBinDir", cpBinDir);
  project.provide("nodeContainerdSock", cluster.containerdSock);
  project.provide("nodeImageStoreRoot", store.root);
  project.provide("controllerImage", image);
}

export async function teardown(): Promise<void> {
  if (imagesDir) await rm(imagesDir, { recursive: true, force: true });
  if (!cluster) return;
  await timed("teardown", () => cluster!.stop());
  if (cluster.hostChanges) throw new Error(`the one-node cluster left host changes behind:\n${cluster.hostChanges}`);
  log("host restored: sysctls, iptables (all tables, v4+v6), mounts, netns, links, addresses, routes, directories, kubepods cgroups");
}
