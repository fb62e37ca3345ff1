// A small HTTP/1.1 client on Deno's own TCP and TLS, for relaying upstream: bytes pass as they
// are (no added headers, no decompression, unlike fetch), TCP_NODELAY is on, and extra roots
// add to the default ones (node:tls makes every new connection walk the whole root store).
import { writeAll } from "./pipe.ts";
import { classify, type UpstreamRequest } from "./upstream.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("latin1");
const MAX_HEAD = 64 * 1024;
/** TLS reads return at most about one record (16 KiB) whatever the buffer's size. */
const READ = 32 * 1024;
/** Idle pooled connections are dropped before servers' usual 5 s keep-alive timeout. */
const IDLE_MS = 4000;
const CONNECT_TIMEOUT_MS = 30_000;
/** Request bodies are read up to this much at a time, with room before for a chunk-size line. */
const BODY_READ = 64 * 1024;
const FRAME_ROOM = 16;

/**
 * A response body read straight off the connection, one piece at a time: the caller wraps it in
 * the one stream the client sees (or reads it whole), so no stream sits between.
 */
export interface BodySource {
  /** The next piece, or null at the end; throws when the upstream breaks off. */
  next(): Promise<Uint8Array | null>;
  /** Gives up on the rest (the connection is not reused). */
  cancel(): void;
}

export interface Http1Response {
  status: number;
  headers: [string, string][];
  /** Null for HEAD, 204, 304. */
  body: BodySource | null;
}

/** A connection with its own read buffer. */
class Wire {
  private buf = new Uint8Array(0);
  /** Reads land here and are copied out: a fresh zeroed buffer per read cost more than the copy. */
  private readonly scratch = new Uint8Array(READ);
  idleSince = 0;

  constructor(readonly conn: Deno.Conn) {}

  private async fill(): Promise<boolean> {
    const n = await this.conn.read(this.scratch);
    if (n === null) return false;
    const chunk = this.scratch.subarray(0, n);
    if (this.buf.length === 0) {
      this.buf = chunk.slice();
    } else {
      const next = new Uint8Array(this.buf.length + n);
      next.set(this.buf);
      next.set(chunk.subarray(0, n), this.buf.length);
      this.buf = next;
    }
    return true;
  }

  /** Bytes up to and including CRLF CRLF (a head) or CRLF (a line). */
  async until(terminator: "head" | "line", max = MAX_HEAD): Promise<string | null> {
    let from = 0;
    while (true) {
      const end = terminator === "head" ? indexOfHeadEnd(this.buf, from) : indexOfCrlf(this.buf, from);
      if (end >= 0) {
        const len = end + (terminator === "head" ? 4 : 2);
        const text = decoder.decode(this.buf.subarray(0, end));
        this.buf = this.buf.subarray(len);
        return text;
      }
      from = Math.max(0, this.buf.length - 3);
      if (this.buf.length > max) throw new Error("upstream head too large");
      if (!(await this.fill())) return null;
    }
  }

  /** Up to `max` bytes, as soon as any are there; null at the end of the stream. */
  async some(max: number): Promise<Uint8Array | null> {
    if (this.buf.length === 0 && !(await this.fill())) return null;
    const n = Math.min(max, this.buf.length);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  get buffered(): number {
    return this.buf.length;
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

function indexOfHeadEnd(b: Uint8Array, from: number): number {
  for (let i = b.indexOf(13, from); i !== -1 && i + 3 < b.length; i = b.indexOf(13, i + 1)) {
    if (b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

function indexOfCrlf(b: Uint8Array, from: number): number {
  for (let i = b.indexOf(13, from); i !== -1 && i + 1 < b.length; i = b.indexOf(13, i + 1)) {
    if (b[i + 1] === 10) return i;
  }
  return -1;
}

export class Http1Client {
  private pools = new Map<string, Wire[]>();
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(private readonly caCerts: string[]) {
    // Idle connections to hosts that are not asked again are closed, not kept forever.
    this.sweeper = setInterval(() => this.sweep(), IDLE_MS);
    Deno.unrefTimer(this.sweeper);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, pool] of this.pools) {
      const keep = pool.filter((w) => now - w.idleSince < IDLE_MS || (w.close(), false));
      if (keep.length) this.pools.set(key, keep);
      else this.pools.delete(key);
    }
  }

  private async connect(req: UpstreamRequest): Promise<Wire> {
    const signal = AbortSignal.timeout(CONNECT_TIMEOUT_MS);
    const tcp = await Deno.connect({ hostname: req.dial.host, port: req.dial.port, signal });
    tcp.setNoDelay(true);
    if (req.scheme === "http") return new Wire(tcp);
    try {
      const tls = await Deno.startTls(tcp, {
        hostname: req.host,
        caCerts: this.caCerts,
        alpnProtocols: ["http/1.1"],
      });
      await tls.handshake();
      return new Wire(tls);
    } catch (err) {
      try {
        tcp.close();
      } catch { /* closed */ }
      throw err;
    }
  }

  private key(req: UpstreamRequest): string {
    return `${req.scheme}:${req.dial.host}:${req.dial.port}:${req.host}`;
  }

  private take(key: string): Wire | undefined {
    const pool = this.pools.get(key);
    while (pool?.length) {
      const wire = pool.pop()!;
      if (Date.now() - wire.idleSince < IDLE_MS && wire.buffered === 0) return wire;
      wire.close();
    }
    return undefined;
  }

  private give(key: string, wire: Wire): void {
    wire.idleSince = Date.now();
    const pool = this.pools.get(key) ?? [];
    pool.push(wire);
    this.pools.set(key, pool);
  }

  async request(req: UpstreamRequest): Promise<Http1Response> {
    const replayable = !(req.body instanceof ReadableStream);
    const key = this.key(req);
    const pooled = this.take(key);
    if (pooled) {
      try {
        return await this.exchange(pooled, req, key);
      } catch (err) {
        pooled.close();
        // A pooled connection the server had already closed: try once more on a fresh one.
        if (!replayable || !(err instanceof StaleConnection)) throw classify(err);
      }
    }
    let wire: Wire;
    try {
      wire = await this.connect(req);
    } catch (err) {
      throw classify(err);
    }
    try {
      return await this.exchange(wire, req, key);
    } catch (err) {
      wire.close();
      throw classify(err instanceof StaleConnection ? err.cause : err);
    }
  }

  private async exchange(wire: Wire, req: UpstreamRequest, key: string): Promise<Http1Response> {
    const headers = req.headers.filter(([n]) => n !== "content-length" && n !== "transfer-encoding");
    const given = req.headers.find(([n]) => n === "content-length")?.[1];
    let framing = "";
    if (req.body instanceof Uint8Array) framing = `content-length: ${req.body.length}\r\n`;
    else if (req.body && given !== undefined) framing = `content-length: ${given}\r\n`;
    else if (req.body) framing = "transfer-encoding: chunked\r\n";
    else if (given !== undefined) framing = `content-length: ${given}\r\n`;
    const head = `${req.method} ${req.path} HTTP/1.1\r\n` +
      headers.map(([n, v]) => `${n}: ${v}\r\n`).join("") + framing + "\r\n";
    const headBytes = encoder.encode(head);
    try {
      if (req.body instanceof Uint8Array) {
        const all = new Uint8Array(headBytes.length + req.body.length);
        all.set(headBytes);
        all.set(req.body, headBytes.length);
        await writeAll(wire.conn, all);
      } else {
        await writeAll(wire.conn, headBytes);
      }
    } catch (err) {
      throw new StaleConnection(err);
    }
    const sending = req.body instanceof ReadableStream
      ? this.sendBody(wire, req.body, framing.startsWith("transfer"), req.sent)
      : undefined;
    sending?.catch(() => wire.close());

    let status: number;
    let fields: [string, string][];
    let first = true;
    while (true) {
      const text = await wire.until("head");
      if (text === null) {
        throw first
          ? new StaleConnection(new Error("upstream closed the connection"))
          : new Error("upstream closed the connection");
      }
      first = false;
      const lines = text.split("\r\n");
      // The reason phrase is not kept: the server veil answers with sends the standard one.
      const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]);
      if (!m) throw new Error("upstream sent a malformed status line");
      status = Number(m[1]);
      fields = [];
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        if (colon <= 0) throw new Error("upstream sent a malformed header");
        fields.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
      }
      // Interim answers (100 Continue, 103 Early Hints) are not relayed; 101 is handled elsewhere.
      if (status >= 200 || status === 101) break;
    }
    const get = (name: string) => fields.filter(([n]) => n === name).map(([, v]) => v);
    const closing = get("connection").some((v) => /\bclose\b/i.test(v));
    const chunked = get("transfer-encoding").some((v) => /\bchunked\b/i.test(v));
    const lengthText = get("content-length")[0];
    const noBody = req.method === "HEAD" || status === 204 || status === 205 || status === 304;
    const release = (reusable: boolean) => {
      if (reusable && !closing) {
        sending ? sending.then(() => this.give(key, wire), () => wire.close()) : this.give(key, wire);
      } else wire.close();
    };
    if (noBody) {
      release(true);
      return { status, headers: fields, body: null };
    }
    const body = chunked
      ? chunkedBody(wire, release)
      : lengthText !== undefined
      ? lengthBody(wire, Number(lengthText), release)
      : lengthBody(wire, Infinity, release);
    return { status, headers: fields, body };
  }

  /** Sends a request body as it arrives, each piece framed in place when chunked. */
  private async sendBody(
    wire: Wire,
    body: ReadableStream<Uint8Array>,
    chunked: boolean,
    sent?: { bytes: number },
  ): Promise<void> {
    const pieces = framedPieces(body);
    try {
      for (let piece = await pieces.next(); piece; piece = await pieces.next()) {
        if (sent) sent.bytes += piece.length;
        await writeAll(wire.conn, chunked ? chunkFrame(piece) : piece);
      }
    } catch (err) {
      // The upstream went away: stop reading what the client still sends.
      pieces.cancel();
      throw err;
    }
    if (chunked) await writeAll(wire.conn, encoder.encode("0\r\n\r\n"));
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const pool of this.pools.values()) for (const w of pool) w.close();
    this.pools.clear();
  }
}

/**
 * A body's pieces, each a view with FRAME_ROOM free bytes before it and 2 after in its buffer, so
 * that chunkFrame can frame it in place. Byte streams (what Deno.serve gives) are read BYOB into one
 * reused buffer, up to 64 KiB at a time, without a copy; other streams' chunks are copied in.
 */
function framedPieces(body: ReadableStream<Uint8Array>): {
  next(): Promise<Uint8Array | null>;
  cancel(): void;
} {
  let buffer = new ArrayBuffer(FRAME_ROOM + BODY_READ + 2);
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch { /* not a byte stream */ }
  const reader = byob ?? body.getReader();
  return {
    async next() {
      while (true) {
        if (byob) {
          const { value, done } = await byob.read(new Uint8Array(buffer, FRAME_ROOM, BODY_READ));
          if (done || !value) return null;
          buffer = value.buffer as ArrayBuffer;
          if (value.length) return value;
          continue;
        }
        const { value, done } = await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
        if (done) return null;
        if (!value.length) continue;
        if (buffer.byteLength < FRAME_ROOM + value.length + 2) {
          buffer = new ArrayBuffer(FRAME_ROOM + value.length + 2);
        }
        const piece = new Uint8Array(buffer, FRAME_ROOM, value.length);
        piece.set(value);
        return piece;
      }
    },
    cancel: () => void reader.cancel().catch(() => {}),
  };
}

/** One chunk of a chunked body: its size line and CRLF written around the piece, in its buffer. */
function chunkFrame(piece: Uint8Array): Uint8Array {
  const size = encoder.encode(piece.length.toString(16) + "\r\n");
  const frame = new Uint8Array(piece.buffer, piece.byteOffset - size.length, size.length + piece.length + 2);
  frame.set(size);
  frame.set([13, 10], size.length + piece.length);
  return frame;
}

/** The failure of a reused connection before anything came back: safe to try again. */
class StaleConnection extends Error {
  constructor(override readonly cause: unknown) {
    super("stale connection");
  }
}

/** The end of a body: the connection is released once, reusable or not. */
function ending(release: (reusable: boolean) => void): { ended: boolean; end(reusable: boolean): void } {
  const state = {
    ended: false,
    end(reusable: boolean) {
      if (state.ended) return;
      state.ended = true;
      release(reusable);
    },
  };
  return state;
}

function lengthBody(wire: Wire, length: number, release: (reusable: boolean) => void): BodySource {
  let left = length;
  const state = ending(release);
  const end = state.end;
  return {
    async next() {
      if (state.ended) return null;
      if (left <= 0) {
        end(true);
        return null;
      }
      const data = await wire.some(Math.min(left, READ)).catch(() => null);
      if (data === null) {
        end(false);
        // Close-delimited bodies end here; a short Content-Length one is an error.
        if (length === Infinity) return null;
        throw new Error("upstream closed before the end of the body");
      }
      left -= data.length;
      if (left <= 0) end(true);
      return data;
    },
    cancel: () => end(false),
  };
}

function chunkedBody(wire: Wire, release: (reusable: boolean) => void): BodySource {
  let left = 0;
  const state = ending(release);
  const end = state.end;
  return {
    async next() {
      if (state.ended) return null;
      try {
        if (left === 0) {
          const line = await wire.until("line", 4096);
          if (line === null) throw new Error("upstream closed inside a chunked body");
          left = parseInt(line.split(";")[0].trim(), 16);
          if (!Number.isFinite(left) || left < 0) throw new Error("upstream sent a malformed chunk size");
          if (left === 0) {
            // Trailers, then the empty line that ends the body.
            while ((await wire.until("line", 16 * 1024)) !== "") { /* trailers are not relayed */ }
            end(true);
            return null;
          }
        }
        const data = await wire.some(left);
        if (data === null) throw new Error("upstream closed inside a chunk");
        left -= data.length;
        if (left === 0 && (await wire.until("line", 2)) !== "") {
          throw new Error("upstream chunk not followed by CRLF");
        }
        return data;
      } catch (err) {
        end(false);
        throw err;
      }
    },
    cancel: () => end(false),
  };
}
