import { DestinationError, type Destinations, type Dial } from "./destinations.ts";
import { headerOf, readHead } from "./head.ts";
import { closeQuietly, pipeBoth, writeAll } from "./pipe.ts";
import { parseAuthority } from "./target.ts";

export interface Dialer {
  /** An HttpClient whose connections go where veil's checks say. */
  client: Deno.HttpClient;
  /** Makes the next dials of HOST:PORT use an address already chosen (a tunnel's). */
  pin(host: string, port: number, dial: Dial): () => void;
  close(): void;
}

/**
 * A CONNECT proxy on loopback, only for veil's own fetch and WebSocket calls, so that they
 * dial like proxied traffic (--connect-to, private-destination checks). A random password
 * keeps others out.
 */
export function startDialer(destinations: Destinations, caCerts: string[]): Dialer {
  const password = crypto.randomUUID();
  const expected = "Basic " + btoa(`veil:${password}`);
  const pins = new Map<string, Dial[]>();
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
      let dial = pins.get(`${target.host}:${target.port}`)?.at(-1);
      try {
        dial ??= await destinations.pick(target.host, target.port);
      } catch (err) {
        const reason = err instanceof DestinationError ? err.reason : "upstream-connect-failed";
        await writeAll(conn, new TextEncoder().encode(`HTTP/1.1 403 ${reason}\r\ncontent-length: 0\r\n\r\n`));
        closeQuietly(conn);
        return;
      }
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
    caCerts,
    proxy: {
      url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
      basicAuth: { username: "veil", password },
    },
  });
  return {
    client,
    pin(host, port, dial) {
      const key = `${host}:${port}`;
      const list = pins.get(key) ?? [];
      list.push(dial);
      pins.set(key, list);
      return () => {
        list.splice(list.indexOf(dial), 1);
        if (list.length === 0) pins.delete(key);
      };
    },
    close() {
      client.close();
      try {
        listener.close();
      } catch { /* closed */ }
    },
  };
}
