// The upstream client's framing: bodiless answers, lengths, chunks, and connections that go stale.
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { curl } from "./helpers/veil.ts";
import { pattern } from "./helpers/upstream.ts";
import { world } from "./helpers/world.ts";
import { Http1Client } from "../lib/proxy/http1.ts";
import { readAll } from "../lib/proxy/upstream.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };

Deno.test("HEAD, 204, 304 and large bodies keep their framing", sanitize, async () => {
  await using w = await world();
  const head = await curl([...w.viaTls(), "--http1.1", "-I", "https://llama.example.com/length"]);
  assertEquals(head.status, 200);
  assertMatch(head.headers, /content-length: 100000/i);
  for (const code of [204, 304]) {
    const r = await curl([...w.viaTls(), "--http1.1", `https://llama.example.com/status/${code}`]);
    assertEquals(r.status, code);
    assertEquals(r.bodyBytes.length, 0);
  }
  const big = await curl([...w.viaTls(), "--http1.1", "https://llama.example.com/length"]);
  assertEquals(big.body, "x".repeat(100_000));
  assertMatch(big.headers, /content-length: 100000/i);
  const redirect = await curl([...w.viaTls(), "https://llama.example.com/status/302"]);
  assertEquals(redirect.status, 302);
});

Deno.test("a pooled upstream connection the server closed is replaced, not failed", sanitize, async () => {
  await using w = await world([]);
  // An upstream that says keep-alive, then closes each connection soon after answering.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  let connections = 0;
  const handlers: Promise<void>[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      connections++;
      handlers.push((async () => {
        const buf = new Uint8Array(4096);
        let head = "";
        while (!head.includes("\r\n\r\n")) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) return conn.close();
          head += new TextDecoder().decode(buf.subarray(0, n));
        }
        await conn.write(
          new TextEncoder().encode(
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
          ),
        );
        await new Promise((r) => setTimeout(r, 50));
        conn.close();
      })());
    }
  })().catch(() => {});
  try {
    await w.f.ok(["allow", "sbox-1", "--host", "127.0.0.1", "--port", String(port), "--allow-private"]);
    await new Promise((r) => setTimeout(r, 700));
    const url = `http://127.0.0.1:${port}/x`;
    assertEquals((await curl([...w.viaPlain(), url])).status, 200);
    await new Promise((r) => setTimeout(r, 300));
    const second = await curl([...w.viaPlain(), url]);
    assertEquals(second.status, 200, second.body);
    assertEquals(second.body, "ok");
    assertEquals(connections, 2, "the dead pooled connection was replaced by a new one");
  } finally {
    listener.close();
    await serving;
    await Promise.all(handlers);
  }
});

Deno.test(
  "an upstream that answers and hangs up in the middle of an upload: the answer is relayed",
  sanitize,
  async () => {
    await using w = await world([]);
    // Reads the head and a little of the body, answers 413 and closes.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const handlers: Promise<void>[] = [];
    const serving = (async () => {
      for await (const conn of listener) {
        handlers.push((async () => {
          const buf = new Uint8Array(64 * 1024);
          let got = 0;
          let head = "";
          while (!head.includes("\r\n\r\n") || got - head.indexOf("\r\n\r\n") < 20_000) {
            const n = await conn.read(buf).catch(() => null);
            if (n === null) break;
            got += n;
            if (!head.includes("\r\n\r\n")) head += new TextDecoder().decode(buf.subarray(0, n));
          }
          await conn.write(
            new TextEncoder().encode(
              "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            ),
          ).catch(() => {});
          conn.close();
        })());
      }
    })().catch(() => {});
    const client = await w.client();
    try {
      await w.f.ok(["allow", "sbox-1", "--host", "127.0.0.1", "--port", String(port), "--allow-private"]);
      await new Promise((r) => setTimeout(r, 700));
      for (let round = 0; round < 2; round++) {
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({
          async pull(c) {
            if (sent >= 4 * 1024 * 1024) return c.close();
            await new Promise((r) => setTimeout(r, 2));
            c.enqueue(new Uint8Array(16 * 1024));
            sent += 16 * 1024;
          },
        });
        const res = await fetch(`http://127.0.0.1:${port}/upload`, { method: "POST", body, client });
        assertEquals(res.status, 413, `round ${round}`);
        await res.body?.cancel();
        assert(sent < 4 * 1024 * 1024, "the upload stopped once the upstream had answered");
      }
    } finally {
      client.close();
      listener.close();
      await serving;
      await Promise.all(handlers);
    }
  },
);

Deno.test("the upstream client sends a body from any stream, chunked, byte for byte", sanitize, async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
    return new Response(`${req.headers.get("transfer-encoding")} ${body.length} ${hash.join(",")}`);
  });
  const client = new Http1Client([]);
  try {
    const data = pattern(0, 300_001);
    let at = 0;
    let i = 0;
    // A default (not byte) stream: pieces larger and smaller than one read, and empty ones.
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (at >= data.length) return c.close();
        const n = [100_000, 1, 0, 70_000][i++ % 4];
        c.enqueue(data.slice(at, at + n));
        at += n;
      },
    });
    const res = await client.request({
      scheme: "http",
      host: "127.0.0.1",
      port: server.addr.port,
      dial: { host: "127.0.0.1", port: server.addr.port },
      method: "POST",
      path: "/",
      headers: [["host", `127.0.0.1:${server.addr.port}`]],
      body,
    });
    const text = new TextDecoder().decode(await readAll(res.body!));
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    assertEquals(text, `chunked ${data.length} ${hash.join(",")}`);
  } finally {
    client.close();
    await server.shutdown();
  }
});
