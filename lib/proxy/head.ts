/** A request head as read off the front door, before any HTTP library sees it. */
export interface RequestHead {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  /** Bytes read past the end of the head (the start of a body or a TLS hello). */
  rest: Uint8Array;
  /** The head's raw bytes, for replaying to an internal server. */
  raw: Uint8Array;
}

export class HeadError extends Error {
  constructor(readonly status: number, readonly reason: string) {
    super(reason);
  }
}

const CRLFCRLF = [13, 10, 13, 10];
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const decoder = new TextDecoder("latin1");

function findEnd(buf: Uint8Array, from: number): number {
  for (let i = Math.max(0, from - 3); i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

/**
 * Reads one request head from a connection: at most maxBytes, within timeoutMs.
 * Returns null when the peer closes before sending anything.
 */
export async function readHead(
  conn: Deno.Conn,
  maxBytes: number,
  timeoutMs: number,
): Promise<RequestHead | null> {
  let buf = new Uint8Array(0);
  const chunk = new Uint8Array(16 * 1024);
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* already closed */ }
  }, timeoutMs);
  try {
    while (true) {
      let n: number | null;
      try {
        n = await conn.read(chunk);
      } catch {
        n = null;
      }
      if (n === null) {
        if (buf.length === 0) return null;
        throw new HeadError(400, "incomplete-request");
      }
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(chunk.subarray(0, n), buf.length);
      const end = findEnd(next, buf.length);
      buf = next;
      if (end >= 0) {
        if (end > maxBytes) throw new HeadError(431, "head-too-large");
        return parseHead(buf.subarray(0, end + CRLFCRLF.length), buf.slice(end + CRLFCRLF.length));
      }
      if (buf.length > maxBytes) throw new HeadError(431, "head-too-large");
    }
  } finally {
    clearTimeout(timer);
  }
}

export function parseHead(raw: Uint8Array, rest: Uint8Array): RequestHead {
  const text = decoder.decode(raw.subarray(0, raw.length - 4));
  const lines = text.split("\r\n");
  const requestLine = lines[0].split(" ");
  if (requestLine.length !== 3) throw new HeadError(400, "bad-request-line");
  const [method, target, version] = requestLine;
  if (!TOKEN.test(method) || !/^HTTP\/1\.[01]$/.test(version) || target.length === 0) {
    throw new HeadError(400, "bad-request-line");
  }
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new HeadError(400, "bad-header");
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new HeadError(400, "bad-header");
    const value = line.slice(colon + 1).trim();
    if (/[\0\r\n]/.test(value)) throw new HeadError(400, "bad-header");
    headers.push([name.toLowerCase(), value]);
  }
  return { method, target, version, headers, rest, raw };
}

export function headerOf(head: RequestHead, name: string): string | undefined {
  return head.headers.find(([n]) => n === name)?.[1];
}
