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
    if (req.body) {
      for await (const chunk of req.body) {
        bodyBytes += chunk.length;
        bodyChunks++;
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
