/**
 * Minimal raw HTTP access to the Kubernetes API through a client-node KubeConfig (its TLS material,
 * tokens and cached agent via `applyToHTTPSOptions`), with per-request timeouts and abort signals —
 * which the generated client-node APIs lack. Used by the informer (list/watch), leader election and
 * the event recorder.
 *
 *   const r = await kubeRequest(kc, { method: "GET", path: "/api/v1/namespaces/x/configmaps", timeoutMs: 10_000 });
 *   if (r.status !== 200) throw KubeApiError.from(r);
 *   const w = await openWatch(kc, path, query, (ev) => …);  // w.done resolves on close, rejects on error
 */
import type { ClientRequest, IncomingMessage, RequestOptions } from "node:http";
import { request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { createInterface } from "node:readline";
import type { KubeConfig } from "@kubernetes/client-node";
import { V1MicroTime } from "@kubernetes/client-node/dist/types.js";

/**
 * Formats a time as a Kubernetes MicroTime (RFC 3339, exactly six fractional digits). Lease and
 * events.k8s.io times need it: the API server rejects the millisecond precision of Date#toISOString.
 */
export function microTime(d: Date = new Date()): string {
  return new V1MicroTime(d.getTime()).toISOString();
}

export interface KubeRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Default application/json; use application/merge-patch+json for merge patches. */
  contentType?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Default application/json; e.g. the PartialObjectMetadata media type (see METADATA_ACCEPT). */
  accept?: string;
}

/**
 * Accept headers that make the API server answer a LIST or WATCH with PartialObjectMetadata (only
 * ObjectMeta, no data) instead of whole objects, as client-go's metadata informers do; plain JSON
 * stays acceptable for servers that cannot convert.
 */
export const METADATA_ACCEPT = {
  list: "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
  watch: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json",
} as const;

export interface KubeResponse {
  status: number;
  body: unknown;
}

/** A non-2xx answer from the API server (`reason` is the Status reason, e.g. "Conflict", "Expired"). */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "KubeApiError";
  }

  static from(r: KubeResponse, what = "request"): KubeApiError {
    const b = (r.body ?? {}) as { reason?: unknown; message?: unknown };
    const reason = typeof b.reason === "string" ? b.reason : String(r.status);
    const msg = typeof b.message === "string" ? b.message : "";
    return new KubeApiError(r.status, reason, `${what}: HTTP ${r.status} ${reason}${msg ? `: ${msg}` : ""}`);
  }
}

function buildUrl(kc: KubeConfig, path: string, query: KubeRequest["query"]): URL {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const url = new URL(cluster.server.replace(/\/$/, "") + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

/**
 * One keep-alive agent per KubeConfig and TLS identity. The agent client-node caches has keepAlive
 * off, so every request opened a new TLS connection: a handshake plus a SecureContext built from the
 * CA, client certificate and key (~5-10 ms of CPU here and on the API server per request).
 * Proxy agents (other classes) are left alone.
 */
/** A TLS option (string, Buffer, list of them, boolean) as text, to compare identities. */
function tlsPart(v: unknown): string {
  if (Array.isArray(v)) return v.map(tlsPart).join(",");
  if (Buffer.isBuffer(v)) return v.toString("base64");
  return typeof v === "string" || typeof v === "boolean" ? String(v) : "";
}

const keepAliveAgents = new WeakMap<KubeConfig, { id: string; agent: HttpsAgent }>();

function keepAliveAgent(kc: KubeConfig, agent: RequestOptions["agent"]): RequestOptions["agent"] {
  if (!(agent instanceof HttpsAgent) || agent.constructor !== HttpsAgent) return agent;
  const o = agent.options;
  const id = [o.ca, o.cert, o.key, o.pfx, o.servername, o.rejectUnauthorized].map(tlsPart).join("|");
  const cached = keepAliveAgents.get(kc);
  if (cached?.id === id) return cached.agent;
  cached?.agent.destroy();
  const fresh = new HttpsAgent({ ...o, keepAlive: true });
  keepAliveAgents.set(kc, { id, agent: fresh });
  return fresh;
}

async function start(kc: KubeConfig, req: KubeRequest, url: URL): Promise<ClientRequest> {
  const opts: RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  opts.agent = keepAliveAgent(kc, opts.agent);
  opts.method = req.method;
  const headers: Record<string, string> = { ...(opts.headers as Record<string, string> | undefined), Accept: req.accept ?? "application/json" };
  if (req.body !== undefined) headers["Content-Type"] = req.contentType ?? "application/json";
  opts.headers = headers;
  const fn = url.protocol === "http:" ? httpRequest : httpsRequest;
  return fn(url, opts);
}

/** One request, buffered; resolves with status and parsed JSON body (or the text when not JSON). */
export async function kubeRequest(kc: KubeConfig, req: KubeRequest): Promise<KubeResponse> {
  const url = buildUrl(kc, req.path, req.query);
  const r = await start(kc, req, url);
  return new Promise<KubeResponse>((resolve, reject) => {
    const timeoutMs = req.timeoutMs ?? 30_000;
    const timer = setTimeout(() => r.destroy(new Error(`${req.method} ${req.path}: timed out after ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => r.destroy(new Error(`${req.method} ${req.path}: aborted`));
    req.signal?.addEventListener("abort", onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      req.signal?.removeEventListener("abort", onAbort);
    };
    r.on("error", (e) => {
      cleanup();
      reject(e);
    });
    r.on("response", (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (e) => {
        cleanup();
        reject(e);
      });
      res.on("end", () => {
        cleanup();
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // keep text
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    if (req.signal?.aborted) onAbort();
    r.end(req.body === undefined ? undefined : JSON.stringify(req.body));
  });
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: unknown;
}

export interface WatchHandle {
  /** Resolves when the server ends the stream cleanly; rejects on a transport error or non-200. */
  done: Promise<void>;
  /** Ends the stream (done resolves). */
  abort(): void;
  /** True once the server answered 200. */
  isOpen(): boolean;
}

/**
 * Opens a watch stream (`watch=true` added) and resolves once the server answered 200, or once the
 * attempt failed (then `done` rejects). `onEvent` is called per JSON line; `onData` on every
 * received chunk (for watchdogs); `onStart` right after the request is sent (so it can be aborted
 * while waiting for the answer).
 */
export async function openWatch(
  kc: KubeConfig,
  path: string,
  query: KubeRequest["query"],
  onEvent: (ev: WatchEvent) => void,
  onData?: () => void,
  connectTimeoutMs = 30_000,
  onStart?: (h: WatchHandle) => void,
  accept?: string,
): Promise<WatchHandle> {
  const url = buildUrl(kc, path, { ...query, watch: true });
  const r = await start(kc, { method: "GET", path, ...(accept ? { accept } : {}) }, url);
  let aborted = false;
  let settle: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // Avoid unhandled rejections if the caller only awaits later.
  done.catch(() => undefined);
  const finish = (err?: Error) => {
    if (!settle) return;
    const s = settle;
    settle = undefined;
    if (err && !aborted) s.reject(err);
    else s.resolve();
  };
  const connectTimer = setTimeout(() => r.destroy(new Error(`watch ${path}: no response within ${connectTimeoutMs} ms`)), connectTimeoutMs);
  r.on("error", (e) => {
    clearTimeout(connectTimer);
    finish(e);
  });
  // Resolves once the server answered 200 (the stream is open) or the attempt failed.
  let opened!: () => void;
  let isOpen = false;
  const established = new Promise<void>((resolve) => (opened = resolve));
  void done.then(opened, opened);
  r.on("response", (res: IncomingMessage) => {
    clearTimeout(connectTimer);
    if (res.statusCode === 200) {
      isOpen = true;
      opened();
    }
    if (res.statusCode !== 200) {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          body = undefined;
        }
        finish(KubeApiError.from({ status: res.statusCode ?? 0, body }, `watch ${path}`));
      });
      res.on("error", (e) => finish(e));
      return;
    }
    res.on("data", () => onData?.());
    res.on("error", (e) => finish(e));
    res.on("aborted", () => finish(new Error(`watch ${path}: connection aborted`)));
    const lines = createInterface({ input: res, crlfDelay: Infinity });
    // readline re-emits input errors on the interface; without a listener they would be uncaught.
    lines.on("error", (e) => finish(e));
    lines.on("line", (line) => {
      if (!line.trim()) return;
      let ev: WatchEvent;
      try {
        ev = JSON.parse(line) as WatchEvent;
      } catch {
        finish(new Error(`watch ${path}: undecodable line`));
        r.destroy();
        return;
      }
      if (!aborted) onEvent(ev);
    });
    lines.on("close", () => {
      // 'close' without a complete response means the server or network cut the stream.
      finish(res.complete ? undefined : new Error(`watch ${path}: stream closed before the response completed`));
    });
  });
  r.end();
  const handle: WatchHandle = {
    done,
    abort: () => {
      aborted = true;
      clearTimeout(connectTimer);
      r.destroy();
      finish();
    },
    isOpen: () => isOpen,
  };
  onStart?.(handle);
  await established;
  return handle;
}
