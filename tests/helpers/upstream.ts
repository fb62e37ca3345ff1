// A real TLS upstream on loopback that reports what it received.
import { gzipSync } from "node:zlib";

export interface SeenRequest {
  method: string;
  path: string;
  headers: [string, string][];
  bodyBytes: number;
  bodyChunks: number;
}

export interface EchoUpstream extends AsyncDisposable {
  port: number;
  seen: SeenRequest[];
  /** Bytes of the gzip body /gzip serves, to compare byte for byte. */
  gzipBody: Uint8Array;
}

export const GZIP_TEXT = "veil relays compressed bodies unchanged. ".repeat(50);

/** Bytes that differ everywhere: a shifted, dropped or repeated byte changes any digest of them. */
export function pattern(from: number, length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = ((from + i) * 131 + ((from + i) >> 9)) & 0xff;
  return out;
}

export function startEchoUpstream(tls: { cert: string; key: string }): EchoUpstream {
  const seen: SeenRequest[] = [];
  const gzipBody = new Uint8Array(gzipSync(new TextEncoder().encode(GZIP_TEXT)));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, ...tls, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const protocol = req.headers.get("sec-websocket-protocol")?.split(",")[0]?.trim();
      const auth = req.headers.get("authorization") ?? "";
      seen.push({
        method: req.method,
        path: url.pathname,
        headers: [...req.headers],
        bodyBytes: 0,
        bodyChunks: 0,
      });
      const { socket, response } = Deno.upgradeWebSocket(req, { protocol });
      socket.onopen = () => socket.send(JSON.stringify({ hello: true, authorization: auth }));
      socket.onmessage = (e) => socket.send(e.data);
      return response;
    }
    let bodyBytes = 0;
    let bodyChunks = 0;
    const kept: Uint8Array[] = [];
    if (req.body) {
      for await (const chunk of req.body) {
        bodyBytes += chunk.length;
        bodyChunks++;
        if (url.pathname === "/digest") kept.push(chunk);
      }
    }
    const record = {
      method: req.method,
      path: url.pathname + url.search,
      headers: [...req.headers],
      bodyBytes,
      bodyChunks,
    };
    seen.push(record);
    if (url.pathname === "/digest") {
      // SHA-256 of the body as it arrived: proves a relayed body is byte for byte what was sent.
      const whole = new Uint8Array(bodyBytes);
      kept.reduce((at, c) => (whole.set(c, at), at + c.length), 0);
      const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", whole));
      return Response.json({
        bytes: bodyBytes,
        sha256: [...hash].map((b) => b.toString(16).padStart(2, "0")).join(""),
      });
    }
    if (url.pathname === "/pattern") {
      // PATTERN bytes, in pieces of odd sizes, with or without a Content-Length.
      const n = Number(url.searchParams.get("bytes"));
      let at = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (at >= n) return c.close();
          const size = Math.min(n - at, [100_003, 7, 33_000, 65_536][at % 4]);
          c.enqueue(pattern(at, size));
          at += size;
        },
      });
      const length = url.searchParams.has("length") ? { "content-length": String(n) } : undefined;
      return new Response(body, { headers: { "content-type": "application/octet-stream", ...length } });
    }
    if (url.pathname === "/gzip") {
      return new Response(gzipBody, {
        headers: { "content-type": "text/plain", "content-encoding": "gzip", "x-upstream": "yes" },
      });
    }
    if (url.pathname === "/sse") {
      const encoder = new TextEncoder();
      let i = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (i === 3) return controller.close();
          if (i > 0) await new Promise((r) => setTimeout(r, 300));
          controller.enqueue(encoder.encode(`data: event ${i++} at ${Date.now()}\n\n`));
        },
      });
      return new Response(body, {
        headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
      });
    }
    if (url.pathname === "/reflect") {
      // A debug endpoint that reflects the Authorization header in a header and the body.
      const auth = req.headers.get("authorization") ?? "";
      return new Response(`you sent: ${auth}\n`, {
        headers: { "x-echo": auth, "content-type": "text/plain" },
      });
    }
    if (url.pathname === "/redirect") {
      return new Response(null, { status: 302, headers: { location: "https://other.example.com/landed" } });
    }
    if (url.pathname === "/length") {
      return new Response("x".repeat(100_000), { headers: { "content-type": "text/plain" } });
    }
    if (url.pathname.startsWith("/status/")) {
      return new Response(null, {
        status: Number(url.pathname.slice(8)),
        headers: { location: "https://elsewhere.example/" },
      });
    }
    return Response.json(record, { headers: { "x-upstream": "yes", "set-cookie": "a=1" } });
  });
  return {
    port: server.addr.port,
    seen,
    gzipBody,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
