/**
 * `npm run cluster`: starts the test control plane in the foreground with the CRDs installed, prints
 * how to point kubectl at it, and keeps running until Ctrl-C (which removes everything it made).
 */
import { join } from "node:path";
import { startControlPlane } from "./controlplane.js";

const cp = await startControlPlane({ crdsDir: "crds" });
const kubectl = join(cp.binDir, "kubectl");
process.stdout.write(
  [
    "",
    "Control plane is up. In another shell:",
    `  export KUBECONFIG=${cp.kubeconfigPath}`,
    `  export PATH=${cp.binDir}:$PATH   # kubectl ${kubectl}`,
    "  kubectl get ecsattrs -A",
    "Press Ctrl-C to stop and clean up.",
    "",
  ].join("\n"),
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  process.stdout.write("\nstopping control plane...\n");
  await cp.stop();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
// Keep the event loop alive until a signal arrives.
setInterval(() => undefined, 1 << 30);
