import { assert, assertEquals, assertMatch, assertStringIncludes } from "./helpers/assert.ts";
import { fixture } from "./helpers/fixture.ts";
import { veil } from "./helpers/veil.ts";

Deno.test("every command has --help, and bad input exits 2 with one line", async () => {
  await using f = await fixture([]);
  for (
    const cmd of [
      ["client", "create"],
      ["secret", "create"],
      ["allow"],
      ["revoke"],
      ["rules"],
      ["ca", "cert"],
      ["serve"],
      ["audit"],
      ["client", "rotate"],
    ]
  ) {
    const r = await f.cli([...cmd, "--help"]);
    assertEquals(r.code, 0, cmd.join(" "));
    assertStringIncludes(r.stdout, `Usage: veil ${cmd.join(" ")}`);
  }
  const cases: [string[], string][] = [
    [["client", "create"], "Missing argument NAME"],
    [["client", "create", "x", "--bogus"], "Unknown option '--bogus'"],
    [["frobnicate"], "Unknown command frobnicate"],
    [["client", "frobnicate"], "Unknown command client frobnicate"],
    [
      ["secret", "create", "s", "--host", "a.example.com", "--type", "rot13", "--value", "v"],
      "Unknown secret type rot13",
    ],
    [["allow", "c", "--host", "*"], "Invalid host pattern *"],
    [["allow", "c", "--host", "a.example.com", "--port", "http"], "Invalid port http"],
    [["allow", "c", "--host", "a.example.com", "--ttl", "soon"], "Invalid duration soon"],
    [["serve", "--listen", "nowhere"], "Invalid --listen nowhere"],
  ];
  for (const [args, message] of cases) {
    const r = await f.cli(args);
    assert(r.code === 2 || (r.code === 1 && args[0] === "allow"), `${args.join(" ")} exited ${r.code}`);
    assertStringIncludes(r.stderr, message);
    assertEquals(r.stderr.trim().split("\n").length, 1, `one line for ${args.join(" ")}: ${r.stderr}`);
    assert(!r.stderr.includes("    at "), "no stack trace");
  }
});

Deno.test("failed commands change nothing: missing value file, unknown type, unknown client, existing name", async () => {
  await using f = await fixture([]);
  await f.ok(["client", "create", "sbox-1"]);
  await f.ok([
    "secret",
    "create",
    "s1",
    "--host",
    "a.example.com",
    "--type",
    "bearer",
    "--value",
    "first-value",
  ]);
  const snapshot = async () =>
    [
      await f.ok(["client", "list", "--json"]),
      await f.ok(["secret", "list", "--json"]),
      await f.ok(["rules", "--json"]),
    ].join("\n");
  const before = await snapshot();
  const failures: [string[], number, string][] = [
    [
      [
        "secret",
        "create",
        "s2",
        "--host",
        "a.example.com",
        "--type",
        "bearer",
        "--value-file",
        `${f.dir}/nope`,
      ],
      1,
      "Cannot read value file",
    ],
    [
      ["secret", "create", "s2", "--host", "a.example.com", "--type", "nope", "--value", "v"],
      2,
      "Unknown secret type",
    ],
    [
      ["secret", "create", "s1", "--host", "a.example.com", "--type", "bearer", "--value", "second"],
      1,
      "already exists",
    ],
    [
      ["secret", "create", "s2", "--host", "a.example.com", "--type", "basic", "--value", "no-colon"],
      1,
      "user:pass",
    ],
    [["allow", "ghost", "--host", "a.example.com"], 1, "Unknown client ghost"],
    [["allow", "sbox-1", "--host", "a.example.com", "--secret", "ghost"], 1, "Unknown secret ghost"],
    [["revoke", "sbox-1", "--host", "a.example.com"], 1, "no rule for a.example.com"],
    [["client", "create", "sbox-1"], 1, "already exists"],
    [["client", "delete", "ghost"], 1, "Unknown client ghost"],
  ];
  for (const [args, code, message] of failures) {
    const r = await f.cli(args);
    assertEquals(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assertStringIncludes(r.stderr, message);
  }
  assertEquals(await snapshot(), before);
});

Deno.test("--force replaces a secret and rules naming it keep it; value files are trimmed", async () => {
  await using f = await fixture([]);
  await f.ok(["client", "create", "sbox-1"]);
  await Deno.writeTextFile(`${f.dir}/v`, "tok-one  \n\n");
  await f.ok([
    "secret",
    "create",
    "s1",
    "--host",
    "a.example.com",
    "--type",
    "bearer",
    "--value-file",
    `${f.dir}/v`,
  ]);
  await f.ok(["allow", "sbox-1", "--host", "a.example.com", "--secret", "s1"]);
  const r = await f.cli([
    "secret",
    "create",
    "s1",
    "--host",
    "b.example.com",
    "--type",
    "basic",
    "--value",
    "u:p",
    "--force",
  ]);
  assertEquals(r.code, 0, r.stderr);
  const secrets = JSON.parse(await f.ok(["secret", "list", "--json"]));
  assertEquals(secrets.map((s: Record<string, string>) => [s.name, s.type, s.host]), [[
    "s1",
    "basic",
    "b.example.com",
  ]]);
  const rules = JSON.parse(await f.ok(["rules", "sbox-1", "--json"]));
  assertEquals(rules[0].secret, "s1");
  const del = await f.cli(["secret", "delete", "s1"]);
  assertEquals(del.code, 1);
  assertStringIncludes(del.stderr, "revoke them first");
});

Deno.test("client create prints only the token; listings never show tokens or values", async () => {
  await using f = await fixture([]);
  const out = await f.ok(["client", "create", "sbox-1"]);
  assertMatch(out, /^veil_[A-Za-z0-9_-]{43}\n$/);
  const token = out.trim();
  await f.ok([
    "secret",
    "create",
    "s1",
    "--host",
    "a.example.com",
    "--type",
    "bearer",
    "--value",
    "very-secret-value",
  ]);
  await f.ok([
    "allow",
    "sbox-1",
    "--host",
    "*.example.com",
    "--secret",
    "s1",
    "--path",
    "/v1/*",
    "--method",
    "get",
    "--ttl",
    "1h",
  ]);
  const listings = [
    await f.ok(["client", "list"]),
    await f.ok(["client", "list", "--json"]),
    await f.ok(["secret", "list"]),
    await f.ok(["secret", "list", "--json"]),
    await f.ok(["rules"]),
    await f.ok(["rules", "sbox-1", "--json"]),
  ].join("\n");
  assert(!listings.includes(token) && !listings.includes("very-secret-value"));
  const rules = JSON.parse(await f.ok(["rules", "sbox-1", "--json"]));
  assertEquals(rules[0].methods, ["GET"]);
  assertEquals(rules[0].ports, [443, 80]);
  assertEquals(rules[0].paths, ["/v1/*"]);
  const rotated = (await f.ok(["client", "rotate", "sbox-1"])).trim();
  assert(rotated !== token);
});

Deno.test("state, seal key and CA are created once when two processes race", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const state = `${dir}/fresh/nested`;
    const runs = await Promise.all(Array.from({ length: 5 }, () => veil(state, ["ca", "cert"])));
    assertEquals(runs.map((r) => r.code), [0, 0, 0, 0, 0], runs.map((r) => r.stderr).join(""));
    for (const r of runs) assertEquals(r.stdout, runs[0].stdout);
    const [a] = runs;
    assertMatch(a.stdout, /^-----BEGIN CERTIFICATE-----/);
    assertEquals((await Deno.stat(state)).mode! & 0o777, 0o700);
    assertEquals((await Deno.stat(`${state}/seal.key`)).mode! & 0o777, 0o600);
    assertEquals((await Deno.stat(`${state}/veil.kv`)).mode! & 0o777, 0o600);
    const entries = [...Deno.readDirSync(state)].map((e) => e.name).filter((n) => n.startsWith(".seal"));
    assertEquals(entries, [], "no temporary key files left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a wrong or missing seal key is a clear error, never plaintext", async () => {
  await using f = await fixture([]);
  await f.ok(["secret", "create", "s1", "--host", "a.example.com", "--type", "bearer", "--value", "v-123"]);
  const wrongKey = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  const r = await f.cli(["ca", "cert"], { VEIL_SEAL_KEY: wrongKey });
  assertEquals(r.code, 1);
  assertStringIncludes(r.stderr, "wrong seal key");
  const created = await f.cli(["client", "create", "c2"], { VEIL_SEAL_KEY: wrongKey });
  assertEquals(created.code, 1, "nothing is written under a wrong key");
  assertEquals(JSON.parse(await f.ok(["client", "list", "--json"])), []);
  const bad = await f.cli(["client", "list"], { VEIL_SEAL_KEY: btoa("short") });
  assertEquals(bad.code, 1);
  assertStringIncludes(bad.stderr, "must be 32 bytes");
});

Deno.test("a missing seal key beside existing state is an error, not a new key", async () => {
  await using f = await fixture([]);
  await Deno.remove(`${f.state}/seal.key`);
  const r = await f.cli(["client", "list"]);
  assertEquals(r.code, 1);
  assertStringIncludes(r.stderr, "seal.key is missing");
  await Deno.stat(`${f.state}/seal.key`).then(() => assert(false, "a new key was created"), () => {});
});
