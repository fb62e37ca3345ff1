// Attacks on the secret: where it may go, and what comes back.
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotIncludes,
  assertStringIncludes,
} from "./helpers/assert.ts";
import { basicAuth, openTunnel, rawExchange, readSome } from "./helpers/raw.ts";
import { curl } from "./helpers/veil.ts";
import { headerValues, SECRET, world } from "./helpers/world.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };

Deno.test(
  "an upstream that reflects the secret does not hand it to the VM (headers or body)",
  sanitize,
  async () => {
    await using w = await world();
    const r = await curl([...w.viaTls(), "https://llama.example.com/reflect"]);
    assertEquals(r.status, 200);
    assertNotIncludes(r.headers + r.body, SECRET, "the VM's view");
    assertStringIncludes(r.body, "you sent: Bearer *************");
    assertMatch(r.headers, /x-echo: Bearer \*{13}/i);
    assertEquals(headerValues(w.f.upstream.seen.at(-1)!, "authorization"), [`Bearer ${SECRET}`]);
  },
);

Deno.test("a redirect is returned, not followed, and the secret does not follow it", sanitize, async () => {
  await using w = await world([
    ["--host", "llama.example.com", "--secret", "llama-1"],
    ["--host", "other.example.com", "--secret", "llama-1"],
  ]);
  const r = await curl([...w.viaTls(), "https://llama.example.com/redirect"]);
  assertEquals(r.status, 302);
  assertMatch(r.headers, /location: https:\/\/other\.example\.com\/landed/i);
  assertEquals(w.f.upstream.seen.map((s) => s.path), ["/redirect"], "veil made one request upstream");
  const followed = await curl([...w.viaTls(), "-L", "https://llama.example.com/redirect"]);
  assertEquals(followed.status, 200);
  const landed = w.f.upstream.seen.find((s) => s.path === "/landed")!;
  assertEquals(headerValues(landed, "host"), ["other.example.com"]);
  assertEquals(headerValues(landed, "authorization"), [], "the secret is bound to llama.example.com");
});

Deno.test("a tunnel whose TLS names another host, or that carries plaintext, is cut", sanitize, async () => {
  await using w = await world();
  const ca = await Deno.readTextFile(w.f.veilCaFile);
  const conn = await openTunnel(w.server.plainPort, w.token, "llama.example.com:443");
  const tls = await Deno.startTls(conn, { hostname: "other.example.com", caCerts: [ca] });
  let failed = false;
  try {
    await tls.handshake();
    await tls.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: other.example.com\r\n\r\n"));
    failed = (await readSome(tls, 2000)) === "";
  } catch {
    failed = true;
  } finally {
    try {
      tls.close();
    } catch { /* closed */ }
  }
  assert(failed, "the handshake for another name must not complete");

  const plain = await openTunnel(w.server.plainPort, w.token, "llama.example.com:443");
  await plain.write(new TextEncoder().encode("GET /v1/x HTTP/1.1\r\nHost: llama.example.com\r\n\r\n"));
  const answer = await readSome(plain, 3000);
  plain.close();
  assertMatch(answer, /^HTTP\/1\.1 400 /);
  assertStringIncludes(answer, "not-tls");
  assertEquals(w.f.upstream.seen, [], "nothing reached the upstream");
  await w.server.stop();
  assertMatch(
    w.server.stdout(),
    /msg=deny client=sbox-1 method=CONNECT host=llama\.example\.com .*reason=sni-mismatch/,
  );
  assertMatch(
    w.server.stdout(),
    /msg=deny client=sbox-1 method=CONNECT host=llama\.example\.com .*reason=not-tls/,
  );
});

Deno.test(
  "smuggling: conflicting or malformed framing is refused, and upstream sees only what veil audited",
  sanitize,
  async () => {
    await using w = await world();
    await using plain = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      seen.push(new URL(req.url).pathname);
      await req.body?.cancel();
      return new Response("ok");
    });
    const seen: string[] = [];
    const port = plain.addr.port;
    await w.f.ok(["allow", "sbox-1", "--host", "127.0.0.1", "--port", String(port), "--allow-private"]);
    await new Promise((r) => setTimeout(r, 700));
    const auth = basicAuth(w.token);
    const base = `http://127.0.0.1:${port}`;
    const smuggled = `GET ${base}/smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}\r\n`;
    const pairs: [string, string][] = [
      [
        `POST ${base}/a HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
        "conflicting-framing",
      ],
      [
        `POST ${base}/b HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 5\r\nContent-Length: 40\r\n\r\nhello${smuggled}`,
        "bad-content-length",
      ],
      [
        `POST ${base}/c HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`,
        "bad-transfer-encoding",
      ],
      [
        `POST ${base}/d HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 99999999999999999999\r\n\r\n`,
        "bad-content-length",
      ],
      [`POST ${base}/e HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: -1\r\n\r\n`, "bad-content-length"],
    ];
    for (const [request, reason] of pairs) {
      const r = await rawExchange(w.server.plainPort, request);
      assertMatch(r, /^HTTP\/1\.1 400 /, request.slice(0, 40));
      assertStringIncludes(r, reason);
    }
    // Inside a tunnel, hyper parses; whatever it makes of a request, upstream only sees audited requests.
    const tunnel = await openTunnel(w.server.plainPort, w.token, "llama.example.com:443");
    const tls = await Deno.startTls(tunnel, {
      hostname: "llama.example.com",
      caCerts: [await Deno.readTextFile(w.f.veilCaFile)],
    });
    await tls.write(new TextEncoder().encode(
      "POST /x HTTP/1.1\r\nHost: llama.example.com\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: evil.example.net\r\n\r\n",
    ));
    await readSome(tls, 2000);
    try {
      tls.close();
    } catch { /* closed */ }
    await w.server.stop();
    assertEquals(seen, [], "no framing trick reached the plain upstream");
    const audited = w.server.stdout().split("\n").filter((l) => l.includes("msg=allow")).map((l) =>
      /path=(\S+)/.exec(l)?.[1]
    );
    for (const s of w.f.upstream.seen) {
      assert(
        audited.includes(s.path.split("?")[0]),
        `upstream saw ${s.path} that veil did not audit`,
      );
    }
    assert(!w.f.upstream.seen.some((s) => headerValues(s, "host").includes("evil.example.net")));
  },
);
