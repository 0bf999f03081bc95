/** Helpers for the runtime integration tests: polling, namespaces, a pausable TCP proxy, etcd compaction. */
import { createServer, type Server, type Socket, connect } from "node:net";
import { once } from "node:events";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { pino, type Logger } from "pino";

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export async function createNamespace(kc: KubeConfig, prefix: string): Promise<{ ns: string; cleanup: () => Promise<void> }> {
  const core = kc.makeApiClient(CoreV1Api);
  const ns = `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  return { ns, cleanup: async () => void (await core.deleteNamespace({ name: ns }).catch(() => undefined)) };
}

/** Log records captured in memory (JSON objects), plus a pino logger writing to them. */
export function captureLogger(level = "debug"): { log: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const log = pino({ level }, { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, records };
}

/**
 * A TCP proxy in front of the API server. `pause()` resets open connections and refuses new ones
 * (the client sees ECONNRESET), `resume()` forwards again. TLS passes through unchanged.
 */
export class PausableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<[Socket, Socket]>();
  private paused = false;
  port = 0;
  connections = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (this.paused) {
        client.destroy();
        return;
      }
      this.connections++;
      const upstream = connect(this.target.port, this.target.host);
      this.sockets.add(client);
      this.sockets.add(upstream);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
      client.pipe(upstream);
      upstream.pipe(client);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      client.on("close", () => this.pairs.delete(pair));
    });
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    const addr = this.server.address();
    if (addr === null || typeof addr === "string") throw new Error("no proxy port");
    this.port = addr.port;
  }

  pause(): void {
    this.paused = true;
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
  }

  /** Silently stops forwarding on the open connections (a hung network path); new ones work. */
  blackhole(): void {
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
    this.pairs.clear();
  }

  resume(): void {
    this.paused = false;
  }

  async stop(): Promise<void> {
    this.pause();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** A copy of `kc` whose current cluster points at this proxy. */
  kubeConfigFor(kc: KubeConfig): KubeConfig {
    const copy = new KubeConfig();
    copy.loadFromString(kc.exportConfig());
    const cluster = copy.getCurrentCluster();
    if (!cluster) throw new Error("no cluster");
    const url = new URL(cluster.server);
    url.port = String(this.port);
    copy.clusters = copy.clusters.map((c) => (c.name === cluster.name ? { ...c, server: url.origin } : c));
    return copy;
  }
}

/** Compacts etcd at its current revision (through etcd's JSON gateway); returns that revision. */
export async function compactEtcd(etcdUrl: string): Promise<number> {
  const range = await fetch(`${etcdUrl}/v3/kv/range`, { method: "POST", body: JSON.stringify({ key: Buffer.from("/").toString("base64") }) });
  const body = (await range.json()) as { header?: { revision?: string } };
  const revision = Number(body.header?.revision);
  if (!revision) throw new Error(`etcd returned no revision: ${JSON.stringify(body)}`);
  const compact = await fetch(`${etcdUrl}/v3/kv/compaction`, { method: "POST", body: JSON.stringify({ revision: String(revision), physical: true }) });
  if (!compact.ok) throw new Error(`etcd compaction failed: HTTP ${compact.status} ${await compact.text()}`);
  return revision;
}
