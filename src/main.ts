#!/usr/bin/env node
/**
 * ecs-attributes-controller entry point: flags → config → wiring → run until SIGTERM/SIGINT.
 * Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad configuration (one-line reason on stderr).
 */
import { ConfigError, helpText, loadConfig } from "./config.js";
import { useSlimKubeClient } from "./slim-kube-client.js";

// Before anything loads @kubernetes/client-node (hence the dynamic imports below): ~40 MiB less RSS.
useSlimKubeClient();

// Subcommand: `import` prints adoptable YAML (src/cli/import.ts) and exits.
if (process.argv[2] === "import") {
  const { runImport } = await import("./cli/import.js");
  const code = await runImport(process.argv.slice(3));
  // Exit only once the YAML reached a pipe (process.exit would cut a large output short).
  await new Promise((resolve) => process.stdout.write("", resolve));
  process.exit(code);
}

let config;
try {
  config = loadConfig(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`ecs-attributes-controller: ${e.message} (see --help)\n`);
  process.exit(2);
}
if (config === "help") {
  process.stdout.write(`${helpText()}\n`);
  process.exit(0);
}
if (config === "version") {
  const { VERSION_STRING } = await import("./app.js");
  process.stdout.write(`ecs-attributes-controller ${VERSION_STRING}\n`);
  process.exit(0);
}

try {
  const { runController } = await import("./run.js");
  process.exitCode = await runController(config);
} catch (e) {
  process.stderr.write(`ecs-attributes-controller: ${(e as Error).message}\n`);
  process.exit(1);
}
