import { headerOf, readHead } from "./head.ts";
import { closeQuietly, pipeBoth, writeAll } from "./pipe.ts";
import { parseAuthority } from "./target.ts";
import type { Upstream } from "./upstream.ts";

export interface Dialer {
  /** Dials through veil's own rules for reaching upstreams (--connect-to). */
  client: Deno.HttpClient;
  close(): void;
}

/**
 * A CONNECT proxy on loopback, only for veil's own fetch and WebSocket calls, so that
 * they dial where the upstream path would. A random password keeps others out.
 */
export function startDialer(upstream: Upstream): Dialer {
  const password = crypto.randomUUID();
  const expected = "Basic " + btoa(`veil:${password}`);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const handle = async (conn: Deno.Conn) => {
    try {
      const head = await readHead(conn, 16 * 1024, 10_000);
      const target = head && parseAuthority(head.target);
      if (
        !head || head.method !== "CONNECT" || !target || headerOf(head, "proxy-authorization") !== expected
      ) {
        closeQuietly(conn);
        return;
      }
      const dial = upstream.target(target.host, target.port);
      const out = await Deno.connect({ hostname: dial.host, port: dial.port });
      await writeAll(conn, new TextEncoder().encode("HTTP/1.1 200 Connection Established\r\n\r\n"));
      await pipeBoth(conn, out, head.rest);
    } catch {
      closeQuietly(conn);
    }
  };
  (async () => {
    try {
      for await (const conn of listener) handle(conn);
    } catch { /* listener closed */ }
  })();
  const client = Deno.createHttpClient({
    caCerts: upstream.ca,
    proxy: {
      url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
      basicAuth: { username: "veil", password },
    },
  });
  return {
    client,
    close() {
      client.close();
      try {
        listener.close();
      } catch { /* closed */ }
    },
  };
}
