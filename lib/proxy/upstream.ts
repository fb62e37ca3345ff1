import { type BodySource, Http1Client, type Http1Response } from "./http1.ts";

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
  /** Extra roots for upstream TLS, beside the default ones. */
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
  /** Counts the request body's bytes as they are sent. */
  sent?: { bytes: number };
}

export class UpstreamError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

const TLS_ERRORS = /certificate|CERT|TLS|SSL|handshake|peer|UnknownIssuer|NotValidForName|BadSignature/i;
const CONNECT_ERRORS =
  /refused|unreachable|timed out|reset|ECONN|EHOST|ENET|ETIMEDOUT|broken pipe|not connected/i;

export function classify(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const e = err as { name?: string; message?: string };
  const text = `${e.name ?? ""} ${e.message ?? String(err)}`;
  if (TLS_ERRORS.test(text)) return new UpstreamError("upstream-tls-error", e.message ?? "TLS failure");
  if (CONNECT_ERRORS.test(text) || err instanceof Deno.errors.ConnectionRefused) {
    return new UpstreamError("upstream-connect-failed", e.message ?? "connect failed");
  }
  return new UpstreamError("upstream-error", e.message ?? String(err));
}

/** Sends requests upstream, relaying bytes unchanged (see http1.ts). */
export class Upstream {
  /** The extra roots alone: Deno's TLS, fetch and WebSocket add them to the default store. */
  readonly extraCa: string[];
  private readonly client: Http1Client;

  constructor(options: UpstreamOptions) {
    this.extraCa = options.extraCaPems;
    this.client = new Http1Client(options.extraCaPems);
  }

  request(req: UpstreamRequest): Promise<Http1Response> {
    return this.client.request(req);
  }

  close(): void {
    this.client.close();
  }
}

/** Response headers to relay: the upstream's own, minus hop-by-hop ones. */
export function relayedHeaders(fields: [string, string][]): [string, string][] {
  const listed = new Set(
    fields.filter(([n]) => n === "connection").flatMap(([, v]) =>
      v.toLowerCase().split(",").map((s) => s.trim())
    ),
  );
  return fields.filter(([name]) => !HOP_BY_HOP.has(name) && !listed.has(name));
}

/** The one stream the client reads: pieces off the upstream, counted, transformed, and told once when it ends. */
export function relayBody(
  source: BodySource,
  onEnd: (bytes: number, error?: unknown) => void,
  transform?: { push(chunk: Uint8Array): Uint8Array; flush(): Uint8Array },
): ReadableStream<Uint8Array> {
  let bytes = 0;
  let ended = false;
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    onEnd(bytes, error);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        while (true) {
          const value = await source.next();
          if (value === null) {
            const rest = transform?.flush();
            if (rest?.length) controller.enqueue(rest);
            end();
            controller.close();
            return;
          }
          bytes += value.length;
          const out = transform ? transform.push(value) : value;
          if (out.length) {
            controller.enqueue(out);
            return;
          }
        }
      } catch (err) {
        end(err);
        controller.error(err);
      }
    },
    cancel() {
      end(new Error("client went away"));
      source.cancel();
    },
  });
}

/** Reads a whole (small) body into one buffer. */
export async function readAll(source: BodySource): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let part = await source.next(); part !== null; part = await source.next()) {
    parts.push(part);
    size += part.length;
  }
  if (parts.length === 1 && parts[0].byteOffset === 0 && parts[0].length === parts[0].buffer.byteLength) {
    return parts[0] as Uint8Array<ArrayBuffer>;
  }
  const whole = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.length;
  }
  return whole;
}
