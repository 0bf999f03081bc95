// The image built from the repository's Dockerfile, unchanged (harness/node/global-setup.ts builds
// it with buildah from local stand-ins of its two base images): who it runs as, what it starts,
// that it carries no shell, and that the controller's entry point runs inside it under containerd.
import { describe, expect, inject, it } from "vitest";
import { imageConfig, pathsInImage } from "../../../harness/node/image.js";
import { nodeOperator } from "../../../harness/node/operator.js";
import { waitFor } from "../../../harness/wait.js";

const skip = inject("nodeSkipReason");

describe.skipIf(skip !== "")("controller image from the Dockerfile", () => {
  const store = { root: inject("nodeImageStoreRoot"), runroot: `${inject("nodeImageStoreRoot")}.run` };
  const image = inject("controllerImage");
  const op = nodeOperator(inject);

  it("runs as the numeric non-root user 65532 with `node dist/main.js` as entry point", async () => {
    const cfg = await imageConfig(store, image);
    expect(cfg.user).toBe("65532:65532");
    expect(cfg.entrypoint).toEqual(["/nodejs/bin/node", "dist/main.js"]);
    expect(cfg.workingDir).toBe("/app");
  });

  it("has no shell and no package manager", async () => {
    const found = await pathsInImage(store, image, [
      "/bin/sh",
      "/bin/bash",
      "/bin/dash",
      "/usr/bin/sh",
      "/bin/busybox",
      "/usr/bin/apt",
      "/usr/bin/dpkg",
      "/usr/local/bin/npm",
    ]);
    expect(found).toEqual([]);
    // The check itself can see files: the runtime and the app are there.
    expect(await pathsInImage(store, image, ["/nodejs/bin/node", "/app/dist/main.js", "/app/node_modules"])).toHaveLength(3);
  });

  it("`node dist/main.js --help` runs in it as a Pod and exits 0", async () => {
    const ns = "node-image";
    await op.mustKubectl(["create", "namespace", ns]);
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "help", namespace: ns },
      spec: {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true },
        containers: [{ name: "c", image, imagePullPolicy: "Never", args: ["--help"] }],
      },
    };
    await op.mustKubectl(["apply", "-f", "-"], JSON.stringify(pod));
    const state = await waitFor(
      "help Pod to finish",
      async () => {
        const out = await op.mustKubectl(["get", "pod", "help", "-n", ns, "-o", "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}"]);
        return out.trim() === "" ? undefined : out.trim();
      },
      120_000,
    );
    expect(state).toBe("0");
    const logs = await op.mustKubectl(["logs", "help", "-n", ns]);
    expect(logs).toContain("Usage: ecs-attributes-controller [flags]");
    expect(logs).toContain("--ecs-endpoint");
    await op.mustKubectl(["delete", "namespace", ns, "--wait=true", "--timeout=120s"]);
  });
});
