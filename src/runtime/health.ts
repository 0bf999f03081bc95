/**
 * HTTP endpoints: `/metrics` on --metrics-bind-address, `/healthz` and `/readyz` on
 * --health-probe-bind-address (one server when both addresses are equal; "0" disables one).
 * With `metricsTls` the metrics server speaks HTTPS and, with `metricsAuthorize`, answers only
 * requests the authorizer lets through (src/runtime/metrics-server.ts wires both); the probes stay
 * plain HTTP for the kubelet, so a secure metrics server never shares their address.
 *
 *   const loop = new EventLoopMonitor();                  // liveness: event loop not stuck
 *   const servers = await startHttpServers({
 *     metricsBindAddress: ":8080", healthProbeBindAddress: ":8081", registry: metrics.registry,
 *     liveness: { "event-loop": loop.check },
 *     readiness: { informers: informersSynced(primary, secrets), "leader-election": leaderState(elector) },
 *   });
 *   await servers.close();
 *
 * Response format (controller-runtime's healthz package):
 *   200 "ok"                                   all checks passed
 *   200 "[+]ping ok\n[+]x ok\nhealthz check passed"   with ?verbose
 *   500 "[-]informers failed: not synced: …\nreadyz check failed"   any check failed (always verbose)
 * A check returns `true`/`{ ok: true, detail }` to pass and a string (the reason) to fail. The
 * leader-election check always passes and reports "leader" or "standby": standbys are ready and alive.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";

export type CheckResult = true | string | { ok: true; detail: string };
export type Check = () => CheckResult;

export interface HttpServersOptions {
  metricsBindAddress?: string;
  healthProbeBindAddress?: string;
  registry?: Registry;
  liveness?: Record<string, Check>;
  readiness?: Record<string, Check>;
  logger?: Logger;
  /** PEM certificate and key: /metrics over HTTPS. */
  metricsTls?: { cert: string; key: string };
  /** Decides each /metrics request; anything but 200 is answered with its status and message. */
  metricsAuthorize?: (req: IncomingMessage, path: string) => Promise<{ status: number; message?: string }>;
}

export interface HttpServers {
  /** "http://host:port" of the metrics endpoint, if enabled. */
  metricsUrl?: string;
  /** "http://host:port" of the probes, if enabled. */
  healthUrl?: string;
  /** Swaps the metrics server's certificate (rotation) without dropping its port. */
  setMetricsTls(tls: { cert: string; key: string }): void;
  close(): Promise<void>;
}

/** ":8080" → all interfaces, "127.0.0.1:0" → random port, "0" or "" → disabled. */
export function parseBindAddress(addr: string | undefined): { host: string; port: number } | undefined {
  if (addr === undefined || addr === "" || addr === "0") return undefined;
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]*):(\d{1,5})$/.exec(addr);
  if (!m) throw new Error(`bind address "${addr}" must be "host:port", ":port" or "0"`);
  const host = m[1] === "" ? "0.0.0.0" : m[1]!.replace(/^\[|\]$/g, "");
  return { host, port: Number(m[2]) };
}

/** Passes when every source completed its first list. */
export function informersSynced(...sources: Array<{ hasSynced(): boolean; describe?(): string }>): Check {
  return () => {
    const pending = sources.filter((s) => !s.hasSynced()).map((s, i) => s.describe?.() ?? `informer ${i}`);
    return pending.length === 0 ? true : `not synced: ${pending.join(", ")}`;
  };
}

/** Always passes; reports the leadership state (standbys are ready, only the leader works). */
export function leaderState(elector: { isLeader(): boolean } | undefined): Check {
  return () => ({ ok: true, detail: elector === undefined ? "disabled" : elector.isLeader() ? "leader" : "standby" });
}

/**
 * Liveness of the event loop: a timer ticks every `intervalMs`; the check fails when a tick came
 * more than `stallMs` late within the last `windowMs` (a synchronous loop or a blocked loop).
 */
export class EventLoopMonitor {
  private last = performance.now();
  private worstLag = 0;
  private worstAt = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly opts: { intervalMs?: number; stallMs?: number; windowMs?: number } = {}) {
    const interval = opts.intervalMs ?? 500;
    this.timer = setInterval(() => this.tick(interval), interval);
    this.timer.unref();
  }

  private tick(interval: number): void {
    const t = performance.now();
    const lag = t - this.last - interval;
    this.last = t;
    const window = this.opts.windowMs ?? 30_000;
    if (lag >= this.worstLag || t - this.worstAt > window) {
      this.worstLag = Math.max(0, lag);
      this.worstAt = t;
    }
  }

  readonly check: Check = () => {
    const t = performance.now();
    const interval = this.opts.intervalMs ?? 500;
    const stall = this.opts.stallMs ?? 10_000;
    // A lag still in progress (this request ran before the overdue tick) counts too.
    const current = t - this.last - interval;
    const recent = t - this.worstAt <= (this.opts.windowMs ?? 30_000) ? this.worstLag : 0;
    const lag = Math.max(current, recent);
    return lag > stall ? `event loop blocked for ${Math.round(lag)} ms (limit ${stall} ms)` : true;
  };

  stop(): void {
    clearInterval(this.timer);
  }
}

function runChecks(kind: "healthz" | "readyz", checks: Record<string, Check>, verbose: boolean): { status: number; body: string } {
  const lines: string[] = [];
  let failed = false;
  const all: Record<string, Check> = { ping: () => true, ...checks };
  for (const [name, check] of Object.entries(all)) {
    let r: CheckResult;
    try {
      r = check();
    } catch (e) {
      r = `check threw: ${(e as Error).message}`;
    }
    if (r === true) lines.push(`[+]${name} ok`);
    else if (typeof r === "object") lines.push(`[+]${name} ok (${r.detail})`);
    else {
      failed = true;
      lines.push(`[-]${name} failed: ${r}`);
    }
  }
  if (failed) return { status: 500, body: `${lines.join("\n")}\n${kind} check failed\n` };
  return { status: 200, body: verbose ? `${lines.join("\n")}\n${kind} check passed\n` : "ok" };
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

async function listen(
  bind: { host: string; port: number },
  routes: Map<string, Handler>,
  log: Logger | undefined,
  tls?: { cert: string; key: string },
): Promise<{ server: Server | HttpsServer; url: string }> {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = routes.get(url.pathname);
    if (!route || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    Promise.resolve(route(req, res, url)).catch((e: unknown) => {
      log?.error({ err: e, path: url.pathname }, "http handler failed");
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("internal error\n");
    });
  };
  const server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handle) : createServer(handle);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(bind.port, bind.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
  return { server, url: `${tls ? "https" : "http"}://${host}:${a.port}` };
}

export async function startHttpServers(opts: HttpServersOptions): Promise<HttpServers> {
  const metricsBind = parseBindAddress(opts.metricsBindAddress);
  const healthBind = parseBindAddress(opts.healthProbeBindAddress);
  const metricsRoutes = new Map<string, Handler>();
  const healthRoutes = new Map<string, Handler>();
  if (metricsBind && opts.registry) {
    const registry = opts.registry;
    const authorize = opts.metricsAuthorize;
    metricsRoutes.set("/metrics", async (req, res, url) => {
      if (authorize) {
        const verdict = await authorize(req, url.pathname);
        if (verdict.status !== 200) {
          res.writeHead(verdict.status, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" }).end(`${verdict.message ?? ""}\n`);
          return;
        }
      }
      const text = await registry.metrics();
      res.writeHead(200, { "Content-Type": registry.contentType }).end(text);
    });
  }
  const probe =
    (kind: "healthz" | "readyz", checks: Record<string, Check>): Handler =>
    (_req, res, url) => {
      const r = runChecks(kind, checks, url.searchParams.has("verbose"));
      res.writeHead(r.status, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" }).end(r.body);
    };
  healthRoutes.set("/healthz", probe("healthz", opts.liveness ?? {}));
  healthRoutes.set("/livez", probe("healthz", opts.liveness ?? {}));
  healthRoutes.set("/readyz", probe("readyz", opts.readiness ?? {}));

  const servers: Array<Server | HttpsServer> = [];
  let metricsServer: Server | HttpsServer | undefined;
  const out: HttpServers = {
    setMetricsTls: (tls) => {
      if (metricsServer && "setSecureContext" in metricsServer) metricsServer.setSecureContext({ cert: tls.cert, key: tls.key });
    },
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
  const shared = metricsBind && healthBind && metricsBind.host === healthBind.host && metricsBind.port === healthBind.port && metricsBind.port !== 0;
  if (shared && opts.metricsTls) throw new Error("a secure metrics server cannot share the probes' address (the kubelet probes over plain HTTP)");
  try {
    if (shared) {
      const { server, url } = await listen(metricsBind, new Map([...metricsRoutes, ...healthRoutes]), opts.logger);
      servers.push(server);
      out.metricsUrl = url;
      out.healthUrl = url;
    } else {
      if (metricsBind && metricsRoutes.size > 0) {
        const { server, url } = await listen(metricsBind, metricsRoutes, opts.logger, opts.metricsTls);
        servers.push(server);
        metricsServer = server;
        out.metricsUrl = url;
      }
      if (healthBind) {
        const { server, url } = await listen(healthBind, healthRoutes, opts.logger);
        servers.push(server);
        out.healthUrl = url;
      }
    }
  } catch (e) {
    await out.close();
    throw e;
  }
  opts.logger?.info({ metrics: out.metricsUrl, probes: out.healthUrl }, "http endpoints listening");
  return out;
}
