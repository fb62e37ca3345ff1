import { assert, assertEquals, assertMatch, assertStringIncludes } from "./helpers/assert.ts";
import { curl } from "./helpers/veil.ts";
import { headerValues, SECRET, world } from "./helpers/world.ts";
import { pattern } from "./helpers/upstream.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };

Deno.test("gzip bodies are relayed byte for byte and headers exactly", sanitize, async () => {
  await using w = await world();
  const res = await curl([...w.viaTls(), "-H", "accept-encoding: gzip", "https://llama.example.com/gzip"]);
  assertEquals(res.status, 200, res.stderr);
  assertEquals(res.bodyBytes, w.f.upstream.gzipBody);
  assertMatch(res.headers, /content-encoding: gzip/i);
  assertMatch(res.headers, /x-upstream: yes/i);

  const echo = await curl([
    ...w.viaTls(),
    "--http1.1",
    "-H",
    "x-custom: one",
    "https://llama.example.com/echo?q=1",
  ]);
  const seen = w.f.upstream.seen.at(-1)!;
  // Exactly what curl sent plus the injected header: veil adds nothing of its own.
  const names = seen.headers.map(([n]) => n).sort();
  assertEquals(names, ["accept", "authorization", "host", "user-agent", "x-custom"]);
  assertMatch(headerValues(seen, "user-agent")[0], /^curl\//);
  assertEquals(seen.path, "/echo?q=1");
  assertMatch(echo.headers, /set-cookie: a=1/i);
  assertMatch(echo.headers, /x-upstream: yes/i);
});

Deno.test("server-sent events arrive as they are produced", sanitize, async () => {
  await using w = await world();
  const client = await w.client();
  try {
    const res = await fetch("https://llama.example.com/sse", { client });
    assertEquals(res.status, 200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAt = Date.now();
    const text = new TextDecoder().decode(first.value);
    assertStringIncludes(text, "data: event 0");
    const sentAt = Number(/at (\d+)/.exec(text)![1]);
    let rest = "";
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    const lastSentAt = Number(/event 2 at (\d+)/.exec(rest)![1]);
    // The first event was in our hands before the upstream produced the last one.
    assert(firstAt < lastSentAt, `first event at ${firstAt}, last produced at ${lastSentAt}`);
    assert(sentAt <= firstAt);
  } finally {
    client.close();
  }
});

Deno.test("a chunked upload streams through to the upstream", sanitize, async () => {
  await using w = await world();
  let i = 0;
  const chunks = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (i++ === 5) return c.close();
      await new Promise((r) => setTimeout(r, 50));
      c.enqueue(new Uint8Array(1000).fill(65));
    },
  });
  const res = await curl([
    ...w.viaTls(),
    "--http1.1",
    "-X",
    "POST",
    "-T",
    "-",
    "https://llama.example.com/upload",
  ], chunks);
  assertEquals(res.status, 200, res.stderr);
  const seen = w.f.upstream.seen.at(-1)!;
  assertEquals(seen.bodyBytes, 5000);
  assert(seen.bodyChunks > 1, "the body arrived in pieces, as it was sent");
  assertEquals(headerValues(seen, "authorization"), [`Bearer ${SECRET}`]);
});

Deno.test("large uploads arrive byte for byte, chunked and with a length", sanitize, async () => {
  await using w = await world();
  const client = await w.client();
  // Bytes that differ everywhere, so a shifted, dropped or framed-in byte changes the digest.
  const data = pattern(0, 3 * 1024 * 1024 + 7);
  const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
  const want = hex(await crypto.subtle.digest("SHA-256", data));
  try {
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (at >= data.length) return c.close();
        // Odd sizes, some larger than one read, some tiny.
        const n = [1, 70_001, 4096, 200_000, 13][at % 5];
        c.enqueue(data.slice(at, at + n));
        at += n;
      },
    });
    for (const body of [stream, data]) {
      const res = await fetch("https://llama.example.com/digest", { client, method: "POST", body });
      assertEquals(res.status, 200);
      assertEquals(await res.json(), { bytes: data.length, sha256: want });
    }
    const framing = w.f.upstream.seen.slice(-2).map((s) => [
      headerValues(s, "transfer-encoding").join(),
      headerValues(s, "content-length").join(),
    ]);
    assertEquals(framing, [["chunked", ""], ["", String(data.length)]]);
  } finally {
    client.close();
  }
});

Deno.test(
  "large downloads arrive byte for byte, chunked and with a length, with a secret to scrub",
  sanitize,
  async () => {
    await using w = await world();
    const n = 5 * 1024 * 1024 + 3;
    const want = await crypto.subtle.digest("SHA-256", pattern(0, n));
    for (const query of [`bytes=${n}`, `bytes=${n}&length=1`]) {
      const res = await curl([...w.viaTls(), "--http1.1", `https://llama.example.com/pattern?${query}`]);
      assertEquals(res.status, 200, res.stderr);
      assertEquals(res.bodyBytes.length, n);
      assertEquals(
        new Uint8Array(await crypto.subtle.digest("SHA-256", res.bodyBytes)),
        new Uint8Array(want),
      );
    }
  },
);

Deno.test("clients get HTTP/2 when they offer it", sanitize, async () => {
  await using w = await world();
  const res = await curl([...w.viaTls(), "--http2", "https://llama.example.com/echo"]);
  assertEquals(res.status, 200, res.stderr);
  assertMatch(res.headers, /^HTTP\/2 200/m);
  assertEquals(headerValues(w.f.upstream.seen.at(-1)!, "authorization"), [`Bearer ${SECRET}`]);
});

Deno.test("a WebSocket echo works through a tunnel, with the secret on the upgrade", sanitize, async () => {
  await using w = await world();
  const client = await w.client();
  const ws = new WebSocket("wss://llama.example.com/ws", { client, protocols: ["chat"] });
  const messages: string[] = [];
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  ws.onmessage = (e) => {
    messages.push(String(e.data));
    if (messages.length === 1) ws.send("ping through veil");
    else ws.close(1000);
  };
  ws.onclose = () => resolve();
  ws.onerror = () => reject(new Error("websocket failed"));
  const timer = setTimeout(() => reject(new Error("websocket timed out")), 10_000);
  try {
    await promise;
  } finally {
    clearTimeout(timer);
    client.close();
  }
  assertEquals(ws.protocol, "chat");
  const upgrade = w.f.upstream.seen.find((s) => s.path === "/ws")!;
  assertEquals(headerValues(upgrade, "authorization"), [`Bearer ${SECRET}`]);
  // The upstream echoed it in a message; the VM got it scrubbed.
  assertEquals(JSON.parse(messages[0]).authorization, `Bearer ${"*".repeat(SECRET.length)}`);
  assertEquals(messages[1], "ping through veil");
});
