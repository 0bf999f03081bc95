/**
 * A small keep-alive HTTPS client for the benchmark's own Kubernetes traffic (bulk creates, spec
 * patches, one watch), built from an admin kubeconfig with embedded certificates. It reuses
 * connections (the generated client-node APIs open far more), so the benchmark itself stays a
 * light load on the API server.
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

export class BenchKube {
  private readonly agent: Agent;
  private readonly server: URL;

  constructor(kc: KubeConfig, maxSockets = 32) {
    const cluster = kc.getCurrentCluster();
    const user = kc.getCurrentUser();
    if (!cluster?.caData || !user?.certData || !user.keyData) throw new Error("bench needs a kubeconfig with embedded CA, client cert and key");
    const dec = (s: string) => Buffer.from(s, "base64");
    this.agent = new Agent({ keepAlive: true, maxSockets, ca: dec(cluster.caData), cert: dec(user.certData), key: dec(user.keyData) });
    this.server = new URL(cluster.server);
  }

  request(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<KubeReply> {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: this.server.hostname,
          port: this.server.port,
          method,
          path,
          agent: this.agent,
          headers: { accept: "application/json", ...(data ? { "content-type": contentType, "content-length": Buffer.byteLength(data) } : {}) },
          timeout: 60_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // keep text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, ms: performance.now() - t0 });
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.on("error", reject);
      req.end(data);
    });
  }

  /** Opens a watch; `onEvent` gets each decoded event. Returns a function that closes it. */
  watch(path: string, onEvent: (ev: { type: string; object: unknown }) => void, onEnd: (err?: Error) => void): () => void {
    const req = request({
      host: this.server.hostname,
      port: this.server.port,
      method: "GET",
      path,
      // A dedicated connection: a watch holds its socket for its whole life.
      agent: new Agent({ keepAlive: false, ca: this.agent.options.ca, cert: this.agent.options.cert, key: this.agent.options.key }),
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
        if (line.trim()) onEvent(JSON.parse(line) as { type: string; object: unknown });
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

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}
