import type { LeafMinter } from "../tls/leaf.ts";
import { setListenerNoDelay } from "./nodelay.ts";

export type InterceptHandler = (req: Request, serverPort: number, remotePort: number) => Promise<Response>;

interface Interceptor {
  port: number;
  server: Deno.HttpServer<Deno.NetAddr>;
}

/**
 * One internal TLS server per intercepted host, holding a leaf minted for it,
 * created on first use and cached; the least recently used is shut down past `max`.
 */
export class Interceptors {
  private servers = new Map<string, Promise<Interceptor>>();

  constructor(
    private readonly minter: LeafMinter,
    private readonly handler: InterceptHandler,
    private readonly max = 256,
  ) {}

  async port(host: string): Promise<number> {
    let entry = this.servers.get(host);
    if (entry) {
      this.servers.delete(host);
      this.servers.set(host, entry);
    } else {
      entry = this.start(host);
      this.servers.set(host, entry);
      entry.catch(() => this.servers.delete(host));
      this.evict();
    }
    return (await entry).port;
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

  private evict(): void {
    while (this.servers.size > this.max) {
      const [host, oldest] = this.servers.entries().next().value!;
      this.servers.delete(host);
      oldest.then((i) => i.server.shutdown()).catch(() => {});
    }
  }

  async close(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.allSettled(all.map(async (p) => (await p).server.shutdown()));
  }
}
