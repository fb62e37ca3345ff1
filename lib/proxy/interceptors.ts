import type { LeafMinter } from "../tls/leaf.ts";
import { setListenerNoDelay } from "./nodelay.ts";

export type InterceptHandler = (req: Request, serverPort: number, remotePort: number) => Promise<Response>;

interface Interceptor {
  port: number;
  server: Deno.HttpServer<Deno.NetAddr>;
}

interface Entry {
  server: Promise<Interceptor>;
  /** Tunnels piped to it now. */
  tunnels: number;
  lastUsed: number;
}

/** How long a server with no tunnel is kept for its host: each holds a socket and ~64 KiB. */
const IDLE_MS = 10 * 60_000;

/**
 * One internal TLS server per intercepted host, holding a leaf minted for it, created on first
 * use and cached; the least recently used is shut down past `max`, and any left without a tunnel
 * for `idleMs`.
 */
export class Interceptors {
  private entries = new Map<string, Entry>();
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(
    private readonly minter: LeafMinter,
    private readonly handler: InterceptHandler,
    private readonly max = 256,
    private readonly idleMs = IDLE_MS,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(idleMs, 60_000));
    Deno.unrefTimer(this.sweeper);
  }

  /** This host's server, for one more tunnel: its port, and `release` for when the tunnel ends. */
  async acquire(host: string): Promise<{ port: number; release(): void }> {
    let entry = this.entries.get(host);
    if (entry) {
      this.entries.delete(host);
      this.entries.set(host, entry);
    } else {
      const started: Entry = { server: this.start(host), tunnels: 0, lastUsed: 0 };
      this.entries.set(host, started);
      started.server.catch(() => this.entries.get(host) === started && this.entries.delete(host));
      this.evict();
      entry = started;
    }
    const used = entry;
    used.tunnels++;
    used.lastUsed = Date.now();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      used.tunnels--;
      used.lastUsed = Date.now();
    };
    try {
      return { port: (await used.server).port, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** How many servers are running (for tests). */
  get size(): number {
    return this.entries.size;
  }

  private async start(host: string): Promise<Interceptor> {
    const leaf = await this.minter.mint([host]);
    let port = 0;
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      cert: leaf.certPem,
      key: leaf.keyPem,
      onListen() {},
      onError: () => new Response("veil: internal error\n", { status: 500 }),
    }, (req, info) => this.handler(req, port, (info.remoteAddr as Deno.NetAddr).port));
    port = server.addr.port;
    setListenerNoDelay(port);
    return { port, server };
  }

  private shutDown(host: string, entry: Entry): void {
    this.entries.delete(host);
    entry.server.then((i) => i.server.shutdown()).catch(() => {});
  }

  private evict(): void {
    while (this.entries.size > this.max) {
      const [host, oldest] = this.entries.entries().next().value!;
      this.shutDown(host, oldest);
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [host, entry] of this.entries) {
      if (entry.tunnels === 0 && now - entry.lastUsed >= this.idleMs) this.shutDown(host, entry);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.allSettled(all.map(async (e) => (await e.server).server.shutdown()));
  }
}
