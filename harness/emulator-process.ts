/**
 * The ECS emulator as its own process with settings the CLI (src/emulator/main.ts) has no flags
 * for, chiefly a call log large enough to keep every call of a 10 000-instance benchmark run (the
 * CLI keeps the default 10 000). Started by `startEmulatorProcess({ callLogCapacity })` in
 * harness/emulator.ts.
 *
 *   node --import tsx harness/emulator-process.ts CONFIG.json
 *
 * CONFIG.json: the JSON-serialisable part of `EmulatorOptions` (src/emulator/server.ts): seed,
 * accessKeys, delays, callLogCapacity, logLevel, port. Prints `{"listening":"http://127.0.0.1:PORT"}`
 * on stdout when ready; SIGTERM/SIGINT stop it.
 */
import { readFileSync } from "node:fs";
import { type EmulatorOptions, startEmulator } from "../src/emulator/server.js";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: harness/emulator-process.ts CONFIG.json\n");
  process.exit(2);
}
const emu = await startEmulator(JSON.parse(readFileSync(file, "utf8")) as EmulatorOptions);
const stop = (): void => {
  void emu.close().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
process.stdout.write(`${JSON.stringify({ listening: emu.url })}\n`);
