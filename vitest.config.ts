import { defineConfig } from "vitest/config";

// Test layers (README, "Contributing"): unit = pure logic; integration = real kube-apiserver +
// etcd and the ECS emulator over HTTP; e2e = shipped artefacts (chart, manifests, processes).
// integration and e2e share one control plane per project, started by harness/global-setup.ts.
// node = the shipped image and chart on a real one-node cluster (harness/node/global-setup.ts).
export default defineConfig({
  test: {
    reporters: ["default", "./harness/summary-reporter.ts"],
    // The node project's teardown stops Pods through kubelet and restores the host (20-80 s).
    teardownTimeout: 180_000,
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["harness/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // 2-core machines: a few files at a time; each uses its own namespace.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          exclude: ["test/e2e/node/**"],
          globalSetup: ["harness/global-setup.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          maxWorkers: 2,
        },
      },
      {
        // The operator as it ships: the image from the Dockerfile, the chart's Pods on a real
        // one-node cluster (harness/node/). One cluster per machine, so files run one at a time.
        test: {
          name: "node",
          include: ["test/e2e/node/**/*.test.ts"],
          globalSetup: ["harness/node/global-setup.ts"],
          testTimeout: 600_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          maxWorkers: 1,
        },
      },
    ],
  },
});
