import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { CoreV1Api, KubeConfig, Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const execFileP = promisify(execFile);

describe("test control plane (real kube-apiserver + etcd)", () => {
  const kc = new KubeConfig();
  let core: CoreV1Api;
  const ns = `cp-smoke-${Date.now().toString(36)}`;

  beforeAll(async () => {
    kc.loadFromFile(inject("kubeconfigPath"));
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: ns } } });
  });

  afterAll(async () => {
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
  });

  it("serves a ConfigMap watch that sees create and update", async () => {
    const seen: Array<{ type: string; value: string | undefined }> = [];
    const watch = new Watch(kc);
    let resolveUpdate!: () => void;
    const gotUpdate = new Promise<void>((r) => (resolveUpdate = r));
    const list = await core.listNamespacedConfigMap({ namespace: ns });
    const req = await watch.watch(
      `/api/v1/namespaces/${ns}/configmaps`,
      { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
      (type: string, obj: { metadata?: { name?: string }; data?: Record<string, string> }) => {
        if (obj.metadata?.name !== "smoke") return;
        seen.push({ type, value: obj.data?.["k"] });
        if (type === "MODIFIED") resolveUpdate();
      },
      () => undefined,
    );
    try {
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "smoke" }, data: { k: "v1" } } });
      await core.patchNamespacedConfigMap({ namespace: ns, name: "smoke", body: [{ op: "replace", path: "/data/k", value: "v2" }] });
      await gotUpdate;
    } finally {
      req.abort();
    }
    expect(seen).toEqual([
      { type: "ADDED", value: "v1" },
      { type: "MODIFIED", value: "v2" },
    ]);
  });

  it("writes a kubeconfig the real kubectl accepts", async () => {
    const kubectl = join(inject("controlPlaneBinDir"), "kubectl");
    const { stdout } = await execFileP(kubectl, ["--kubeconfig", inject("kubeconfigPath"), "get", "--raw", "/readyz"]);
    expect(stdout.trim()).toBe("ok");
  });
});

describe("control plane harness", () => {
  it("mints users, restarts the API server on the same etcd, and cleans up", async () => {
    const { startControlPlane } = await import("../../../harness/controlplane.js");
    const { existsSync } = await import("node:fs");
    const cp = await startControlPlane({ log: () => undefined });
    let stopped = false;
    try {
      const user = await cp.userKubeconfig("alice", ["team-a"]);
      const who = await cp.kubectl(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"], { kubeconfig: user });
      expect(who.stdout).toContain("alice");
      expect(who.stdout).toContain("team-a");
      const canI = await cp.kubectl(["auth", "can-i", "list", "pods", "-A"], { kubeconfig: user });
      expect(canI.stdout.trim()).toBe("no");

      // Data written before a restart is served after it: same etcd, new apiserver process.
      const created = await cp.kubectl(["create", "namespace", "survives-restart"]);
      expect(created.code).toBe(0);
      await cp.stopApiServer();
      expect((await cp.kubectl(["get", "--raw", "/readyz", "--request-timeout=2s"])).code).not.toBe(0);
      await cp.startApiServer();
      const got = await cp.kubectl(["get", "namespace", "survives-restart", "-o", "name"]);
      expect(got.stdout.trim()).toBe("namespace/survives-restart");

      await cp.stop();
      stopped = true;
      expect(existsSync(cp.workDir)).toBe(false);
    } finally {
      if (!stopped) await cp.stop();
    }
  });
});
