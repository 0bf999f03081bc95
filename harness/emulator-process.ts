/**
 * The ECS emulator as its own process for the fleet benchmark (bench/fleet.ts), with a call log
 * large enough to keep every call of a 10 000-instance run (the CLI's default keeps 10 000).
 *
 *   node --import tsx harness/emulator-process.ts CONFIG.json
 *
 * CONFIG.json: `{ "seed": {…seed format of docs/emulator.md…}, "callLogCapacity": 200000 }`.
 * Prints `{"listening":"http://127.0.0.1:PORT"}` on stdout when ready; SIGTERM/SIGINT stop it.
 */
import { readFileSync } from "node:fs";
import type { SeedInput } from "../src/emulator/seed.js";
import { startEmulator } from "../src/emulator/server.js";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: harness/emulator-process.ts CONFIG.json\n");
  process.exit(2);
}
const config = JSON.parse(readFileSync(file, "utf8")) as { seed?: SeedInput; callLogCapacity?: number };
const emu = await startEmulator({
  ...(config.seed ? { seed: config.seed } : {}),
  callLogCapacity: config.callLogCapacity ?? 200_000,
  logLevel: "warn",
});
const stop = (): void => {
  void emu.close().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
process.stdout.write(`${JSON.stringify({ listening: emu.url })}\n`);
