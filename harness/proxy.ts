/**
 * The harness's TCP pass-through, to break a connection path without touching either end (TLS
 * passes through unchanged):
 *
 *   const proxy = await TcpProxy.start({ host: "127.0.0.1", port: emu.port });   // random port
 *   proxy.url                  // http://127.0.0.1:PORT
 *   await proxy.stop();        // closes the listener and the open connections: clients see ECONNREFUSED
 *   await proxy.start();       // listens on the same port again
 *   proxy.pause();             // resets open connections (ECONNRESET), accepts and closes new ones
 *   proxy.resume();
 *   proxy.blackhole();         // open connections go silent without closing (a hung path); new ones work
 *   proxy.kubeConfigFor(kc)    // a copy of kc whose current cluster points at the proxy
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";

export class TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();
  private paused = false;
  /** Connections forwarded so far. */
  connections = 0;

  private constructor(
    private listenPort: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
    const p = new TcpProxy(port, target);
    await p.start();
    return p;
  }

  get port(): number {
    return this.listenPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.listenPort}`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => this.forward(client));
    await new Promise<void>((res, rej) => {
      server.once("error", rej);
      server.listen(this.listenPort, "127.0.0.1", () => res());
    });
    const addr = server.address();
    if (addr && typeof addr !== "string") this.listenPort = addr.port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((res) => s.close(() => res()));
  }

  pause(): void {
    this.paused = true;
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.pairs.clear();
  }

  resume(): void {
    this.paused = false;
  }

  blackhole(): void {
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  kubeConfigFor(kc: KubeConfig): KubeConfig {
    const copy = new KubeConfig();
    copy.loadFromString(kc.exportConfig());
    const cluster = copy.getCurrentCluster();
    if (!cluster) throw new Error("no cluster");
    const url = new URL(cluster.server);
    url.port = String(this.listenPort);
    copy.clusters = copy.clusters.map((c) => (c.name === cluster.name ? { ...c, server: url.origin } : c));
    return copy;
  }

  private forward(client: Socket): void {
    if (this.paused) {
      client.destroy();
      return;
    }
    this.connections++;
    const upstream = connect(this.target.port, this.target.host);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
