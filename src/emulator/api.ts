/**
 * The ECS RPC API endpoint (`/` on the emulator's port): parse, verify the signature, apply faults,
 * run the action, log the call and answer in JSON or XML. The HTTP server is src/emulator/server.ts.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { ACTIONS } from "./actions/index.js";
import { maskParams, type CallLog } from "./calllog.js";
import { EcsError, ecsError } from "./errors.js";
import type { FaultInjector } from "./faults.js";
import { flattenHeaders, parseRequest, type ParsedRequest } from "./protocol.js";
import { presentedAccessKeyId, type SignatureVerifier, type VerifiedCaller } from "./signature.js";
import type { Store } from "./state.js";
import { actionAllowed, type Principal } from "./iam.js";
import { STS_ACTIONS, STS_VERSION } from "./sts.js";
import { toXml } from "./xml.js";

const API_VERSION = "2014-05-26";

const BAD_GATEWAY_PAGE =
  "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n";

export interface ApiContext {
  store: Store;
  faults: FaultInjector;
  calls: CallLog;
  verifier: SignatureVerifier;
  log: Logger;
  /** The clock STS expirations are computed on (the verifier's, so they agree). */
  now: () => number;
}

/** One API request while it is served; `caller` and `special` are filled in as they become known. */
interface ApiCall {
  requestId: string;
  headers: Record<string, string | undefined>;
  parsed: ParsedRequest;
  action: string;
  caller?: VerifiedCaller;
  /** A fault that answers with no ECS error body: an HTML 502 page, or a dropped connection. */
  special?: "badGateway" | "reset";
}

interface ApiOutcome {
  status: number;
  code: string;
  payload: Record<string, unknown>;
  headers: Record<string, string>;
}

export async function handleApi(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const started = performance.now();
  const headers = flattenHeaders(req.headers);
  const parsed = parseRequest(req.method ?? "GET", req.url ?? "/", headers, body);
  const call: ApiCall = { requestId: randomUUID().toUpperCase(), headers, parsed, action: parsed.action ?? "" };
  let outcome: ApiOutcome;
  try {
    const result = await runAction(ctx, call);
    outcome = { status: 200, code: "OK", payload: { RequestId: call.requestId, ...result }, headers: {} };
  } catch (err) {
    outcome = errorOutcome(ctx.log, call, err);
  }
  recordCall(ctx, call, outcome, started);
  writeResponse(req, res, call, outcome);
}

/** Everything that can reject the call, in the order the real API rejects it; returns the action's result. */
async function runAction(ctx: ApiContext, call: ApiCall): Promise<Record<string, unknown>> {
  const { parsed, headers, action } = call;
  if (parsed.path !== "/") throw ecsError("InvalidAction.NotFound");
  if (parsed.method !== "GET" && parsed.method !== "POST") throw ecsError("InvalidAction.NotFound");
  const version = headers["x-acs-version"] ?? parsed.params.str("Version");
  if (version === STS_VERSION) return runStsAction(ctx, call);
  const caller = ctx.verifier.verify(parsed);
  call.caller = caller;
  if (!action) throw ecsError("MissingParameter", "Action");
  const handler = ACTIONS[action];
  if (!handler || (version !== undefined && version !== API_VERSION)) throw ecsError("InvalidAction.NotFound");
  const principal = ctx.store.iam.principal(caller.accessKeyId);
  if (!actionAllowed(principal.allowedActions, `ecs:${action}`)) {
    // "A RAM user without ecs:DescribeInstances also gets an empty list" (ecs-api.md §6.1, 2021 docs).
    if (action === "DescribeInstances") return { TotalCount: 0, PageSize: 10, PageNumber: 1, NextToken: "", Instances: { Instance: [] } };
    throw ecsError("Forbidden.RAM");
  }
  parsed.params.checkStructs();
  const outcome = ctx.faults.evaluate(action, caller.accessKeyId, parsed.params.str("RegionId") ?? "");
  if (outcome.delayMs > 0) await new Promise((r) => setTimeout(r, outcome.delayMs));
  if (outcome.type === "error") throw outcome.error;
  if (outcome.type === "badGateway" || outcome.type === "reset") {
    call.special = outcome.type;
    throw new EcsError(outcome.type === "badGateway" ? "BadGateway" : "ConnectionReset", 502, "");
  }
  return handler({ store: ctx.store, params: parsed.params, caller });
}

/** An STS 2015-04-01 call (src/emulator/sts.ts): signed except AssumeRoleWithOIDC; faults apply by action name. */
async function runStsAction(ctx: ApiContext, call: ApiCall): Promise<Record<string, unknown>> {
  const { parsed, action } = call;
  const sts = STS_ACTIONS[action];
  if (!sts) throw ecsError("InvalidAction.NotFound");
  let principal: Principal | undefined;
  if (sts.signed) {
    call.caller = ctx.verifier.verify(parsed);
    principal = ctx.store.iam.principal(call.caller.accessKeyId);
  }
  const outcome = ctx.faults.evaluate(action, call.caller?.accessKeyId ?? "", "");
  if (outcome.delayMs > 0) await new Promise((r) => setTimeout(r, outcome.delayMs));
  if (outcome.type === "error") throw outcome.error;
  return sts.handler({ iam: ctx.store.iam, params: parsed.params, principal, now: ctx.now });
}

function errorOutcome(log: Logger, call: ApiCall, err: unknown): ApiOutcome {
  let e: EcsError;
  if (err instanceof EcsError) {
    e = err;
  } else {
    log.error({ err, action: call.action, requestId: call.requestId }, "unexpected emulator error");
    e = ecsError("InternalError");
  }
  const { requestId } = call;
  const payload = {
    RequestId: requestId,
    HostId: call.headers["host"] ?? "ecs.aliyuncs.com",
    Code: e.code,
    Message: e.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(e.code)}&product=Ecs&requestId=${requestId}`,
  };
  return { status: e.status, code: e.code, payload, headers: e.headers };
}

function recordCall(ctx: ApiContext, call: ApiCall, outcome: ApiOutcome, started: number): void {
  const { action, caller, headers, requestId } = call;
  const { code, status } = outcome;
  const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
  ctx.calls.add({
    seq: ctx.calls.nextSeq(),
    time: new Date().toISOString(),
    action,
    params: maskParams(call.parsed.params.businessEntries()),
    code,
    httpStatus: call.special === "reset" ? 0 : status,
    durationMs,
    requestId,
    // A rejected signature still names the key it presented, so the log can be filtered by it.
    accessKeyId: caller?.accessKeyId ?? presentedAccessKeyId(call.parsed),
    signatureVersion: caller?.signatureVersion ?? "",
    userAgent: headers["user-agent"] ?? "",
    clientId: headers["x-emulator-client"] ?? "",
  });
  ctx.log.debug({ action, code, status, durationMs, requestId, accessKeyId: caller?.accessKeyId }, "ecs call");
}

/** XML when asked for, or for V1 requests without Format (V1's documented default). */
function wantsXml(call: ApiCall): boolean {
  const format = call.parsed.params.str("Format");
  if (format !== undefined) return format.toUpperCase() === "XML";
  return call.headers["authorization"] === undefined && call.parsed.params.has("Signature");
}

function writeResponse(req: IncomingMessage, res: ServerResponse, call: ApiCall, outcome: ApiOutcome): void {
  if (call.special === "reset") {
    req.socket.destroy();
    return;
  }
  if (call.special === "badGateway") {
    res.writeHead(502, { "content-type": "text/html", "content-length": Buffer.byteLength(BAD_GATEWAY_PAGE) });
    res.end(BAD_GATEWAY_PAGE);
    return;
  }
  const xml = wantsXml(call);
  const { status, payload } = outcome;
  const text = xml ? toXml(status === 200 ? `${call.action}Response` : "Error", payload) : JSON.stringify(payload);
  res.writeHead(status, {
    "content-type": xml ? "text/xml;charset=utf-8" : "application/json;charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "x-acs-request-id": call.requestId,
    ...outcome.headers,
  });
  res.end(text);
}
