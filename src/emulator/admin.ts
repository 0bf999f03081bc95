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

export function handleAdmin(deps: AdminDeps, req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const { store, faults, calls } = deps;
  if (!isLoopback(req.socket.remoteAddress)) {
    send(res, 403, { error: "the admin API is served to loopback clients only" });
    return;
  }
  const url = new URL(req.url ?? "/", "http://emulator");
  const parts = url.pathname.replace(/^\/_emulator\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const method = (req.method ?? "GET").toUpperCase();
  const route = `${method} ${parts.map((p, i) => (i === 1 ? ":id" : p)).join("/")}`;
  const id = parts[1] ?? "";

  try {
    switch (true) {
      case route === "GET health" || route === "GET ":
        return send(res, 200, { ok: true });

      // --- whole state ---
      case route === "POST reset":
        deps.reset();
        return send(res, 200, { ok: true });
      case route === "POST seed": {
        if (url.searchParams.get("replace") === "true") store.clear();
        return send(res, 200, store.applySeed(parseJson(body)));
      }
      case route === "GET state":
        return send(res, 200, {
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
        });

      // --- instances ---
      case route === "GET instances":
        return send(res, 200, [...store.instances.values()].map(instanceView));
      case route === "POST instances": {
        const input = parseJson(body);
        const list = Array.isArray(input) ? input : [input];
        return send(res, 201, list.map((i) => instanceView(store.putInstance(i as never))));
      }
      case route === "GET instances/:id":
        return send(res, 200, instanceView(store.getInstance(id)));
      case route === "PUT instances/:id":
        return send(res, 200, instanceView(store.putInstance({ ...(parseJson(body) as object), instanceId: id })));
      case route === "PATCH instances/:id":
        return send(res, 200, instanceView(store.patchInstance(id, parseJson(body))));
      case route === "DELETE instances/:id":
        if (!store.deleteInstance(id)) throw new HttpError(404, `no instance ${id}`);
        return send(res, 200, { deleted: id });
      case route === "POST instances/:id/start":
        store.start(id);
        return send(res, 200, instanceView(store.getInstance(id)));
      case route === "POST instances/:id/stop":
        store.stop(id);
        return send(res, 200, instanceView(store.getInstance(id)));
      case route === "POST instances/:id/reboot":
        store.reboot(id);
        return send(res, 200, instanceView(store.getInstance(id)));
      case route === "POST instances/:id/state": {
        const { status } = parseJson(body) as { status?: string };
        if (!status || !STATUSES.has(status)) throw new HttpError(400, "status must be one of " + [...STATUSES].join(", "));
        store.setStatus(id, status as InstanceStatus);
        return send(res, 200, instanceView(store.getInstance(id)));
      }
      case route === "POST instances/:id/password/verify" || route === "POST instances/:id/verify-password": {
        const { password } = parseJson(body) as { password?: unknown };
        if (typeof password !== "string") throw new HttpError(400, "password (string) is required");
        const hash = store.getInstance(id).passwordHash;
        return send(res, 200, { match: hash !== undefined && verifyPassword(password, hash) });
      }

      // --- security groups, VPCs ---
      case route === "GET security-groups":
        return send(res, 200, [...store.securityGroups.values()]);
      case route === "POST security-groups": {
        const input = parseJson(body);
        const list = Array.isArray(input) ? input : [input];
        return send(res, 201, list.map((g) => store.putSecurityGroup(g as never)));
      }
      case route === "GET security-groups/:id": {
        const sg = store.securityGroups.get(id);
        if (!sg) throw new HttpError(404, `no security group ${id}`);
        return send(res, 200, sg);
      }
      case route === "PATCH security-groups/:id":
        return send(res, 200, store.patchSecurityGroup(id, parseJson(body)));
      case route === "DELETE security-groups/:id":
        if (!store.deleteSecurityGroup(id)) throw new HttpError(404, `no security group ${id}`);
        return send(res, 200, { deleted: id });
      case route === "GET vpcs":
        return send(res, 200, [...store.vpcs.values()]);
      case route === "POST vpcs": {
        const input = parseJson(body);
        const list = Array.isArray(input) ? input : [input];
        return send(res, 201, list.map((v) => store.putVpc(v as never)));
      }

      // --- account, delays, keys ---
      case route === "GET account":
        return send(res, 200, store.account);
      case route === "PATCH account":
        return send(res, 200, store.patchAccount(parseJson(body)));
      case route === "GET consistency":
        return send(res, 200, store.consistency.settings);
      case route === "PUT consistency":
        return send(res, 200, store.consistency.configure(parseJson(body)));
      case route === "PATCH consistency":
        return send(res, 200, store.consistency.patch(parseJson(body)));
      case route === "GET delays":
        return send(res, 200, store.delays);
      case route === "PATCH delays":
        return send(res, 200, store.patchDelays(parseJson(body)));
      case route === "GET access-keys":
        return send(
          res,
          200,
          deps.keys().map((k) => ({ accessKeyId: k.accessKeyId, sts: k.securityToken !== undefined })),
        );
      case route === "POST access-keys": {
        const k = parseJson(body) as Partial<AccessKey>;
        if (typeof k.accessKeyId !== "string" || typeof k.accessKeySecret !== "string") {
          throw new HttpError(400, "accessKeyId and accessKeySecret (strings) are required");
        }
        const key: AccessKey = { accessKeyId: k.accessKeyId, accessKeySecret: k.accessKeySecret };
        if (typeof k.securityToken === "string") key.securityToken = k.securityToken;
        if (typeof k.expiration === "string" || typeof k.expiration === "number") key.expiration = k.expiration;
        deps.setKeys([...deps.keys().filter((x) => x.accessKeyId !== key.accessKeyId), key]);
        return send(res, 201, { accessKeyId: key.accessKeyId, sts: key.securityToken !== undefined });
      }

      // --- faults ---
      case route === "GET faults":
        return send(res, 200, faults.list());
      case route === "POST faults": {
        const input = parseJson(body);
        const list = Array.isArray(input) ? input : [input];
        return send(res, 201, list.map((f) => faults.add(f)));
      }
      case route === "DELETE faults":
        faults.clear();
        return send(res, 200, { ok: true });
      case route === "DELETE faults/:id":
        if (!faults.remove(id)) throw new HttpError(404, `no fault ${id}`);
        return send(res, 200, { deleted: id });

      // --- call log, counters ---
      case route === "GET calls": {
        const q: CallQuery = {};
        const sp = url.searchParams;
        if (sp.has("action")) q.action = sp.get("action")!;
        if (sp.has("code")) q.code = sp.get("code")!;
        if (sp.has("clientId")) q.clientId = sp.get("clientId")!;
        if (sp.has("accessKeyId")) q.accessKeyId = sp.get("accessKeyId")!;
        if (sp.has("since")) q.since = Number(sp.get("since"));
        if (sp.has("limit")) q.limit = Number(sp.get("limit"));
        return send(res, 200, calls.query(q));
      }
      case route === "DELETE calls":
        calls.clear();
        return send(res, 200, { ok: true });
      case route === "GET counters":
        return send(res, 200, calls.countersSnapshot());

      default:
        throw new HttpError(404, `no admin route ${method} ${url.pathname}`);
    }
  } catch (err) {
    if (err instanceof HttpError) return send(res, err.status, { error: err.message });
    if (err instanceof EcsError) return send(res, err.status, { error: err.message, code: err.code });
    if (err instanceof ZodError) return send(res, 400, { error: "invalid request body", issues: err.issues });
    return send(res, 400, { error: err instanceof Error ? err.message : String(err) });
  }
}
