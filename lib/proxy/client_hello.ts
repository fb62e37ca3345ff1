export type Hello =
  | { kind: "tls"; sni?: string }
  | { kind: "not-tls" }
  | { kind: "incomplete" };

const MAX_RECORD = 16 * 1024 + 5;

/**
 * Reads the server name from the first TLS record of a tunnel (a ClientHello), without
 * consuming it. Anything that does not start like a TLS handshake record is `not-tls`.
 */
export function parseClientHello(buf: Uint8Array): Hello {
  if (buf.length === 0) return { kind: "incomplete" };
  if (buf[0] !== 0x16) return { kind: "not-tls" };
  if (buf.length < 5) return { kind: "incomplete" };
  if (buf[1] !== 0x03) return { kind: "not-tls" };
  const recordLen = (buf[3] << 8) | buf[4];
  if (recordLen === 0 || recordLen + 5 > MAX_RECORD) return { kind: "not-tls" };
  if (buf.length < 5 + recordLen) return { kind: "incomplete" };
  const end = 5 + recordLen;
  let p = 5;
  if (buf[p] !== 0x01) return { kind: "not-tls" };
  p += 4; // handshake type and length
  p += 2 + 32; // client version, random
  const need = (n: number) => p + n <= end;
  if (!need(1)) return { kind: "tls" };
  p += 1 + buf[p]; // session id
  if (!need(2)) return { kind: "tls" };
  p += 2 + ((buf[p] << 8) | buf[p + 1]); // cipher suites
  if (!need(1)) return { kind: "tls" };
  p += 1 + buf[p]; // compression methods
  if (!need(2)) return { kind: "tls" };
  const extEnd = Math.min(end, p + 2 + ((buf[p] << 8) | buf[p + 1]));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = (buf[p] << 8) | buf[p + 1];
    const len = (buf[p + 2] << 8) | buf[p + 3];
    p += 4;
    if (type === 0 && p + 5 <= extEnd && buf[p + 2] === 0) {
      const nameLen = (buf[p + 3] << 8) | buf[p + 4];
      if (p + 5 + nameLen > extEnd) return { kind: "not-tls" };
      return {
        kind: "tls",
        sni: new TextDecoder().decode(buf.subarray(p + 5, p + 5 + nameLen)).toLowerCase(),
      };
    }
    p += len;
  }
  return { kind: "tls" };
}

/** Reads from the connection until the first record can be judged; returns it with the bytes read. */
export async function readClientHello(
  conn: Deno.Conn,
  first: Uint8Array,
  timeoutMs: number,
): Promise<{ hello: Hello; bytes: Uint8Array }> {
  let bytes = first;
  let hello = parseClientHello(bytes);
  const chunk = new Uint8Array(MAX_RECORD);
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  try {
    while (hello.kind === "incomplete") {
      const n = await conn.read(chunk).catch(() => null);
      if (n === null) return { hello: { kind: "not-tls" }, bytes };
      const next = new Uint8Array(bytes.length + n);
      next.set(bytes);
      next.set(chunk.subarray(0, n), bytes.length);
      bytes = next;
      hello = parseClientHello(bytes);
    }
    return { hello, bytes };
  } finally {
    clearTimeout(timer);
  }
}
