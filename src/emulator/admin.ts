/**
 * Admin API under `/_emulator/` — unsigned, loopback only. JSON in, JSON out. See docs/emulator.md.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ZodError } from "zod";
import type { CallLog, CallQuery } from "./calllog.js";
import { EcsError } from "./errors.js";
import type { FaultInjector } from "./faults.js";
import { verifyPassword } from "./password.js";
import type { AccessKey, SignatureVerifier } from "./signature.js";
import { instanceView, type InstanceStatus, type Store } from "./state.js";
import { tagMap } from "./tags.js";

export interface AdminDeps {
  store: Store;
  faults: FaultInjector;
  calls: CallLog;
  verifier: SignatureVerifier;
  /** Restores the startup state (startup seed, keys, delays). */
  reset: () => void;
  /** Current access keys (secrets included; only ids are ever returned). */
  keys: () => AccessKey[];
  setKeys: (keys: AccessKey[]) => void;
  now: () => number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function isLoopback(addr: string | undefined): boolean {
  return addr === "127.0.0.1" || addr === "::1" || addr === "::ffff:127.0.0.1" || (addr?.startsWith("127.") ?? false);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
}

const STATUSES = new Set(["Pending", "Starting", "Running", "Stopping", "Stopped"]);

/** One admin request, as a route handler sees it. */
interface AdminRequest {
  deps: AdminDeps;
  url: URL;
  /** The second path segment (`:id` in a route key), decoded; "" when absent. */
  id: string;
  body: Buffer;
  /** The emulator's clock (the signature verifier's). */
  now: () => number;
}

interface AdminReply {
  status: number;
  body: unknown;
}

type AdminRoute = (req: AdminRequest) => AdminReply;

const ok = (body: unknown): AdminReply => ({ status: 200, body });
const created = (body: unknown): AdminReply => ({ status: 201, body });
const OK = { ok: true };

/** A JSON body that is one object or a list of them, as a list. */
function listBody(body: Buffer): unknown[] {
  const input = parseJson(body);
  return Array.isArray(input) ? input : [input];
}

function stateSnapshot(store: Store): unknown {
  return {
    account: store.account,
    delays: store.delays,
    consistency: {
      ...store.consistency.settings,
      pending: store.consistency.pending(),
      staleHits: store.consistency.staleHits(),
    },
    instances: [...store.instances.values()].map(instanceView),
    securityGroups: [...store.securityGroups.values()],
    vpcs: [...store.vpcs.values()],
  };
}

const STATE_ROUTES: Record<string, AdminRoute> = {
  "GET health": () => ok(OK),
  "GET ": () => ok(OK),
  "POST reset": ({ deps }) => {
    deps.reset();
    return ok(OK);
  },
  "POST seed": ({ deps, url, body }) => {
    if (url.searchParams.get("replace") === "true") deps.store.clear();
    return ok(deps.store.applySeed(parseJson(body)));
  },
  "GET state": ({ deps }) => ok(stateSnapshot(deps.store)),
};

/** Runs a state-machine step on one instance and answers with its view. */
function instanceStep(step: (store: Store, id: string) => void): AdminRoute {
  return ({ deps, id }) => {
    step(deps.store, id);
    return ok(instanceView(deps.store.getInstance(id)));
  };
}

function setInstanceStatus({ deps, id, body }: AdminRequest): AdminReply {
  const { status } = parseJson(body) as { status?: string };
  if (!status || !STATUSES.has(status)) throw new HttpError(400, "status must be one of " + [...STATUSES].join(", "));
  deps.store.setStatus(id, status as InstanceStatus);
  return ok(instanceView(deps.store.getInstance(id)));
}

function checkInstancePassword({ deps, id, body }: AdminRequest): AdminReply {
  const { password } = parseJson(body) as { password?: unknown };
  if (typeof password !== "string") throw new HttpError(400, "password (string) is required");
  const hash = deps.store.getInstance(id).passwordHash;
  return ok({ match: hash !== undefined && verifyPassword(password, hash) });
}

/** A tag map body: `{"team":"a"}`; with `allowNull`, `null` removes a key (JSON merge patch). */
function tagMapBody(body: Buffer, allowNull: boolean): Record<string, string | null> {
  const input = parseJson(body);
  if (input === null || typeof input !== "object" || Array.isArray(input)) throw new HttpError(400, "body must be an object of tag key → value");
  for (const [k, v] of Object.entries(input)) {
    if (k === "") throw new HttpError(400, "a tag key cannot be empty");
    if (typeof v !== "string" && !(allowNull && v === null)) {
      throw new HttpError(400, `tag ${k}: the value must be a string${allowNull ? " (or null to remove it)" : ""}`);
    }
  }
  return input as Record<string, string | null>;
}

/** `DELETE …/tags?key=a&key=b` removes those keys; without `key`, every tag. */
function removeTags({ deps, id, url }: AdminRequest): AdminReply {
  const inst = deps.store.getInstance(id);
  const keys = url.searchParams.getAll("key");
  const patch = Object.fromEntries((keys.length > 0 ? keys : inst.tags.map((t) => t.key)).map((k) => [k, null]));
  return ok(tagMap(deps.store.patchTags(id, patch)));
}

const TAG_ROUTES: Record<string, AdminRoute> = {
  "GET instances/:id/tags": ({ deps, id }) => ok(tagMap(deps.store.getInstance(id).tags)),
  "PUT instances/:id/tags": ({ deps, id, body }) => ok(tagMap(deps.store.patchTags(id, tagMapBody(body, false), { replace: true }))),
  "PATCH instances/:id/tags": ({ deps, id, body }) => ok(tagMap(deps.store.patchTags(id, tagMapBody(body, true)))),
  "DELETE instances/:id/tags": removeTags,
};

const INSTANCE_ROUTES: Record<string, AdminRoute> = {
  "GET instances": ({ deps }) => ok([...deps.store.instances.values()].map(instanceView)),
  "POST instances": ({ deps, body }) => created(listBody(body).map((i) => instanceView(deps.store.putInstance(i as never)))),
  "GET instances/:id": ({ deps, id }) => ok(instanceView(deps.store.getInstance(id))),
  "PUT instances/:id": ({ deps, id, body }) => ok(instanceView(deps.store.putInstance({ ...(parseJson(body) as object), instanceId: id }))),
  "PATCH instances/:id": ({ deps, id, body }) => ok(instanceView(deps.store.patchInstance(id, parseJson(body)))),
  "DELETE instances/:id": ({ deps, id }) => {
    if (!deps.store.deleteInstance(id)) throw new HttpError(404, `no instance ${id}`);
    return ok({ deleted: id });
  },
  "POST instances/:id/start": instanceStep((store, id) => store.start(id)),
  "POST instances/:id/stop": instanceStep((store, id) => store.stop(id)),
  "POST instances/:id/reboot": instanceStep((store, id) => store.reboot(id)),
  "POST instances/:id/state": setInstanceStatus,
  "POST instances/:id/password/verify": checkInstancePassword,
  "POST instances/:id/verify-password": checkInstancePassword,
};

const NETWORK_ROUTES: Record<string, AdminRoute> = {
  "GET security-groups": ({ deps }) => ok([...deps.store.securityGroups.values()]),
  "POST security-groups": ({ deps, body }) => created(listBody(body).map((g) => deps.store.putSecurityGroup(g as never))),
  "GET security-groups/:id": ({ deps, id }) => {
    const sg = deps.store.securityGroups.get(id);
    if (!sg) throw new HttpError(404, `no security group ${id}`);
    return ok(sg);
  },
  "PATCH security-groups/:id": ({ deps, id, body }) => ok(deps.store.patchSecurityGroup(id, parseJson(body))),
  "DELETE security-groups/:id": ({ deps, id }) => {
    if (!deps.store.deleteSecurityGroup(id)) throw new HttpError(404, `no security group ${id}`);
    return ok({ deleted: id });
  },
  "GET vpcs": ({ deps }) => ok([...deps.store.vpcs.values()]),
  "POST vpcs": ({ deps, body }) => created(listBody(body).map((v) => deps.store.putVpc(v as never))),
};

/** Adds or replaces a key; the answer names it, never its secret. */
function addAccessKey({ deps, body }: AdminRequest): AdminReply {
  const k = parseJson(body) as Partial<AccessKey>;
  if (typeof k.accessKeyId !== "string" || typeof k.accessKeySecret !== "string") {
    throw new HttpError(400, "accessKeyId and accessKeySecret (strings) are required");
  }
  const key: AccessKey = { accessKeyId: k.accessKeyId, accessKeySecret: k.accessKeySecret };
  if (typeof k.securityToken === "string") key.securityToken = k.securityToken;
  if (typeof k.expiration === "string" || typeof k.expiration === "number") key.expiration = k.expiration;
  deps.setKeys([...deps.keys().filter((x) => x.accessKeyId !== key.accessKeyId), key]);
  return created({ accessKeyId: key.accessKeyId, sts: key.securityToken !== undefined });
}

function stsSettings(store: Store): { lifetimeSeconds: number | null } {
  return { lifetimeSeconds: store.iam.stsLifetimeSeconds ?? null };
}

/** `{"lifetimeSeconds": 60}` caps the lifetime of credentials issued from now on; `null` removes the cap. */
function patchSts({ deps, body }: AdminRequest): AdminReply {
  const { lifetimeSeconds } = parseJson(body) as { lifetimeSeconds?: unknown };
  if (lifetimeSeconds !== undefined) {
    if (lifetimeSeconds !== null && !(typeof lifetimeSeconds === "number" && Number.isInteger(lifetimeSeconds) && lifetimeSeconds > 0)) {
      throw new HttpError(400, "lifetimeSeconds must be a positive integer or null");
    }
    deps.store.iam.stsLifetimeSeconds = lifetimeSeconds ?? undefined;
  }
  return ok(stsSettings(deps.store));
}

const STS_ROUTES: Record<string, AdminRoute> = {
  "GET sts": ({ deps }) => ok(stsSettings(deps.store)),
  "PATCH sts": patchSts,
  "GET sts-sessions": ({ deps }) => ok(deps.store.iam.listSessions()),
  /** Expires issued sessions now (`{"roleName":"x"}` for one role's): the next call with them gets `InvalidSecurityToken.Expired`. */
  "POST sts-sessions-expire": ({ deps, body, now }) => {
    const { roleName } = parseJson(body) as { roleName?: unknown };
    if (roleName !== undefined && typeof roleName !== "string") throw new HttpError(400, "roleName must be a string");
    return ok({ expired: deps.store.iam.expireSessions(now(), roleName) });
  },
};

const SETTINGS_ROUTES: Record<string, AdminRoute> = {
  "GET account": ({ deps }) => ok(deps.store.account),
  "PATCH account": ({ deps, body }) => ok(deps.store.patchAccount(parseJson(body))),
  "GET consistency": ({ deps }) => ok(deps.store.consistency.settings),
  "PUT consistency": ({ deps, body }) => ok(deps.store.consistency.configure(parseJson(body))),
  "PATCH consistency": ({ deps, body }) => ok(deps.store.consistency.patch(parseJson(body))),
  "GET delays": ({ deps }) => ok(deps.store.delays),
  "PATCH delays": ({ deps, body }) => ok(deps.store.patchDelays(parseJson(body))),
  "GET access-keys": ({ deps }) => ok(deps.keys().map((k) => ({ accessKeyId: k.accessKeyId, sts: k.securityToken !== undefined }))),
  "POST access-keys": addAccessKey,
};

function callQuery(sp: URLSearchParams): CallQuery {
  const q: CallQuery = {};
  if (sp.has("action")) q.action = sp.get("action")!;
  if (sp.has("code")) q.code = sp.get("code")!;
  if (sp.has("clientId")) q.clientId = sp.get("clientId")!;
  if (sp.has("accessKeyId")) q.accessKeyId = sp.get("accessKeyId")!;
  if (sp.has("since")) q.since = Number(sp.get("since"));
  if (sp.has("limit")) q.limit = Number(sp.get("limit"));
  return q;
}

const FAULT_AND_CALL_ROUTES: Record<string, AdminRoute> = {
  "GET faults": ({ deps }) => ok(deps.faults.list()),
  "POST faults": ({ deps, body }) => created(listBody(body).map((f) => deps.faults.add(f))),
  "DELETE faults": ({ deps }) => {
    deps.faults.clear();
    return ok(OK);
  },
  "DELETE faults/:id": ({ deps, id }) => {
    if (!deps.faults.remove(id)) throw new HttpError(404, `no fault ${id}`);
    return ok({ deleted: id });
  },
  "GET calls": ({ deps, url }) => ok(deps.calls.query(callQuery(url.searchParams))),
  "DELETE calls": ({ deps }) => {
    deps.calls.clear();
    return ok(OK);
  },
  "GET counters": ({ deps }) => ok(deps.calls.countersSnapshot()),
};

/** "METHOD path" with the second segment as `:id` (e.g. "POST instances/:id/start") → handler. */
const ROUTES = new Map<string, AdminRoute>(
  Object.entries({ ...STATE_ROUTES, ...INSTANCE_ROUTES, ...TAG_ROUTES, ...NETWORK_ROUTES, ...SETTINGS_ROUTES, ...STS_ROUTES, ...FAULT_AND_CALL_ROUTES }),
);

function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof HttpError) return send(res, err.status, { error: err.message });
  if (err instanceof EcsError) return send(res, err.status, { error: err.message, code: err.code });
  if (err instanceof ZodError) return send(res, 400, { error: "invalid request body", issues: err.issues });
  return send(res, 400, { error: err instanceof Error ? err.message : String(err) });
}

export function handleAdmin(deps: AdminDeps, req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  if (!isLoopback(req.socket.remoteAddress)) {
    send(res, 403, { error: "the admin API is served to loopback clients only" });
    return;
  }
  const url = new URL(req.url ?? "/", "http://emulator");
  // Decoded outside the try: a malformed %-escape is a server failure (500, in server.ts), not a 400.
  const parts = url.pathname
    .replace(/^\/_emulator\/?/, "")
    .split("/")
    .filter(Boolean)
    .map(decodeURIComponent);
  const method = (req.method ?? "GET").toUpperCase();
  const route = ROUTES.get(`${method} ${parts.map((p, i) => (i === 1 ? ":id" : p)).join("/")}`);
  try {
    if (!route) throw new HttpError(404, `no admin route ${method} ${url.pathname}`);
    const reply = route({ deps, url, id: parts[1] ?? "", body, now: deps.now });
    send(res, reply.status, reply.body);
  } catch (err) {
    sendError(res, err);
  }
}
