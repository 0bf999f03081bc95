/**
 * The ECS emulator's HTTP server (node:http, no framework).
 *
 *   const emu = await startEmulator({ seed, accessKeys: [{ accessKeyId: "testid", accessKeySecret: "testsecret" }] });
 *   // SDK: new Client(new $OpenApiUtil.Config({ endpoint: `127.0.0.1:${emu.port}`, protocol: "http", … }))
 *   await emu.close();
 */
import { createServer, type IncomingMessage, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { pino, type Logger } from "pino";
import { ACTIONS } from "./actions/index.js";
import { handleAdmin, type AdminDeps } from "./admin.js";
import { handleApi, type ApiContext } from "./api.js";
import { CallLog } from "./calllog.js";
import { FaultInjector } from "./faults.js";
import { SignatureVerifier, type AccessKey } from "./signature.js";
import { Store } from "./state.js";
import type { SeedInput, TransitionDelays } from "./seed.js";
import type { ConsistencyInput } from "./consistency.js";

export const DEFAULT_ACCESS_KEY: AccessKey = { accessKeyId: "testid", accessKeySecret: "testsecret" };

export interface EmulatorOptions {
  /** 0 (default) = a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Accepted keys. Default: testid / testsecret. A key with `securityToken` is an STS key. */
  accessKeys?: AccessKey[];
  /** Initial state (also what `/_emulator/reset` restores). */
  seed?: SeedInput;
  /** State-machine delays in ms (default 1000 each). */
  delays?: Partial<TransitionDelays>;
  /** Read-after-write lag and stale reads (default none); a seed's `consistency` replaces it. */
  consistency?: ConsistencyInput;
  /** Allowed clock skew for signatures, ms (default 15 min). */
  maxSkewMs?: number;
  /** Pino logger (stderr); default: a silent logger unless `logLevel` is set. */
  logger?: Logger;
  logLevel?: string;
  /** Randomness for fault rates and latency ranges (tests can make it deterministic). */
  random?: () => number;
  /** Clock for signature timestamps and throttle windows (tests can shift it). Default Date.now. */
  now?: () => number;
  /** Call-log capacity (default 10 000 records). */
  callLogCapacity?: number;
  /**
   * A second, HTTPS listener serving the same routes (ECS, STS, admin). `@alicloud/credentials` calls
   * STS over https only, so its AssumeRole / AssumeRoleWithOIDC need this; the client must trust `cert`.
   */
  tls?: { cert: string | Buffer; key: string | Buffer; port?: number };
  /** Issued STS credentials expire after at most this many seconds (`PATCH /_emulator/sts` changes it). */
  stsLifetimeSeconds?: number;
}

export interface RunningEmulator {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  /** `127.0.0.1:PORT` — what the SDK's `endpoint` option wants (no scheme). */
  endpoint: string;
  store: Store;
  faults: FaultInjector;
  calls: CallLog;
  /** With `tls`: e.g. https://127.0.0.1:41235 and `127.0.0.1:41235` (an STS endpoint for `@alicloud/credentials`). */
  httpsUrl?: string;
  httpsEndpoint?: string;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error("body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const log = options.logger ?? pino({ level: options.logLevel ?? "silent" }, pino.destination(2));
  const api: ApiContext = { ...createComponents(options), log };
  if (options.seed) api.store.applySeed(options.seed);
  const admin = adminDeps(options, api);
  const handler = requestHandler(api, admin);
  const server = tuned(createServer({ maxHeaderSize: MAX_HEADER_SIZE }, handler));
  const host = options.host ?? "127.0.0.1";
  await listen(server, options.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  let https: { server: Server; port: number } | undefined;
  if (options.tls) {
    const tlsServer = tuned(createHttpsServer({ maxHeaderSize: MAX_HEADER_SIZE, cert: options.tls.cert, key: options.tls.key }, handler));
    await listen(tlsServer, options.tls.port ?? 0, host);
    https = { server: tlsServer, port: (tlsServer.address() as AddressInfo).port };
  }
  log.info({ port, httpsPort: https?.port, actions: Object.keys(ACTIONS).length, keys: admin.keys().map((k) => k.accessKeyId) }, "ecs emulator listening");
  return runningEmulator(server, host, port, api, https);
}

function createComponents(options: EmulatorOptions): Omit<ApiContext, "log"> {
  const store = new Store({
    ...(options.delays ? { delays: options.delays } : {}),
    ...(options.consistency ? { consistency: options.consistency } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  store.iam.stsLifetimeSeconds = options.stsLifetimeSeconds;
  const verifier = new SignatureVerifier({
    keys: options.accessKeys ?? [DEFAULT_ACCESS_KEY],
    lookup: (id) => store.iam.key(id),
    ...(options.maxSkewMs !== undefined ? { maxSkewMs: options.maxSkewMs } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const faults = new FaultInjector({
    ...(options.random ? { random: options.random } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  return { verifier, store, faults, calls: new CallLog(options.callLogCapacity), now: options.now ?? Date.now };
}

/** The admin API's view of the running emulator: the current keys and a reset to the startup state. */
function adminDeps(options: EmulatorOptions, api: ApiContext): AdminDeps {
  const { store, faults, calls, verifier } = api;
  const initialKeys = options.accessKeys ?? [DEFAULT_ACCESS_KEY];
  let keys: AccessKey[] = [...initialKeys];
  const setKeys = (k: AccessKey[]): void => {
    keys = k;
    verifier.setKeys(k);
  };
  const reset = (): void => {
    store.clear(options.delays ?? {});
    store.iam.stsLifetimeSeconds = options.stsLifetimeSeconds;
    if (options.seed) store.applySeed(options.seed);
    faults.clear();
    calls.clear();
    verifier.resetNonces();
    setKeys([...initialKeys]);
  };
  return { store, faults, calls, verifier, reset, keys: () => keys, setKeys, now: api.now };
}

function isAdminPath(url: string): boolean {
  return url === "/_emulator" || url.startsWith("/_emulator/") || url.startsWith("/_emulator?");
}

// The SDK puts every parameter in the query string: 32 KB of user data is ~60 KB of URL.
const MAX_HEADER_SIZE = 512 * 1024;

function requestHandler(api: ApiContext, admin: AdminDeps): RequestListener {
  return (req, res) => {
    readBody(req)
      .then((body) => {
        if (isAdminPath(req.url ?? "/")) {
          handleAdmin(admin, req, res, body);
          return;
        }
        return handleApi(api, req, res, body);
      })
      .catch((err: unknown) => {
        api.log.error({ err }, "request failed");
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ Code: "InternalError", Message: "emulator failure" }));
        }
      });
  };
}

function tuned<S extends Server>(server: S): S {
  server.keepAliveTimeout = 5000;
  return server;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function runningEmulator(server: Server, host: string, port: number, api: ApiContext, https?: { server: Server; port: number }): RunningEmulator {
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    endpoint: `${host}:${port}`,
    store: api.store,
    faults: api.faults,
    calls: api.calls,
    ...(https ? { httpsUrl: `https://${host}:${https.port}`, httpsEndpoint: `${host}:${https.port}` } : {}),
    close() {
      closed ??= (async () => {
        api.store.clear();
        await Promise.all([closeServer(server), ...(https ? [closeServer(https.server)] : [])]);
      })();
      return closed;
    },
  };
}
