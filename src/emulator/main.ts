#!/usr/bin/env node
/**
 * ecs-emulator CLI.
 *
 *   ecs-emulator [--port 0] [--host 127.0.0.1] [--access-key-id ID --access-key-secret SECRET]
 *                [--security-token TOKEN] [--seed FILE] [--stop-delay-ms N] [--start-delay-ms N]
 *                [--consistency JSON] [--log-level info]
 *
 * --consistency takes the read-after-write lag / stale-read settings of src/emulator/consistency.ts as
 * inline JSON, e.g. '{"fields":{"securityGroupIds":{"minMs":0,"maxMs":5000}},"randomSeed":1}'.
 *
 * Prints exactly one line on stdout when ready: {"listening":"http://127.0.0.1:PORT"}.
 * Logs (pino JSON) go to stderr. SIGTERM / SIGINT close the server and exit 0.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { startEmulator, DEFAULT_ACCESS_KEY } from "./server.js";
import type { AccessKey } from "./signature.js";
import { consistencySchema, type ConsistencyInput } from "./consistency.js";

function fail(message: string): never {
  process.stderr.write(`ecs-emulator: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string", default: "0" },
        host: { type: "string", default: "127.0.0.1" },
        "access-key-id": { type: "string" },
        "access-key-secret": { type: "string" },
        "security-token": { type: "string" },
        seed: { type: "string" },
        "stop-delay-ms": { type: "string" },
        "start-delay-ms": { type: "string" },
        consistency: { type: "string" },
        "log-level": { type: "string", default: "info" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stderr.write(
      "usage: ecs-emulator [--port 0] [--host 127.0.0.1] [--access-key-id ID] [--access-key-secret SECRET]\n" +
        "                    [--security-token TOKEN] [--seed FILE] [--stop-delay-ms N] [--start-delay-ms N]\n" +
        "                    [--consistency JSON] [--log-level trace|debug|info|warn|error|silent]\n",
    );
    process.exit(0);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid --port ${values.port}`);
  const id = values["access-key-id"] ?? process.env["ECS_EMULATOR_ACCESS_KEY_ID"];
  const secret = values["access-key-secret"] ?? process.env["ECS_EMULATOR_ACCESS_KEY_SECRET"];
  if ((id === undefined) !== (secret === undefined)) fail("--access-key-id and --access-key-secret go together");
  const key: AccessKey = id !== undefined && secret !== undefined ? { accessKeyId: id, accessKeySecret: secret } : DEFAULT_ACCESS_KEY;
  if (values["security-token"] !== undefined) key.securityToken = values["security-token"];

  const levels = new Set(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);
  if (!levels.has(values["log-level"])) fail(`invalid --log-level ${values["log-level"]}`);
  const logger = pino({ level: values["log-level"], name: "ecs-emulator" }, pino.destination(2));

  let seed: unknown;
  if (values.seed !== undefined) {
    try {
      seed = JSON.parse(readFileSync(values.seed, "utf8"));
    } catch (err) {
      fail(`cannot read seed ${values.seed}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let consistency: ConsistencyInput | undefined;
  if (values.consistency !== undefined) {
    try {
      consistency = consistencySchema.parse(JSON.parse(values.consistency));
    } catch (err) {
      fail(`invalid --consistency: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const delays: Record<string, number> = {};
  for (const [flag, key2] of [
    ["stop-delay-ms", "stopMs"],
    ["start-delay-ms", "startMs"],
  ] as const) {
    const v = values[flag];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) fail(`invalid --${flag} ${v}`);
    delays[key2] = n;
  }

  // Signal handlers go in before the listening line: a supervisor may send SIGTERM the moment it
  // reads that line.
  let emu: Awaited<ReturnType<typeof startEmulator>> | undefined;
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    if (!emu) process.exit(0);
    void emu.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));

  try {
    emu = await startEmulator({
      port,
      host: values.host,
      accessKeys: [key],
      logger,
      delays,
      ...(seed !== undefined ? { seed: seed as never } : {}),
      ...(consistency !== undefined ? { consistency } : {}),
    });
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (stopping) {
    await emu.close();
    process.exit(0);
  }
  process.stdout.write(`${JSON.stringify({ listening: emu.url })}\n`);
}

void main();
