/**
 * Test helpers for the ECS emulator (src/emulator). Two ways to run it, one admin client:
 *
 *   // in-process (fast; shares the test's event loop)
 *   const emu = await startEmulatorInProcess({ seed: { instances: [{ instanceId: "i-1" }] } });
 *   // or as a child process: `node --import tsx src/emulator/main.ts --port 0 …`
 *   const emu = await startEmulatorProcess({ seed, stopDelayMs: 50 });
 *
 *   emu.endpoint          // "127.0.0.1:PORT" for the SDK's `endpoint` option (protocol: "http")
 *   emu.url               // "http://127.0.0.1:PORT"
 *   await emu.admin.setState("i-1", "Stopped");
 *   await emu.admin.addFault({ action: "ModifyInstanceAttribute", code: "InternalError", count: 2 });
 *   const calls = await emu.admin.callLog({ action: "ModifyInstanceAttribute" });
 *   await emu.stop();
 *
 * Default credentials: access key id `testid`, secret `testsecret` (TEST_ACCESS_KEY below).
 * `ecsClient(emu)` builds an official SDK client pointed at the emulator.
 * Route details: docs/emulator.md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import EcsModule from "@alicloud/ecs20140526";
import { $OpenApiUtil } from "@alicloud/openapi-core";
import type { CallQuery, CallRecord } from "../src/emulator/calllog.js";
import type { Fault, FaultInput } from "../src/emulator/faults.js";
import type { AccountSettings, InstanceInput, InstancePatch, SecurityGroupInput, SeedInput, TransitionDelays } from "../src/emulator/seed.js";
import { startEmulator, type EmulatorOptions } from "../src/emulator/server.js";
import type { InstanceStatus, InstanceView, SecurityGroup } from "../src/emulator/state.js";
import { repoRoot } from "./exec.js";
import { waitFor } from "./wait.js";

export type { CallRecord, Fault, FaultInput, InstanceInput, InstancePatch, InstanceStatus, InstanceView, SecurityGroup, SeedInput };

export const TEST_ACCESS_KEY = { accessKeyId: "testid", accessKeySecret: "testsecret" } as const;

export class EmulatorAdminError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    route: string,
  ) {
    super(`emulator admin ${route} → HTTP ${status}: ${JSON.stringify(body)}`);
    this.name = "EmulatorAdminError";
  }
}

/** Filters of `callLog` (the emulator's own query type). */
export type CallLogQuery = CallQuery;

/** Typed client for the emulator's `/_emulator/` admin API. */
export class EmulatorAdmin {
  constructor(readonly baseUrl: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}/_emulator/${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new EmulatorAdminError(res.status, parsed, `${method} ${path}`);
    return parsed as T;
  }

  /** Adds (or replaces by ID) instances, groups, VPCs, types, account settings, delays. */
  seed(seed: SeedInput, opts: { replace?: boolean } = {}): Promise<{ instances: number; securityGroups: number; vpcs: number }> {
    return this.call("POST", `seed${opts.replace ? "?replace=true" : ""}`, seed);
  }
  /** Back to the startup state: startup seed, keys and delays; no faults; empty call log and counters. */
  reset(): Promise<{ ok: true }> {
    return this.call("POST", "reset");
  }
  listInstances(): Promise<InstanceView[]> {
    return this.call("GET", "instances");
  }
  getInstance(id: string): Promise<InstanceView> {
    return this.call("GET", `instances/${encodeURIComponent(id)}`);
  }
  putInstance(instance: InstanceInput): Promise<InstanceView> {
    return this.call("PUT", `instances/${encodeURIComponent(instance.instanceId)}`, instance);
  }
  /** Any subset of fields, e.g. `{ operationLocks: [{ lockReason: "security" }] }` or `{ status: "Stopped" }`. */
  patchInstance(id: string, patch: InstancePatch): Promise<InstanceView> {
    return this.call("PATCH", `instances/${encodeURIComponent(id)}`, patch);
  }
  deleteInstance(id: string): Promise<{ deleted: string }> {
    return this.call("DELETE", `instances/${encodeURIComponent(id)}`);
  }
  /** Forces a status at once (cancels a transition in flight). */
  setState(id: string, status: InstanceStatus): Promise<InstanceView> {
    return this.call("POST", `instances/${encodeURIComponent(id)}/state`, { status });
  }
  /** Same state machine and delays as StartInstance / StopInstance / RebootInstance. */
  start(id: string): Promise<InstanceView> {
    return this.call("POST", `instances/${encodeURIComponent(id)}/start`);
  }
  stop(id: string): Promise<InstanceView> {
    return this.call("POST", `instances/${encodeURIComponent(id)}/stop`);
  }
  reboot(id: string): Promise<InstanceView> {
    return this.call("POST", `instances/${encodeURIComponent(id)}/reboot`);
  }
  /** Whether `password` is the instance's current password (only a salted hash is stored). */
  async verifyPassword(id: string, password: string): Promise<boolean> {
    const r = await this.call<{ match: boolean }>("POST", `instances/${encodeURIComponent(id)}/password/verify`, { password });
    return r.match;
  }
  /** Polls until the instance has `status` (default timeout 10 s). */
  async waitForStatus(id: string, status: InstanceStatus, timeoutMs = 10_000): Promise<InstanceView> {
    let seen = "";
    return waitFor(
      `instance ${id} to be ${status}`,
      async () => {
        const inst = await this.getInstance(id);
        seen = inst.status;
        return inst.status === status && inst;
      },
      { timeoutMs, intervalMs: 20, diag: () => `still ${seen}` },
    );
  }
  /** An instance's tags as `{key: value}`. */
  getTags(id: string): Promise<Record<string, string>> {
    return this.call("GET", `instances/${encodeURIComponent(id)}/tags`);
  }
  /** Sets tags (merge); a `null` value removes that key. Returns the instance's tags. */
  setTags(id: string, tags: Record<string, string | null>): Promise<Record<string, string>> {
    return this.call("PATCH", `instances/${encodeURIComponent(id)}/tags`, tags);
  }
  /** Replaces all of an instance's tags. */
  replaceTags(id: string, tags: Record<string, string>): Promise<Record<string, string>> {
    return this.call("PUT", `instances/${encodeURIComponent(id)}/tags`, tags);
  }
  /** Removes the given keys (every tag when none is given). */
  removeTags(id: string, keys: string[] = []): Promise<Record<string, string>> {
    const q = keys.map((k) => `key=${encodeURIComponent(k)}`).join("&");
    return this.call("DELETE", `instances/${encodeURIComponent(id)}/tags${q ? `?${q}` : ""}`);
  }

  listSecurityGroups(): Promise<SecurityGroup[]> {
    return this.call("GET", "security-groups");
  }
  putSecurityGroup(group: SecurityGroupInput): Promise<SecurityGroup[]> {
    return this.call("POST", "security-groups", group);
  }
  deleteSecurityGroup(id: string): Promise<{ deleted: string }> {
    return this.call("DELETE", `security-groups/${encodeURIComponent(id)}`);
  }
  patchAccount(patch: Partial<AccountSettings>): Promise<AccountSettings> {
    return this.call("PATCH", "account", patch);
  }
  patchDelays(patch: Partial<TransitionDelays>): Promise<TransitionDelays> {
    return this.call("PATCH", "delays", patch);
  }
  /** Adds an accepted key (with `securityToken` = an STS key). */
  addAccessKey(key: { accessKeyId: string; accessKeySecret: string; securityToken?: string; expiration?: string | number }): Promise<unknown> {
    return this.call("POST", "access-keys", key);
  }
  async addFault(fault: FaultInput): Promise<Fault> {
    const [f] = await this.call<Fault[]>("POST", "faults", fault);
    return f!;
  }
  listFaults(): Promise<Fault[]> {
    return this.call("GET", "faults");
  }
  removeFault(id: string): Promise<unknown> {
    return this.call("DELETE", `faults/${encodeURIComponent(id)}`);
  }
  clearFaults(): Promise<unknown> {
    return this.call("DELETE", "faults");
  }
  /** Calls made to the ECS API (Password/UserData masked), oldest first. */
  callLog(query: CallLogQuery = {}): Promise<CallRecord[]> {
    const sp = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) sp.set(k, String(v));
    const qs = sp.toString();
    return this.call("GET", `calls${qs ? `?${qs}` : ""}`);
  }
  clearCallLog(): Promise<unknown> {
    return this.call("DELETE", "calls");
  }
  /** `{ [action]: { [code or "OK"]: n, total: n } }` */
  counters(): Promise<Record<string, Record<string, number>>> {
    return this.call("GET", "counters");
  }
}

export interface EmulatorHandle {
  url: string;
  port: number;
  /** `127.0.0.1:PORT`: the SDK's `endpoint` (use with `protocol: "http"`). */
  endpoint: string;
  admin: EmulatorAdmin;
  /** With `tls`: the HTTPS listener's `127.0.0.1:PORT` (an STS endpoint for `@alicloud/credentials`). */
  httpsEndpoint?: string;
  stop(): Promise<void>;
}

/** Starts the emulator inside this process. Options as `startEmulator` (src/emulator/server.ts). */
export async function startEmulatorInProcess(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const emu = await startEmulator(options);
  return {
    url: emu.url,
    port: emu.port,
    endpoint: emu.endpoint,
    admin: new EmulatorAdmin(emu.url),
    ...(emu.httpsEndpoint ? { httpsEndpoint: emu.httpsEndpoint } : {}),
    stop: () => emu.close(),
  };
}

export interface EmulatorProcessOptions {
  seed?: SeedInput;
  accessKeyId?: string;
  accessKeySecret?: string;
  securityToken?: string;
  stopDelayMs?: number;
  startDelayMs?: number;
  /** Default "info" (logs go to the child's stderr, kept in `stderr()`). */
  logLevel?: string;
  /** A fixed port (default 0 = random). */
  port?: number;
  env?: NodeJS.ProcessEnv;
  /** Max time to wait for the listening line, ms (default 20 000). */
  startTimeoutMs?: number;
  /**
   * Call-log capacity (the CLI keeps 10 000 records). Setting it runs harness/emulator-process.ts
   * instead of the CLI, which has no flag for it.
   */
  callLogCapacity?: number;
}

export interface EmulatorProcessHandle extends EmulatorHandle {
  child: ChildProcess;
  /** Everything the child wrote to stderr so far (its pino logs). */
  stderr(): string;
  /** Everything the child wrote to stdout so far (only the listening line). */
  stdout(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<void>;
  exitCode(): Promise<number | null>;
}

/** The CLI's arguments for `options`; seed goes through a file in `tmp`. */
function cliArgs(options: EmulatorProcessOptions, tmp: string): string[] {
  const args = [join(repoRoot, "src/emulator/main.ts"), "--port", String(options.port ?? 0)];
  if (options.seed) {
    const file = join(tmp, "seed.json");
    writeFileSync(file, JSON.stringify(options.seed));
    args.push("--seed", file);
  }
  args.push("--access-key-id", options.accessKeyId ?? TEST_ACCESS_KEY.accessKeyId);
  args.push("--access-key-secret", options.accessKeySecret ?? TEST_ACCESS_KEY.accessKeySecret);
  if (options.securityToken) args.push("--security-token", options.securityToken);
  if (options.stopDelayMs !== undefined) args.push("--stop-delay-ms", String(options.stopDelayMs));
  if (options.startDelayMs !== undefined) args.push("--start-delay-ms", String(options.startDelayMs));
  args.push("--log-level", options.logLevel ?? "info");
  return args;
}

/** harness/emulator-process.ts's arguments: the same settings as one config file in `tmp`. */
function configArgs(options: EmulatorProcessOptions, tmp: string): string[] {
  const key = { accessKeyId: options.accessKeyId ?? TEST_ACCESS_KEY.accessKeyId, accessKeySecret: options.accessKeySecret ?? TEST_ACCESS_KEY.accessKeySecret };
  const config: EmulatorOptions = {
    port: options.port ?? 0,
    accessKeys: [{ ...key, ...(options.securityToken ? { securityToken: options.securityToken } : {}) }],
    ...(options.seed ? { seed: options.seed } : {}),
    ...(options.stopDelayMs !== undefined || options.startDelayMs !== undefined
      ? {
          delays: {
            ...(options.stopDelayMs !== undefined ? { stopMs: options.stopDelayMs } : {}),
            ...(options.startDelayMs !== undefined ? { startMs: options.startDelayMs } : {}),
          },
        }
      : {}),
    ...(options.callLogCapacity !== undefined ? { callLogCapacity: options.callLogCapacity } : {}),
    logLevel: options.logLevel ?? "info",
  };
  const file = join(tmp, "config.json");
  writeFileSync(file, JSON.stringify(config));
  return [join(repoRoot, "harness/emulator-process.ts"), file];
}

/**
 * Starts the emulator as a child process (`node --import tsx src/emulator/main.ts --port 0 …`, or
 * harness/emulator-process.ts for settings the CLI lacks) and waits for its listening line.
 */
export async function startEmulatorProcess(options: EmulatorProcessOptions = {}): Promise<EmulatorProcessHandle> {
  const tmp = mkdtempSync(join(tmpdir(), "ecs-emulator-"));
  const entry = options.callLogCapacity === undefined ? cliArgs(options, tmp) : configArgs(options, tmp);
  const args = ["--import", "tsx", ...entry];

  const child = spawn(process.execPath, args, { cwd: repoRoot, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let stdout = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  // Never leave an emulator behind if the test process ends without stop().
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  void exited.then(() => process.off("exit", killOnExit));
  void exited.then(() => rmSync(tmp, { recursive: true, force: true }));

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`emulator did not start in time; stderr:\n${stderr}`)), options.startTimeoutMs ?? 20_000);
    const rl = createInterface({ input: child.stdout });
    rl.once("line", (line) => {
      clearTimeout(timer);
      try {
        resolveUrl((JSON.parse(line) as { listening: string }).listening);
      } catch {
        reject(new Error(`unexpected first line from emulator: ${line}`));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`emulator exited (${code}) before listening; stderr:\n${stderr}`));
    });
  });
  const port = Number(new URL(url).port);
  return {
    url,
    port,
    endpoint: `127.0.0.1:${port}`,
    admin: new EmulatorAdmin(url),
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    exitCode: () => exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

type EcsClientClass = (typeof EcsModule)["default"];
export type EcsClient = InstanceType<EcsClientClass>;
// CommonJS interop: native Node ESM gives the module object (class on `.default`); vitest/vite
// interop gives the class itself.
const EcsClientCtor: EcsClientClass = typeof EcsModule === "function" ? EcsModule : EcsModule.default;

export interface EcsClientOptions {
  accessKeyId?: string;
  accessKeySecret?: string;
  securityToken?: string;
  /** "v2" = legacy V1 HMAC-SHA1 signing; default V3 ACS3-HMAC-SHA256. */
  signatureAlgorithm?: "v2";
  regionId?: string;
  /** ms; SDK defaults are 3000 for both. */
  readTimeout?: number;
  connectTimeout?: number;
  userAgent?: string;
  /** An `@alicloud/credentials` Credential (e.g. over an STS provider); replaces the static key. */
  credential?: $OpenApiUtil.Config["credential"];
}

/** An official `@alicloud/ecs20140526` client pointed at the emulator over plain HTTP. */
export function ecsClient(emu: { endpoint: string }, opts: EcsClientOptions = {}): EcsClient {
  const config = new $OpenApiUtil.Config({
    ...(opts.credential
      ? { credential: opts.credential }
      : { accessKeyId: opts.accessKeyId ?? TEST_ACCESS_KEY.accessKeyId, accessKeySecret: opts.accessKeySecret ?? TEST_ACCESS_KEY.accessKeySecret }),
    ...(opts.securityToken ? { securityToken: opts.securityToken } : {}),
    ...(opts.signatureAlgorithm ? { signatureAlgorithm: opts.signatureAlgorithm } : {}),
    ...(opts.readTimeout ? { readTimeout: opts.readTimeout } : {}),
    ...(opts.connectTimeout ? { connectTimeout: opts.connectTimeout } : {}),
    ...(opts.userAgent ? { userAgent: opts.userAgent } : {}),
    regionId: opts.regionId ?? "cn-hangzhou",
    endpoint: emu.endpoint,
    protocol: "http",
  });
  return new EcsClientCtor(config);
}
