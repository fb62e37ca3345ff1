// Attacks on destinations. Tests that name non-loopback addresses run only inside a network
// namespace with nothing but loopback (scripts/test.sh sets it up), so nothing can leave the machine.
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./helpers/assert.ts";
import { isolated, startDnsStub } from "./helpers/dns_stub.ts";
import { fixture } from "./helpers/fixture.ts";
import { basicAuth, rawExchange, trap } from "./helpers/raw.ts";
import { curl } from "./helpers/veil.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };
const ignore = !isolated();

Deno.test({
  name: "a public-looking name that resolves to loopback is refused; the trap sees nothing",
  ignore,
  ...sanitize,
}, async () => {
  await using f = await fixture([]);
  const t = trap();
  await using dns = await startDnsStub({
    "rebind.example.com": ["127.0.0.1"],
    "mixed.example.com": ["93.184.216.34", "127.0.0.1"],
    "v6loop.example.com": ["::1"],
  });
  const token = (await f.ok(["client", "create", "vm"])).trim();
  for (const host of ["rebind.example.com", "mixed.example.com", "v6loop.example.com"]) {
    await f.ok(["allow", "vm", "--host", host, "--port", String(t.port)]);
  }
  const server = await f.serve(["--dns", `127.0.0.1:${dns.port}`]);
  try {
    for (const host of ["rebind.example.com", "mixed.example.com", "v6loop.example.com"]) {
      const r = await curl(["-x", server.httpProxy(token), "-v", `https://${host}:${t.port}/`]);
      assertEquals(r.status, 403, host);
      assertStringIncludes(r.stderr, "private-destination");
      const plain = await curl(["-x", server.httpProxy(token), `http://${host}:${t.port}/`]);
      assertEquals(plain.status, 403, `${host} over http://`);
    }
    assert(dns.queries.some((q) => q.startsWith("rebind.example.com")), "veil asked the --dns server");
    assertEquals(t.hits(), 0, "the trap saw no connection");
    // Positive control: the same rule opted in reaches the trap, so the test can fail.
    await f.ok(["allow", "vm", "--host", "rebind.example.com", "--port", String(t.port), "--allow-private"]);
    await new Promise((r) => setTimeout(r, 700));
    await curl([
      "-x",
      server.httpProxy(token),
      "--cacert",
      f.veilCaFile,
      "--max-time",
      "3",
      `https://rebind.example.com:${t.port}/`,
    ]);
    assert(t.hits() > 0, "an --allow-private rule does reach it");
  } finally {
    t.close();
  }
  await server.stop();
  assertMatch(
    server.stdout(),
    /msg=deny client=vm method=CONNECT host=rebind\.example\.com .*reason=private-destination/,
  );
});

Deno.test({
  name: "IP literals of every private class are refused, over CONNECT and plain http",
  ignore,
  ...sanitize,
}, async () => {
  await using f = await fixture([]);
  const token = (await f.ok(["client", "create", "vm"])).trim();
  const literals = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "fd00::1",
    "fe80::1",
    "ff02::1",
    "::",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
  ];
  for (const ip of literals) await f.ok(["allow", "vm", "--host", ip]);
  const server = await f.serve();
  for (const ip of literals) {
    const authority = ip.includes(":") ? `[${ip}]:443` : `${ip}:443`;
    const r = await rawExchange(
      server.plainPort,
      `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${basicAuth(token)}\r\n`,
    );
    assertMatch(r, /^HTTP\/1\.1 403 /, `${ip}: ${r}`);
    assertStringIncludes(r, "private-destination");
    const plain = await curl([
      "-x",
      server.httpProxy(token),
      "--max-time",
      "5",
      `http://${ip.includes(":") ? `[${ip}]` : ip}/latest/meta-data/`,
    ]);
    assertEquals(plain.status, 403, `http://${ip}`);
  }
  // Other spellings of loopback are the same address.
  await f.ok(["allow", "vm", "--host", "127.0.0.1", "--port", "8080"]);
  for (const spelled of ["2130706433:443", "0x7f.1:443", "127.1:443"]) {
    const r = await rawExchange(server.plainPort, `CONNECT ${spelled} HTTP/1.1\r\n${basicAuth(token)}\r\n`);
    assertMatch(r, /^HTTP\/1\.1 403 /, spelled);
  }
});

Deno.test("veil does not dial itself, even for a rule that allows private addresses", sanitize, async () => {
  await using f = await fixture([]);
  const token = (await f.ok(["client", "create", "vm"])).trim();
  const server = await f.serve();
  await f.ok(["allow", "vm", "--host", "127.0.0.1", "--port", String(server.plainPort), "--allow-private"]);
  await new Promise((r) => setTimeout(r, 700));
  const r = await rawExchange(
    server.plainPort,
    `CONNECT 127.0.0.1:${server.plainPort} HTTP/1.1\r\n${basicAuth(token)}\r\n`,
  );
  assertMatch(r, /^HTTP\/1\.1 403 /);
  assertStringIncludes(r, "private-destination");
});
