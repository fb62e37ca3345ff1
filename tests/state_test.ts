import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { Sealer } from "../lib/state/seal.ts";
import { hashToken, newClientToken, sameHash } from "../lib/state/tokens.ts";
import { HeadError, parseHead } from "../lib/proxy/head.ts";
import { parseAuthority } from "../lib/proxy/target.ts";
import { proxyToken } from "../lib/proxy/auth.ts";
import { toLogfmt } from "../lib/audit/record.ts";

const key = () => crypto.getRandomValues(new Uint8Array(32));

Deno.test("sealing: round trip, fresh nonce per write, bound to its KV key", async () => {
  const sealer = await Sealer.fromRaw(key());
  const a = await sealer.seal(["secrets", "s1"], { value: "v" });
  const b = await sealer.seal(["secrets", "s1"], { value: "v" });
  assertEquals(await sealer.open(["secrets", "s1"], a), { value: "v" });
  assert(a.nonce.some((x, i) => x !== b.nonce[i]), "nonces differ");
  assertEquals(a.nonce.length, 12);
  let moved = "opened";
  await sealer.open(["secrets", "s2"], a).catch((e) => moved = e.message);
  assertMatch(moved, /wrong seal key or tampered/);
  const other = await Sealer.fromRaw(key());
  let wrong = "opened";
  await other.open(["secrets", "s1"], a).catch((e) => wrong = e.message);
  assertMatch(wrong, /wrong seal key/);
});

Deno.test("client tokens: 256 random bits, hashed, compared by hash", () => {
  const t = newClientToken();
  assertMatch(t, /^veil_[A-Za-z0-9_-]{43}$/);
  assert(newClientToken() !== t);
  assertEquals(hashToken(t).length, 64);
  assert(sameHash(hashToken(t), hashToken(t)));
  assert(!sameHash(hashToken(t), hashToken(t + "x")));
  assertEquals(proxyToken("Basic " + btoa(`proxy:${t}`)), t);
  assertEquals(proxyToken("Basic " + btoa("proxy:")), undefined);
  assertEquals(proxyToken("Bearer abc"), undefined);
  assertEquals(proxyToken("Basic !!!"), undefined);
});

Deno.test("request heads and CONNECT authorities", () => {
  const raw = (s: string) => new TextEncoder().encode(s);
  const head = parseHead(
    raw(
      "CONNECT a.example.com:443 HTTP/1.1\r\nHost: a.example.com:443\r\nProxy-Authorization: Basic eA==\r\n\r\n",
    ),
    new Uint8Array(),
  );
  assertEquals([head.method, head.target, head.headers[1][0]], [
    "CONNECT",
    "a.example.com:443",
    "proxy-authorization",
  ]);
  for (
    const bad of [
      "GET\r\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",
      "G\tT / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nno-colon\r\n\r\n",
      "GET / HTTP/1.1\r\nbad name: x\r\n\r\n",
    ]
  ) {
    let status = 0;
    try {
      parseHead(raw(bad), new Uint8Array());
    } catch (err) {
      status = (err as HeadError).status;
    }
    assertEquals(status, 400, JSON.stringify(bad));
  }
  assertEquals(parseAuthority("A.Example.com:443"), { host: "a.example.com", port: 443 });
  assertEquals(parseAuthority("[::1]:8443"), { host: "::1", port: 8443 });
  assertEquals(parseAuthority("2130706433:443"), { host: "127.0.0.1", port: 443 });
  assertEquals(parseAuthority("0x7f.1:443"), { host: "127.0.0.1", port: 443 });
  for (
    const bad of [
      "a.example.com",
      "a.example.com:0",
      "a.example.com:65536",
      "a.example.com:http",
      "user@a.com:443",
      ":443",
    ]
  ) {
    assertEquals(parseAuthority(bad), null, bad);
  }
});

Deno.test("logfmt quotes what needs quoting", () => {
  const line = toLogfmt({
    time: "t",
    msg: "allow",
    method: "GET",
    path: "/a b",
    status: 200,
    bytes_up: 0,
    bytes_down: 1,
    duration_ms: 1.5,
  });
  assertEquals(
    line,
    'time=t msg=allow method=GET path="/a b" status=200 bytes_up=0 bytes_down=1 duration_ms=1.5',
  );
});
