import { assert, assertEquals, assertMatch, assertNotIncludes } from "./helpers/assert.ts";
import { curl } from "./helpers/veil.ts";
import { SECRET, world } from "./helpers/world.ts";

Deno.test("audit: logfmt on stdout, JSON lines in --audit-log, and `veil audit` reads the trail", async () => {
  await using w = await world(undefined, []);
  const logFile = `${w.f.dir}/audit.jsonl`;
  await w.server.stop();
  const server = await w.f.serve(["--audit-log", logFile]);
  const via = [
    "-x",
    server.httpsProxy(w.token),
    "--proxy-cacert",
    w.f.veilCaFile,
    "--cacert",
    w.f.veilCaFile,
  ];
  const ok = await curl([
    ...via,
    "-d",
    '{"q":1}',
    "https://llama.example.com/v1/chat/completions?key=hidden",
  ]);
  assertEquals(ok.status, 200);
  assertEquals((await curl([...via, "https://nope.example.com/"])).status, 403);
  assertEquals((await curl(["-x", server.httpProxy("veil_wrong"), "http://llama.example.com/"])).status, 407);
  await server.stop();

  const stdout = server.stdout();
  assertMatch(
    stdout,
    /msg=allow client=sbox-1 method=POST host=llama\.example\.com port=443 path=\/v1\/chat\/completions inject=llama-1 status=200 bytes_up=7 bytes_down=\d+ duration_ms=[\d.]+/,
  );
  assertMatch(
    stdout,
    /msg=deny client=sbox-1 method=CONNECT host=nope\.example\.com port=443 status=403 reason=host-not-allowed/,
  );
  assertMatch(
    stdout,
    /msg=deny method=GET host=llama\.example\.com port=80 path=\/ status=407 reason=proxy-auth-invalid/,
  );
  assert(!stdout.includes("key=hidden"), "no query strings in the audit");

  const lines = (await Deno.readTextFile(logFile)).trim().split("\n").map((l) => JSON.parse(l));
  const allow = lines.find((r) => r.msg === "allow");
  assertEquals(allow.path, "/v1/chat/completions");
  assertEquals(allow.inject, "llama-1");
  assertEquals(allow.bytes_up, 7);
  assert(allow.bytes_down > 0 && typeof allow.duration_ms === "number" && allow.time);
  assertEquals(lines.length, 3);

  const all = await w.f.ok(["audit", "--json"]);
  assertEquals(all.trim().split("\n").length, 3);
  const mine = (await w.f.ok(["audit", "--client", "sbox-1", "--host", "*.example.com", "--since", "1h"]))
    .trim().split("\n");
  assertEquals(mine.length, 2);
  assertMatch(mine[0], /msg=allow client=sbox-1/);
  assertEquals(
    (await w.f.ok(["audit", "--host", "nope.example.com", "--json"])).trim().split("\n").length,
    1,
  );
  for (const text of [stdout, await Deno.readTextFile(logFile), all]) {
    assertNotIncludes(text, SECRET, "audit");
    assertNotIncludes(text, w.token, "audit");
  }
});

Deno.test("audit --follow prints records as they are written", async () => {
  await using w = await world();
  const follower = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../main.ts", import.meta.url).pathname,
      "audit",
      "--follow",
      "--state",
      w.f.state,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let seen = "";
  const reader = follower.stdout.getReader();
  try {
    await new Promise((r) => setTimeout(r, 1000));
    assertEquals((await curl([...w.viaTls(), "https://llama.example.com/followed"])).status, 200);
    const deadline = setTimeout(() => follower.kill("SIGTERM"), 8000);
    while (!seen.includes("path=/followed")) {
      const chunk = await reader.read();
      if (chunk.done) break;
      seen += new TextDecoder().decode(chunk.value);
    }
    clearTimeout(deadline);
  } finally {
    follower.kill("SIGTERM");
    reader.releaseLock();
    await follower.stdout.cancel().catch(() => {});
    await follower.status;
  }
  assertMatch(seen, /msg=allow client=sbox-1 method=GET host=llama\.example\.com port=443 path=\/followed/);
});

Deno.test("audit: hundreds of records in one flush all reach `veil audit`; a huge path is cut in KV only", async () => {
  await using w = await world();
  const client = await w.client();
  const longPath = "/" + "p".repeat(10_000);
  try {
    for (let i = 0; i < 250; i++) {
      const res = await fetch(`https://llama.example.com/n/${i}`, { client });
      await res.body?.cancel();
      assertEquals(res.status, 200);
    }
    const res = await fetch(`https://llama.example.com${longPath}`, { client });
    await res.body?.cancel();
    assertEquals(res.status, 200);
  } finally {
    client.close();
  }
  await w.server.stop();
  const records = (await w.f.ok(["audit", "--json"])).trim().split("\n").map((l) => JSON.parse(l));
  assertEquals(records.length, 251);
  const numbered = records.filter((r) => r.path.startsWith("/n/")).map((r) => Number(r.path.slice(3)));
  assertEquals(new Set(numbered).size, 250);
  const cut = records.find((r) => r.path.startsWith("/ppp"));
  assertEquals(cut.path, longPath.slice(0, 4096) + "...(cut)");
  assert(w.server.stdout().includes(`path=${longPath} `), "stdout keeps the whole path");
  const sorted = records.map((r) => r.time);
  assertEquals(sorted, [...sorted].sort(), "oldest first");
});
