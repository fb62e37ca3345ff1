// Raw sockets for the attack tests: hand-written requests, read until the peer answers or closes.
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function readSome(conn: Deno.Conn, timeoutMs = 3000): Promise<string> {
  const buf = new Uint8Array(65536);
  let out = "";
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  try {
    while (!/\r\n\r\n/.test(out)) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      out += decoder.decode(buf.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** Sends bytes on a new connection and returns what came back before the answer's head ended. */
export async function rawExchange(
  port: number,
  data: string | Uint8Array,
  timeoutMs = 3000,
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(typeof data === "string" ? encoder.encode(data) : data).catch(() => {});
    return await readSome(conn, timeoutMs);
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

export function basicAuth(token: string): string {
  return `Proxy-Authorization: Basic ${btoa(`proxy:${token}`)}\r\n`;
}

/** Opens an allowed tunnel by hand and returns the connection after the 200. */
export async function openTunnel(port: number, token: string, authority: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    encoder.encode(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${basicAuth(token)}\r\n`),
  );
  const head = await readSome(conn);
  if (!head.startsWith("HTTP/1.1 200")) throw new Error(`tunnel refused: ${head}`);
  return conn;
}

/** A listener that must never see a connection. */
export function trap(): { port: number; hits: () => number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let hits = 0;
  (async () => {
    try {
      for await (const c of listener) {
        hits++;
        c.close();
      }
    } catch { /* closed */ }
  })();
  return { port: (listener.addr as Deno.NetAddr).port, hits: () => hits, close: () => listener.close() };
}
