// Attacks on availability and robustness: slow and oversized heads, floods, garbage, crashes.
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotIncludes,
  assertStringIncludes,
} from "./helpers/assert.ts";
import { basicAuth, openTunnel, rawExchange, readSome } from "./helpers/raw.ts";
import { curl, startVeil } from "./helpers/veil.ts";
import { SECRET, world } from "./helpers/world.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };

Deno.test("an oversized head gets 431 and the connection closed", sanitize, async () => {
  await using w = await world();
  const big = `CONNECT llama.example.com:443 HTTP/1.1\r\nX-Pad: ${"a".repeat(70 * 1024)}\r\n\r\n`;
  assertMatch(await rawExchange(w.server.plainPort, big), /^HTTP\/1\.1 431 /);
  assertMatch(
    await rawExchange(w.server.tlsPort === 0 ? 0 : w.server.plainPort, "GET / HTTP/1.1\r\n\r\n"),
    /^HTTP\/1\.1 400 /,
  );
});

Deno.test("10,000 slow connections do not keep a client out", sanitize, async () => {
  await using w = await world();
  const attacker = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./helpers/slowloris.ts", import.meta.url).pathname,
      String(w.server.plainPort),
      "10000",
      "6000",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  await new Promise((r) => setTimeout(r, 2500));
  // The flood comes from 127.0.0.1; the real client from another address of the same machine.
  const during = await curl([
    ...w.viaTls(),
    "--interface",
    "127.0.0.5",
    "--max-time",
    "10",
    "https://llama.example.com/during",
  ]);
  assertEquals(during.status, 200, during.stderr);
  const out = await attacker.output();
  const stats = JSON.parse(new TextDecoder().decode(out.stdout));
  assert(stats.connected > 9000, `the attack happened (${stats.connected} connected)`);
  assert(stats.closedEarly > 5000, `veil refused most of them at once (${stats.closedEarly})`);
  const after = await curl([...w.viaTls(), "https://llama.example.com/after"]);
  assertEquals(after.status, 200);
});

Deno.test(
  "per-client connection limit answers 429 with Retry-After; idle tunnels are closed",
  sanitize,
  async () => {
    await using w = await world(undefined, ["--max-client-connections", "2", "--idle-timeout", "1s"]);
    const a = await openTunnel(w.server.plainPort, w.token, "llama.example.com:443");
    const b = await openTunnel(w.server.plainPort, w.token, "llama.example.com:443");
    const third = await rawExchange(
      w.server.plainPort,
      `CONNECT llama.example.com:443 HTTP/1.1\r\n${basicAuth(w.token)}\r\n`,
    );
    assertMatch(third, /^HTTP\/1\.1 429 /);
    assertMatch(third, /Retry-After: 1/i);
    // Both held tunnels are idle: veil closes them, and the client may connect again.
    const closed = await Promise.all([a, b].map((c) => readSome(c, 5000)));
    assertEquals(closed, ["", ""]);
    await new Promise((r) => setTimeout(r, 200));
    const again = await curl([...w.viaTls(), "https://llama.example.com/again"]);
    assertEquals(again.status, 200);
  },
);

Deno.test("failed proxy authentications from one address are slowed down", sanitize, async () => {
  await using w = await world();
  const times: number[] = [];
  for (let i = 0; i < 8; i++) {
    const start = performance.now();
    const r = await rawExchange(
      w.server.plainPort,
      `CONNECT llama.example.com:443 HTTP/1.1\r\n${basicAuth("veil_guess" + i)}\r\n`,
      10_000,
    );
    times.push(performance.now() - start);
    assertMatch(r, /^HTTP\/1\.1 407 /);
  }
  assert(times[7] >= 500, `the 8th failure waited (${times.map(Math.round).join(", ")} ms)`);
  const ok = await curl([...w.viaTls(), "https://llama.example.com/"]);
  assertEquals(ok.status, 200, "a right token is not slowed");
});

function mutate(seed: string, rand: () => number): Uint8Array {
  const bytes = new TextEncoder().encode(seed);
  const out = [...bytes];
  const edits = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (out.length + 1));
    const op = Math.floor(rand() * 4);
    if (op === 0) out.splice(at, 1);
    else if (op === 1) out.splice(at, 0, Math.floor(rand() * 256));
    else if (op === 2) out[at] = Math.floor(rand() * 256);
    else {out.splice(
        at,
        0,
        ...new TextEncoder().encode(
          ["\r\n", ":", " ", "\0", "%", "[", "]", "\n\n", "Content-Length: 1\r\n"][Math.floor(rand() * 9)],
        ),
      );}
  }
  return new Uint8Array(out);
}

Deno.test(
  "a fuzz run of random and mutated heads: always an answer or a close, never a crash",
  sanitize,
  async () => {
    await using w = await world();
    let state = 0x9e3779b9;
    const rand = () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 2 ** 32;
    };
    const auth = basicAuth(w.token);
    const seeds = [
      `CONNECT llama.example.com:443 HTTP/1.1\r\nHost: llama.example.com:443\r\n${auth}\r\n`,
      `GET http://nope.example.com/x HTTP/1.1\r\nHost: nope.example.com\r\n${auth}\r\n`,
      `POST http://127.0.0.1:9/x HTTP/1.1\r\nContent-Length: 3\r\n${auth}\r\nabc`,
      "CONNECT [::1]:443 HTTP/1.1\r\nProxy-Authorization: Basic !!\r\n\r\n",
    ];
    const cases: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) {
      if (i % 5 === 0) cases.push(crypto.getRandomValues(new Uint8Array(1 + Math.floor(rand() * 300))));
      else cases.push(mutate(seeds[i % seeds.length], rand));
    }
    let answered = 0;
    // Failed authentications get slowed down (that defence is tested above): wait briefly for each.
    for (let i = 0; i < cases.length; i += 100) {
      const batch = await Promise.all(
        cases.slice(i, i + 100).map(async (c) => {
          // Every case ends its head, so veil answers without waiting for the head timeout.
          const data = new Uint8Array([...c, 13, 10, 13, 10]);
          return await rawExchange(w.server.plainPort, data, 400).catch(() => "");
        }),
      );
      answered += batch.filter((b) => /^HTTP\/1\.1 \d{3} /.test(b)).length;
    }
    assert(answered > 1000, `veil answered ${answered} of ${cases.length}`);
    const ok = await curl([...w.viaTls(), "https://llama.example.com/still-here"]);
    assertEquals(ok.status, 200);
    await w.server.stop();
    assertEquals(w.server.process.pid > 0, true);
    assert(!/internal error|panicked|Uncaught/.test(w.server.stderr()), w.server.stderr().slice(0, 500));
  },
);

Deno.test("kill -9 under load, then a restart, loses no client, secret or rule", sanitize, async () => {
  await using w = await world();
  const load = (async () => {
    const results = [];
    for (let i = 0; i < 4; i++) {
      results.push(
        ...await Promise.all(
          Array.from(
            { length: 8 },
            () => curl([...w.viaTls(), "--max-time", "5", "https://llama.example.com/load"]),
          ),
        ),
      );
    }
    return results;
  })();
  const names: string[] = [];
  for (let i = 0; i < 6; i++) {
    await w.f.ok(["client", "create", `c${i}`]);
    await w.f.ok([
      "secret",
      "create",
      `s${i}`,
      "--host",
      "api.example.org",
      "--type",
      "bearer",
      "--value",
      `value-${i}-${SECRET}`,
    ]);
    await w.f.ok(["allow", `c${i}`, "--host", "api.example.org", "--secret", `s${i}`]);
    names.push(`c${i}`);
    if (i === 3) w.server.process.kill("SIGKILL");
  }
  await load;
  await w.server.stop();
  // CLI writers killed mid-write leave the old state, never a torn one.
  const writers = Array.from({ length: 6 }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../main.ts", import.meta.url).pathname,
        "client",
        "create",
        `k${i}`,
        "--state",
        w.f.state,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn());
  await new Promise((r) => setTimeout(r, 150 + Math.random() * 300));
  for (const p of writers) {
    try {
      p.kill("SIGKILL");
    } catch { /* done already */ }
  }
  await Promise.all(writers.map((p) => p.status));

  const server = await w.f.serve();
  const clients = JSON.parse(await w.f.ok(["client", "list", "--json"])).map((c: { name: string }) => c.name);
  for (const n of ["sbox-1", ...names]) assert(clients.includes(n), `client ${n} survived`);
  const secrets = JSON.parse(await w.f.ok(["secret", "list", "--json"]));
  assertEquals(secrets.length, 7);
  const rules = JSON.parse(await w.f.ok(["rules", "--json"]));
  assertEquals(rules.length, 7);
  assertStringIncludes(await w.f.ok(["audit", "--since", "1h"]), "msg=allow");
  const again = await curl([
    "-x",
    server.httpsProxy(w.token),
    "--proxy-cacert",
    w.f.veilCaFile,
    "--cacert",
    w.f.veilCaFile,
    "https://llama.example.com/after-restart",
  ]);
  assertEquals(again.status, 200);
  await server.stop();
  for await (const e of Deno.readDir(w.f.state)) {
    if (e.isFile && e.name !== "seal.key") {
      assertNotIncludes(await Deno.readFile(`${w.f.state}/${e.name}`), SECRET, e.name);
    }
  }
  assertNotIncludes(server.stdout() + w.server.stdout(), SECRET, "stdout");
});

Deno.test("a state folder or seal key readable by others makes serve refuse to start", async () => {
  await using w = await world();
  await w.server.stop();
  await Deno.chmod(w.f.state, 0o755);
  let err = "";
  await startVeil(w.f.state).catch((e) => err = String(e));
  assertMatch(err, /Refusing to start: .* is accessible by other users \(mode 755\); run chmod 700/);
  await Deno.chmod(w.f.state, 0o700);
  await Deno.chmod(`${w.f.state}/seal.key`, 0o644);
  err = "";
  await startVeil(w.f.state).catch((e) => err = String(e));
  assertMatch(err, /seal\.key is accessible by other users \(mode 644\); run chmod 600/);
});

Deno.test(
  "past --max-connections new connections are closed at once, and served again after",
  sanitize,
  async () => {
    await using w = await world(undefined, ["--max-connections", "3"]);
    const held = await Promise.all(
      [1, 2, 3].map(() => Deno.connect({ hostname: "127.0.0.1", port: w.server.plainPort })),
    );
    for (const c of held) {
      await c.write(
        new TextEncoder().encode("CONNECT llama.example.com:443 HTTP/1.1\r\n"),
      );
    }
    await new Promise((r) => setTimeout(r, 200));
    const extra = await Deno.connect({ hostname: "127.0.0.1", port: w.server.plainPort });
    // veil closes it: the read ends (null), well before the 10 s a held head would be given.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      extra.read(new Uint8Array(16)).then((n) => n === null ? "closed" : "answered", () => "closed"),
      new Promise<string>((r) => timer = setTimeout(() => r("still open"), 5000)),
    ]);
    clearTimeout(timer);
    assertEquals(outcome, "closed");
    extra.close();
    for (const c of held) c.close();
    await new Promise((r) => setTimeout(r, 200));
    const ok = await curl([...w.viaTls(), "https://llama.example.com/after"]);
    assertEquals(ok.status, 200);
  },
);
