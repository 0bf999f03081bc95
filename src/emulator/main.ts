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
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { pino, type Logger } from "pino";
import { startEmulator, DEFAULT_ACCESS_KEY, type EmulatorOptions, type RunningEmulator } from "./server.js";
import type { AccessKey } from "./signature.js";
import { consistencySchema, type ConsistencyInput } from "./consistency.js";

function fail(message: string): never {
  process.stderr.write(`ecs-emulator: ${message}\n`);
  process.exit(2);
}

const CLI_OPTIONS = {
  port: { type: "string", default: "0" },
  host: { type: "string", default: "127.0.0.1" },
  "access-key-id": { type: "string" },
  "access-key-secret": { type: "string" },
  "security-token": { type: "string" },
  seed: { type: "string" },
  "stop-delay-ms": { type: "string" },
  "start-delay-ms": { type: "string" },
  consistency: { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-port": { type: "string" },
  "sts-lifetime-seconds": { type: "string" },
  "log-level": { type: "string", default: "info" },
  help: { type: "boolean", short: "h" },
} satisfies ParseArgsOptionsConfig;

const USAGE =
  "usage: ecs-emulator [--port 0] [--host 127.0.0.1] [--access-key-id ID] [--access-key-secret SECRET]\n" +
  "                    [--security-token TOKEN] [--seed FILE] [--stop-delay-ms N] [--start-delay-ms N]\n" +
  "                    [--consistency JSON] [--tls-cert FILE --tls-key FILE [--tls-port N]]\n" +
  "                    [--sts-lifetime-seconds N] [--log-level trace|debug|info|warn|error|silent]\n";

const LOG_LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function parseCli() {
  try {
    return parseArgs({ options: CLI_OPTIONS, strict: true }).values;
  } catch (err) {
    fail(errorText(err));
  }
}

type CliValues = ReturnType<typeof parseCli>;

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid --port ${value}`);
  return port;
}

/** Flags first, then the environment (docs/emulator.md "CLI"); neither: the default key. */
function accessKey(values: CliValues): AccessKey {
  const id = values["access-key-id"] ?? process.env["ECS_EMULATOR_ACCESS_KEY_ID"];
  const secret = values["access-key-secret"] ?? process.env["ECS_EMULATOR_ACCESS_KEY_SECRET"];
  if ((id === undefined) !== (secret === undefined)) fail("--access-key-id and --access-key-secret go together");
  const key: AccessKey = id !== undefined && secret !== undefined ? { accessKeyId: id, accessKeySecret: secret } : { ...DEFAULT_ACCESS_KEY };
  if (values["security-token"] !== undefined) key.securityToken = values["security-token"];
  return key;
}

function createLogger(level: string): Logger {
  if (!LOG_LEVELS.has(level)) fail(`invalid --log-level ${level}`);
  return pino({ level, name: "ecs-emulator" }, pino.destination(2));
}

function readSeed(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    fail(`cannot read seed ${file}: ${errorText(err)}`);
  }
}

function parseConsistency(json: string): ConsistencyInput {
  try {
    return consistencySchema.parse(JSON.parse(json));
  } catch (err) {
    fail(`invalid --consistency: ${errorText(err)}`);
  }
}

function parseDelays(values: CliValues): Record<string, number> {
  const delays: Record<string, number> = {};
  for (const [flag, key] of [
    ["stop-delay-ms", "stopMs"],
    ["start-delay-ms", "startMs"],
  ] as const) {
    const v = values[flag];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) fail(`invalid --${flag} ${v}`);
    delays[key] = n;
  }
  return delays;
}

/** `--tls-cert` + `--tls-key` (both or neither): the HTTPS listener `@alicloud/credentials` needs for STS. */
function parseTls(values: CliValues): EmulatorOptions["tls"] {
  const certFile = values["tls-cert"];
  const keyFile = values["tls-key"];
  if ((certFile === undefined) !== (keyFile === undefined)) fail("--tls-cert and --tls-key go together");
  if (certFile === undefined || keyFile === undefined) return undefined;
  const read = (file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      fail(`cannot read ${file}: ${errorText(err)}`);
    }
  };
  const port = values["tls-port"] !== undefined ? parsePort(values["tls-port"]) : 0;
  return { cert: read(certFile), key: read(keyFile), port };
}

function parsePositive(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) fail(`invalid --${flag} ${value}`);
  return n;
}

/** Validates every flag (failing with exit code 2 on the first bad one, in flag order) into server options. */
function emulatorOptions(values: CliValues): EmulatorOptions & { logger: Logger } {
  const port = parsePort(values.port);
  const key = accessKey(values);
  const logger = createLogger(values["log-level"]);
  const seed = values.seed !== undefined ? readSeed(values.seed) : undefined;
  const consistency = values.consistency !== undefined ? parseConsistency(values.consistency) : undefined;
  const tls = parseTls(values);
  const stsLifetimeSeconds = parsePositive("sts-lifetime-seconds", values["sts-lifetime-seconds"]);
  return {
    port,
    host: values.host,
    accessKeys: [key],
    logger,
    delays: parseDelays(values),
    ...(seed !== undefined ? { seed: seed as never } : {}),
    ...(consistency !== undefined ? { consistency } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(stsLifetimeSeconds !== undefined ? { stsLifetimeSeconds } : {}),
  };
}

/** Closes the emulator once on SIGTERM / SIGINT, then exits 0. */
class Shutdown {
  emu: RunningEmulator | undefined;
  stopping = false;

  constructor(private readonly logger: Logger) {
    process.on("SIGTERM", () => this.stop("SIGTERM"));
    process.on("SIGINT", () => this.stop("SIGINT"));
  }

  private stop(signal: string): void {
    if (this.stopping) return;
    this.stopping = true;
    this.logger.info({ signal }, "shutting down");
    if (!this.emu) process.exit(0);
    void this.emu.close().then(() => process.exit(0));
  }
}

async function main(): Promise<void> {
  const values = parseCli();
  if (values.help) {
    process.stderr.write(USAGE);
    process.exit(0);
  }
  const options = emulatorOptions(values);
  // Signal handlers go in before the listening line: a supervisor may send SIGTERM the moment it
  // reads that line.
  const shutdown = new Shutdown(options.logger);
  let emu: RunningEmulator;
  try {
    emu = await startEmulator(options);
  } catch (err) {
    fail(errorText(err));
  }
  shutdown.emu = emu;
  if (shutdown.stopping) {
    await emu.close();
    process.exit(0);
  }
  process.stdout.write(`${JSON.stringify({ listening: emu.url, ...(emu.httpsUrl ? { https: emu.httpsUrl } : {}) })}\n`);
}

void main();
