import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { Buffer } from "node:buffer";
import type { IncomingMessage } from "node:http";

/** Headers that describe one hop, never relayed (RFC 9110 7.6.1, plus proxy ones). */
export const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
]);

export interface ConnectTo {
  host: string;
  port: number;
}

export interface UpstreamOptions {
  /** Extra roots for upstream TLS, beside the system's. */
  extraCaPems: string[];
}

export interface UpstreamRequest {
  scheme: "http" | "https";
  host: string;
  port: number;
  /** The checked address to connect to (never resolved again). */
  dial: ConnectTo;
  method: string;
  /** Path and query as sent upstream. */
  path: string;
  headers: [string, string][];
  body: ReadableStream<Uint8Array> | Uint8Array | null;
  signal?: AbortSignal;
}

export class UpstreamError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME|HOSTNAME|TLS|SSL|ISSUER|SIGNATURE/i;

export function classify(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const e = err as { code?: string; message?: string };
  const text = `${e.code ?? ""} ${e.message ?? ""}`;
  if (TLS_CODES.test(text)) return new UpstreamError("upstream-tls-error", e.message ?? "TLS failure");
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ETIMEDOUT|ECONNRESET/.test(text)) {
    return new UpstreamError("upstream-connect-failed", e.message ?? "connect failed");
  }
  return new UpstreamError("upstream-error", e.message ?? String(err));
}

/**
 * node's Agent names its pools from the connection options, `ca` included: with the system's
 * roots that is a string of ~200 KB built on every request. All of veil's requests share one
 * trust store, so the address and the name verified are the whole key.
 */
class PoolAgent extends https.Agent {
  override getName(options: { host?: string; port?: number | string; servername?: string }): string {
    return `${options.host}:${options.port}:${options.servername ?? ""}`;
  }
}

/**
 * Sends requests upstream with node:http(s), which relays bytes unchanged
 * (unlike fetch, which adds headers and decompresses bodies).
 */
export class Upstream {
  /** The extra roots alone: Deno's fetch and WebSocket add them to the default store. */
  readonly extraCa: string[];
  private readonly httpsAgent: https.Agent;
  private readonly httpAgent: http.Agent;

  constructor(options: UpstreamOptions) {
    this.extraCa = options.extraCaPems;
    // node's `ca` replaces the default roots, so extra roots come with the system's; without
    // extras veil leaves `ca` out, which also spares parsing ~150 roots on every new connection.
    const ca = options.extraCaPems.length ? [...tls.rootCertificates, ...options.extraCaPems] : undefined;
    // noDelay: a request's head and body go out as separate writes; Nagle would hold the second.
    this.httpsAgent = new PoolAgent({ keepAlive: true, ca, maxSockets: Infinity, noDelay: true });
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity, noDelay: true });
  }

  request(req: UpstreamRequest): Promise<IncomingMessage> {
    const dial = req.dial;
    const secure = req.scheme === "https";
    const headers: Record<string, string> = {};
    for (const [name, value] of req.headers) {
      const prior = headers[name];
      headers[name] = prior === undefined ? value : `${prior}${name === "cookie" ? "; " : ", "}${value}`;
    }
    return new Promise((resolve, reject) => {
      const options = {
        host: dial.host,
        port: dial.port,
        method: req.method,
        path: req.path,
        headers,
        agent: secure ? this.httpsAgent : this.httpAgent,
        servername: secure && !isIp(req.host) ? req.host : undefined,
        signal: req.signal,
        setHost: false,
      };
      const outgoing = (secure ? https : http).request(options, resolve);
      outgoing.on("error", (err) => reject(classify(err)));
      if (req.body === null || req.body instanceof Uint8Array) {
        outgoing.end(
          req.body ? Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength) : undefined,
        );
        return;
      }
      pump(req.body, outgoing).catch((err) => outgoing.destroy(err));
    });
  }

  close(): void {
    this.httpsAgent.destroy();
    this.httpAgent.destroy();
  }
}

function isIp(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");
}

async function pump(body: ReadableStream<Uint8Array>, out: http.ClientRequest): Promise<void> {
  for await (const chunk of body) {
    if (!out.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
      await new Promise<void>((resolve, reject) => {
        out.once("drain", resolve);
        out.once("error", reject);
      });
    }
  }
  out.end();
}

/** Response headers to relay: the upstream's own, minus hop-by-hop ones. */
export function relayedHeaders(res: IncomingMessage): Headers {
  const connectionListed = new Set(
    String(res.headers.connection ?? "").toLowerCase().split(",").map((s) => s.trim()),
  );
  const out = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || connectionListed.has(name)) continue;
    out.append(name, raw[i + 1]);
  }
  return out;
}

/** A small response body, whole. */
export function readWhole(res: IncomingMessage): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => {
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      resolve(new Uint8Array(all.buffer as ArrayBuffer, all.byteOffset, all.byteLength));
    });
    res.on("error", reject);
    res.on("aborted", () => reject(new Error("upstream aborted")));
  });
}

/** The response body as a web stream, with backpressure, counting bytes. */
export function bodyStream(
  res: IncomingMessage,
  onEnd: (bytes: number, error?: unknown) => void,
): ReadableStream<Uint8Array> {
  let bytes = 0;
  let done = false;
  const finish = (error?: unknown) => {
    if (done) return;
    done = true;
    onEnd(bytes, error);
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) res.pause();
      });
      res.on("end", () => {
        finish();
        controller.close();
      });
      res.on("error", (err) => {
        finish(err);
        controller.error(err);
      });
      res.on("aborted", () => finish(new Error("upstream aborted")));
    },
    pull() {
      res.resume();
    },
    cancel() {
      finish(new Error("client went away"));
      res.destroy();
    },
  }, { highWaterMark: 4 });
}
