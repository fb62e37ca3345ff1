// The benchmark's TLS upstream, in its own process: small POSTs, big downloads, uploads, SSE.
// Usage: upstream.ts CERT KEY  (prints its port)
import { setListenerNoDelay } from "../../lib/proxy/nodelay.ts";

const [certFile, keyFile] = Deno.args;
const zero = new Uint8Array(256 * 1024);
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  cert: await Deno.readTextFile(certFile),
  key: await Deno.readTextFile(keyFile),
  onListen: ({ port }) => {
    // Like most real servers (and veil), no Nagle: otherwise a head and body written apart stall 40 ms.
    setListenerNoDelay(port);
    console.log(port);
  },
}, async (req) => {
  const url = new URL(req.url);
  if (url.pathname === "/small") {
    const body = await req.arrayBuffer();
    return Response.json({ ok: true, got: body.byteLength, auth: req.headers.has("authorization") });
  }
  if (url.pathname === "/download") {
    let left = Number(url.searchParams.get("bytes"));
    const body = new ReadableStream<Uint8Array>({
      type: "bytes",
      pull(c) {
        if (left <= 0) return c.close();
        const n = Math.min(left, zero.length);
        c.enqueue(zero.slice(0, n));
        left -= n;
      },
    });
    return new Response(body, { headers: { "content-type": "application/octet-stream" } });
  }
  if (url.pathname === "/upload") {
    let n = 0;
    for await (const chunk of req.body!) n += chunk.length;
    return Response.json({ got: n });
  }
  if (url.pathname === "/sse") {
    const sentAt = Date.now();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(`data: ${sentAt}\n\n`));
      },
      async pull(c) {
        await new Promise((r) => setTimeout(r, 1000));
        c.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  }
  return new Response("not found", { status: 404 });
});
await server.finished;
