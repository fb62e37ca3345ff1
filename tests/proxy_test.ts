import { assert, assertEquals, assertMatch, assertStringIncludes } from "./helpers/assert.ts";
import { curl, proxyClient } from "./helpers/veil.ts";
import { eventually, headerValues, SECRET, world } from "./helpers/world.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };

Deno.test("the http:// proxy URL works too, and basic secrets are injected", sanitize, async () => {
  await using w = await world([]);
  await w.f.ok([
    "secret",
    "create",
    "org-basic",
    "--host",
    "api.example.org",
    "--type",
    "basic",
    "--value",
    "alice:s3cr3t-pw",
  ]);
  await w.f.ok(["allow", "sbox-1", "--host", "api.example.org", "--secret", "org-basic"]);
  await eventually(async () => {
    const r = await curl([...w.viaPlain(), "-u", "mallory:guess", "https://api.example.org/basic"]);
    if (r.status !== 200) return false;
    assertEquals(headerValues(w.f.upstream.seen.at(-1)!, "authorization"), [
      `Basic ${btoa("alice:s3cr3t-pw")}`,
    ]);
    return true;
  }, "basic injection");
});

Deno.test("missing or wrong proxy credentials get 407 on both listeners", sanitize, async () => {
  await using w = await world();
  for (const proxy of [`http://127.0.0.1:${w.server.plainPort}`, `https://127.0.0.1:${w.server.tlsPort}`]) {
    const none = await curl(["-x", proxy, "--proxy-cacert", w.f.veilCaFile, "https://llama.example.com/"]);
    assertEquals(none.status, 407);
    const url = new URL(proxy);
    url.username = "proxy";
    url.password = "veil_wrong";
    const wrong = await curl([
      "-x",
      url.href,
      "--proxy-cacert",
      w.f.veilCaFile,
      "-v",
      "https://llama.example.com/",
    ]);
    assertEquals(wrong.status, 407);
    assertStringIncludes(wrong.stderr, 'Proxy-Authenticate: Basic realm="veil"');
  }
  const plain = await curl(["-x", `http://127.0.0.1:${w.server.plainPort}`, "http://llama.example.com/"]);
  assertEquals(plain.status, 407);
  assertStringIncludes(plain.body, "proxy-auth-required");
});

Deno.test("each denial names its reason", sanitize, async () => {
  await using w = await world([
    ["--host", "llama.example.com", "--secret", "llama-1", "--path", "/v1/**", "--method", "POST"],
    ["--host", "other.example.com", "--port", "8443"],
    ["--host", "api.example.org", "--ttl", "1s"],
    ["--host", "plain.example.net", "--secret", "llama-1"],
  ]);
  const denied = async (args: string[], reason: string) => {
    const r = await curl([...w.viaTls(), "-v", ...args]);
    assertEquals(r.status, 403, `${args.join(" ")}: ${r.stderr}`);
    assertStringIncludes(r.stderr + r.body, reason);
  };
  await denied(["https://nope.example.com/"], "host-not-allowed");
  await denied(["https://other.example.com/"], "port-not-allowed");
  await denied(["https://llama.example.com/admin", "-d", "x"], "path-not-allowed");
  await denied(["https://llama.example.com/v1/models"], "method-not-allowed");
  const ok = await curl([...w.viaTls(), "-d", "{}", "https://llama.example.com/v1/chat/completions"]);
  assertEquals(ok.status, 200, ok.stderr);
  await new Promise((r) => setTimeout(r, 1100));
  await denied(["https://api.example.org/"], "rule-expired");
  // A secret never leaves in plaintext: http:// to a host whose rule injects one is refused.
  const plain = await curl([...w.viaPlain(), "http://llama.example.com/v1/x", "-d", "x"]);
  assertEquals(plain.status, 403);
  assertStringIncludes(plain.body, "secret-needs-tls");
  await w.server.stop();
  const audit = w.server.stdout();
  for (
    const reason of [
      "host-not-allowed",
      "port-not-allowed",
      "path-not-allowed",
      "method-not-allowed",
      "rule-expired",
      "secret-needs-tls",
    ]
  ) {
    assertMatch(audit, new RegExp(`msg=deny client=sbox-1 .*reason=${reason}`));
  }
});

Deno.test("a secret is injected only where its own host matches", sanitize, async () => {
  await using w = await world([["--host", "*.example.com", "--secret", "llama-1"]]);
  const other = await curl([...w.viaTls(), "https://other.example.com/echo"]);
  assertEquals(other.status, 200, other.stderr);
  assertEquals(headerValues(w.f.upstream.seen.at(-1)!, "authorization"), []);
  const llama = await curl([
    ...w.viaTls(),
    "-H",
    "authorization: Bearer from-the-vm",
    "https://llama.example.com/echo",
  ]);
  assertEquals(llama.status, 200);
  assertEquals(headerValues(w.f.upstream.seen.at(-1)!, "authorization"), [`Bearer ${SECRET}`]);
});

Deno.test("plain http:// requests are forwarded when no secret is involved", sanitize, async () => {
  await using w = await world([]);
  // An upstream speaking plain HTTP on loopback, allowed by a rule for its port.
  await using plain = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      Response.json({ host: req.headers.get("host"), proxyAuth: req.headers.get("proxy-authorization") }),
  );
  await w.f.ok([
    "allow",
    "sbox-1",
    "--host",
    "127.0.0.1",
    "--port",
    String(plain.addr.port),
    "--allow-private",
  ]);
  await eventually(async () => {
    const r = await curl([...w.viaPlain(), `http://127.0.0.1:${plain.addr.port}/hello`]);
    if (r.status !== 200) return false;
    assertEquals(JSON.parse(r.body), { host: `127.0.0.1:${plain.addr.port}`, proxyAuth: null });
    return true;
  }, "plain forwarding");
});

Deno.test("changes from another process apply while serving: allow, rotate, delete", sanitize, async () => {
  await using w = await world([]);
  const url = "https://llama.example.com/echo";
  assertEquals((await curl([...w.viaTls(), url])).status, 403);
  await w.f.ok(["allow", "sbox-1", "--host", "llama.example.com", "--secret", "llama-1"]);
  await eventually(async () => (await curl([...w.viaTls(), url])).status === 200, "allow to apply");
  const newToken = (await w.f.ok(["client", "rotate", "sbox-1"])).trim();
  await eventually(
    async () => (await curl([...w.viaTls(), url])).status === 407,
    "old token to stop working",
  );
  const fresh = [
    "-x",
    w.server.httpsProxy(newToken),
    "--proxy-cacert",
    w.f.veilCaFile,
    "--cacert",
    w.f.veilCaFile,
  ];
  assertEquals((await curl([...fresh, url])).status, 200);
  await w.f.ok([
    "secret",
    "create",
    "llama-1",
    "--host",
    "llama.example.com",
    "--type",
    "bearer",
    "--value",
    "sk-rotated",
    "--force",
  ]);
  await eventually(async () => {
    const r = await curl([...fresh, url]);
    return r.status === 200 &&
      headerValues(w.f.upstream.seen.at(-1)!, "authorization")[0] === "Bearer sk-rotated";
  }, "--force replacement to apply, with the rule still working");
  await w.f.ok(["client", "delete", "sbox-1"]);
  await eventually(async () => (await curl([...fresh, url])).status === 407, "deleted client to be refused");
});

Deno.test("upstream TLS is verified: an untrusted upstream is a 502 with its reason", sanitize, async () => {
  await using w = await world([["--host", "llama.example.com"]], []);
  // A second veil without --upstream-ca does not trust the test upstream.
  const strict = await (await import("./helpers/veil.ts")).startVeil(w.f.state, [
    "--connect-to",
    `llama.example.com:443:127.0.0.1:${w.f.upstream.port}`,
    "--quiet",
  ]);
  try {
    const r = await curl([
      "-x",
      strict.httpsProxy(w.token),
      "--proxy-cacert",
      w.f.veilCaFile,
      "--cacert",
      w.f.veilCaFile,
      "https://llama.example.com/",
    ]);
    assertEquals(r.status, 502);
    assertStringIncludes(r.body, "upstream-tls-error");
  } finally {
    await strict.stop();
  }
});

Deno.test(
  "Deno fetch through veil, and a Host header that differs from the tunnel is refused",
  sanitize,
  async () => {
    await using w = await world();
    const client = await proxyClient(w.server, w.token, w.f.veilCaFile, "tls");
    try {
      const res = await fetch("https://llama.example.com/fetch", { client, method: "POST", body: "hi" });
      assertEquals(res.status, 200);
      assertEquals((await res.json()).bodyBytes, 2);
      assertEquals(headerValues(w.f.upstream.seen.at(-1)!, "authorization"), [`Bearer ${SECRET}`]);
    } finally {
      client.close();
    }
    const fronted = await curl([
      ...w.viaTls(),
      "--http1.1",
      "-H",
      "host: evil.example.net",
      "https://llama.example.com/",
    ]);
    assertEquals(fronted.status, 421);
    assert(w.f.upstream.seen.every((s) => !headerValues(s, "host").includes("evil.example.net")));
  },
);
