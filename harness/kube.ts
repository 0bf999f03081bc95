/**
 * The harness's one raw Kubernetes HTTP client: keep-alive HTTPS with the client certificate of a
 * kubeconfig (or bare TLS material before a kubeconfig exists), JSON in and out, and watches that
 * resume from the last resourceVersion. Used where the generated @kubernetes/client-node APIs are
 * too heavy (they open far more connections): the control plane's readiness probe and the fleet
 * benchmark's bulk creates, spec patches and watch, so the harness itself stays a light load.
 */
import { Agent, request } from "node:https";
import { createInterface } from "node:readline";
import type { KubeConfig } from "@kubernetes/client-node";

export interface KubeReply {
  status: number;
  body: unknown;
  /** Round-trip time in ms. */
  ms: number;
}

export interface KubeTls {
  ca: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
}

export interface WatchEvent {
  type: string;
  object: unknown;
}

export class KubeClient {
  private readonly agent: Agent;
  private readonly server: URL;

  constructor(
    server: string,
    private readonly tls: KubeTls,
    maxSockets = 32,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, ...tls });
    this.server = new URL(server);
  }

  /** From a kubeconfig with embedded CA, client certificate and key (what the harness writes). */
  static fromKubeConfig(kc: KubeConfig, maxSockets = 32): KubeClient {
    const cluster = kc.getCurrentCluster();
    const user = kc.getCurrentUser();
    if (!cluster?.caData || !user?.certData || !user.keyData) throw new Error("KubeClient needs a kubeconfig with embedded CA, client cert and key");
    const dec = (s: string) => Buffer.from(s, "base64");
    return new KubeClient(cluster.server, { ca: dec(cluster.caData), cert: dec(user.certData), key: dec(user.keyData) }, maxSockets);
  }

  request(method: string, path: string, body?: unknown, opts: { contentType?: string; timeoutMs?: number } = {}): Promise<KubeReply> {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const contentType = opts.contentType ?? "application/json";
      const req = request(
        {
          host: this.server.hostname,
          port: this.server.port,
          method,
          path,
          agent: this.agent,
          headers: { accept: "application/json", ...(data ? { "content-type": contentType, "content-length": Buffer.byteLength(data) } : {}) },
          timeout: opts.timeoutMs ?? 60_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: parseBody(Buffer.concat(chunks).toString("utf8")), ms: performance.now() - t0 }));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.on("error", reject);
      req.end(data);
    });
  }

  /** Opens one watch request; `onEvent` gets each decoded event. Returns a function that closes it. */
  watchOnce(path: string, onEvent: (ev: WatchEvent) => void, onEnd: (err?: Error) => void): () => void {
    const req = request({
      host: this.server.hostname,
      port: this.server.port,
      method: "GET",
      path,
      // A dedicated connection: a watch holds its socket for its whole life.
      agent: new Agent({ keepAlive: false, ...this.tls }),
      headers: { accept: "application/json" },
    });
    let closed = false;
    req.on("response", (res) => {
      if (res.statusCode !== 200) {
        onEnd(new Error(`watch ${path}: HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      const ended = (e?: Error): void => {
        if (!closed) onEnd(e ?? new Error(`watch ${path}: stream ended`));
      };
      res.on("error", ended);
      lines.on("error", ended);
      lines.on("line", (line) => {
        if (line.trim()) onEvent(JSON.parse(line) as WatchEvent);
      });
      lines.on("close", () => ended());
    });
    req.on("error", (e) => {
      if (!closed) onEnd(e);
    });
    req.end();
    return () => {
      closed = true;
      req.destroy();
    };
  }

  /**
   * Lists `collection` (retrying while a new CRD's storage does not serve lists yet), feeds every
   * item as ADDED, then watches from the list's resourceVersion. The API server may drop a watch (a
   * slow reader under load): it resumes from the last resourceVersion seen, or relists when that is
   * too old (410 arrives as an ERROR event). `onError` gets a relist that failed; the watch stops then.
   */
  async watch(collection: string, onEvent: (ev: WatchEvent) => void, onError: (e: Error) => void): Promise<ResumingWatch> {
    const state = { lastRv: await this.relist(collection, onEvent), stopped: false, restarts: 0, needRelist: false, close: (): void => undefined };
    const open = (): void => {
      state.close = this.watchOnce(
        `${collection}?watch=true&resourceVersion=${state.lastRv}&allowWatchBookmarks=true`,
        (ev) => {
          if (ev.type === "ERROR") {
            state.needRelist = true;
            return;
          }
          onEvent(ev);
          const rv = (ev.object as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
          if (rv) state.lastRv = rv;
        },
        () => {
          if (state.stopped) return;
          state.restarts++;
          setTimeout(() => void resume(), 100);
        },
      );
    };
    const resume = async (): Promise<void> => {
      if (state.needRelist) {
        try {
          state.lastRv = await this.relist(collection, onEvent, 1);
        } catch (e) {
          onError(e as Error);
          return;
        }
        state.needRelist = false;
      }
      open();
    };
    open();
    return {
      restarts: () => state.restarts,
      stop: () => {
        state.stopped = true;
        state.close();
      },
    };
  }

  /** GETs a collection, feeds its items as ADDED events and returns its resourceVersion. */
  private async relist(collection: string, onEvent: (ev: WatchEvent) => void, attempts = 50): Promise<string> {
    let list = await this.request("GET", collection);
    for (let i = 1; list.status !== 200 && i < attempts; i++) {
      await new Promise((r) => setTimeout(r, 200)); // the CRD can be Established a moment before its storage serves lists
      list = await this.request("GET", collection);
    }
    if (list.status !== 200) throw new Error(`list ${collection}: HTTP ${list.status} ${JSON.stringify(list.body).slice(0, 300)}`);
    const body = list.body as { metadata: { resourceVersion: string }; items: unknown[] };
    for (const item of body.items) onEvent({ type: "ADDED", object: item });
    return body.metadata.resourceVersion;
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface ResumingWatch {
  /** How often the watch was re-opened after the API server ended it. */
  restarts(): number;
  stop(): void;
}

function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}
