/**
 * The ECS emulator's HTTP server (node:http, no framework).
 *
 *   const emu = await startEmulator({ seed, accessKeys: [{ accessKeyId: "testid", accessKeySecret: "testsecret" }] });
 *   // SDK: new Client(new $OpenApiUtil.Config({ endpoint: `127.0.0.1:${emu.port}`, protocol: "http", … }))
 *   await emu.close();
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pino, type Logger } from "pino";
import { ACTIONS } from "./actions/index.js";
import { handleAdmin } from "./admin.js";
import { CallLog, maskParams } from "./calllog.js";
import { EcsError, ecsError } from "./errors.js";
import { FaultInjector } from "./faults.js";
import { flattenHeaders, parseRequest } from "./protocol.js";
import { presentedAccessKeyId, SignatureVerifier, type AccessKey, type VerifiedCaller } from "./signature.js";
import { Store } from "./state.js";
import { toXml } from "./xml.js";
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
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
const API_VERSION = "2014-05-26";

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

const BAD_GATEWAY_PAGE =
  "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n";

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const log = options.logger ?? pino({ level: options.logLevel ?? "silent" }, pino.destination(2));
  const initialKeys = options.accessKeys ?? [DEFAULT_ACCESS_KEY];
  let keys: AccessKey[] = [...initialKeys];
  const verifier = new SignatureVerifier({
    keys,
    ...(options.maxSkewMs !== undefined ? { maxSkewMs: options.maxSkewMs } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const store = new Store({
    ...(options.delays ? { delays: options.delays } : {}),
    ...(options.consistency ? { consistency: options.consistency } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  const faults = new FaultInjector({
    ...(options.random ? { random: options.random } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const calls = new CallLog(options.callLogCapacity);
  if (options.seed) store.applySeed(options.seed);

  const reset = (): void => {
    store.clear(options.delays ?? {});
    if (options.seed) store.applySeed(options.seed);
    faults.clear();
    calls.clear();
    verifier.resetNonces();
    keys = [...initialKeys];
    verifier.setKeys(keys);
  };
  const adminDeps = {
    store,
    faults,
    calls,
    verifier,
    reset,
    keys: () => keys,
    setKeys: (k: AccessKey[]) => {
      keys = k;
      verifier.setKeys(k);
    },
  };

  async function handleApi(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID().toUpperCase();
    const headers = flattenHeaders(req.headers);
    const parsed = parseRequest(req.method ?? "GET", req.url ?? "/", headers, body);
    const action = parsed.action ?? "";
    const regionId = parsed.params.str("RegionId") ?? "";
    const hostId = headers["host"] ?? "ecs.aliyuncs.com";
    let caller: VerifiedCaller | undefined;
    let status = 200;
    let code = "OK";
    let payload: Record<string, unknown>;
    // XML when asked for, or for V1 requests without Format (V1's documented default).
    const format = parsed.params.str("Format");
    const wantsXml = format !== undefined ? format.toUpperCase() === "XML" : headers["authorization"] === undefined && parsed.params.has("Signature");
    let extraHeaders: Record<string, string> = {};
    let special: "badGateway" | "reset" | undefined;

    try {
      if (parsed.path !== "/") throw ecsError("InvalidAction.NotFound");
      if (parsed.method !== "GET" && parsed.method !== "POST") throw ecsError("InvalidAction.NotFound");
      caller = verifier.verify(parsed);
      if (!action) throw ecsError("MissingParameter", "Action");
      const version = headers["x-acs-version"] ?? parsed.params.str("Version");
      const handler = ACTIONS[action];
      if (!handler || (version !== undefined && version !== API_VERSION)) throw ecsError("InvalidAction.NotFound");
      parsed.params.checkStructs();
      const outcome = faults.evaluate(action, caller.accessKeyId, regionId);
      if (outcome.delayMs > 0) await new Promise((r) => setTimeout(r, outcome.delayMs));
      if (outcome.type === "error") throw outcome.error;
      if (outcome.type === "badGateway" || outcome.type === "reset") {
        special = outcome.type;
        throw new EcsError(outcome.type === "badGateway" ? "BadGateway" : "ConnectionReset", 502, "");
      }
      const result = handler({ store, params: parsed.params, caller });
      payload = { RequestId: requestId, ...result };
    } catch (err) {
      let e: EcsError;
      if (err instanceof EcsError) {
        e = err;
      } else {
        log.error({ err, action, requestId }, "unexpected emulator error");
        e = ecsError("InternalError");
      }
      status = e.status;
      code = e.code;
      extraHeaders = e.headers;
      payload = {
        RequestId: requestId,
        HostId: hostId,
        Code: e.code,
        Message: e.message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(e.code)}&product=Ecs&requestId=${requestId}`,
      };
    }

    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    calls.add({
      seq: calls.nextSeq(),
      time: new Date().toISOString(),
      action,
      params: maskParams(parsed.params.businessEntries()),
      code,
      httpStatus: special === "reset" ? 0 : status,
      durationMs,
      requestId,
      // A rejected signature still names the key it presented, so the log can be filtered by it.
      accessKeyId: caller?.accessKeyId ?? presentedAccessKeyId(parsed),
      signatureVersion: caller?.signatureVersion ?? "",
      userAgent: headers["user-agent"] ?? "",
      clientId: headers["x-emulator-client"] ?? "",
    });
    log.debug({ action, code, status, durationMs, requestId, accessKeyId: caller?.accessKeyId }, "ecs call");

    if (special === "reset") {
      req.socket.destroy();
      return;
    }
    if (special === "badGateway") {
      res.writeHead(502, { "content-type": "text/html", "content-length": Buffer.byteLength(BAD_GATEWAY_PAGE) });
      res.end(BAD_GATEWAY_PAGE);
      return;
    }
    const text = wantsXml ? toXml(status === 200 ? `${action}Response` : "Error", payload) : JSON.stringify(payload);
    res.writeHead(status, {
      "content-type": wantsXml ? "text/xml;charset=utf-8" : "application/json;charset=utf-8",
      "content-length": Buffer.byteLength(text),
      "x-acs-request-id": requestId,
      ...extraHeaders,
    });
    res.end(text);
  }

  // The SDK puts every parameter in the query string: 32 KB of user data is ~60 KB of URL.
  const server = createServer({ maxHeaderSize: 512 * 1024 }, (req, res) => {
    readBody(req)
      .then((body) => {
        const url = req.url ?? "/";
        if (url === "/_emulator" || url.startsWith("/_emulator/") || url.startsWith("/_emulator?")) {
          handleAdmin(adminDeps, req, res, body);
          return;
        }
        return handleApi(req, res, body);
      })
      .catch((err: unknown) => {
        log.error({ err }, "request failed");
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ Code: "InternalError", Message: "emulator failure" }));
        }
      });
  });
  server.keepAliveTimeout = 5000;

  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, actions: Object.keys(ACTIONS).length, keys: keys.map((k) => k.accessKeyId) }, "ecs emulator listening");

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    endpoint: `${host}:${port}`,
    store,
    faults,
    calls,
    close() {
      closed ??= new Promise<void>((resolve) => {
        store.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
