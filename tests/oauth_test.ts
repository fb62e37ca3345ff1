import {
  assert,
  assertEquals,
  assertMatch,
  assertNotIncludes,
  assertStringIncludes,
} from "./helpers/assert.ts";
import { oauthWorld } from "./helpers/oauth_world.ts";
import { eventually } from "./helpers/world.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };

const API: Record<string, string> = {
  "oauth-claude": "api.anthropic.com",
  "oauth-codex": "chatgpt.com",
  "oauth-github-copilot": "api.githubcopilot.com",
  "oauth-xai": "api.x.ai",
  "github-app-user": "api.github.com",
};

async function ask(client: Deno.HttpClient, url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { client, headers });
  const text = await res.text();
  return {
    status: res.status,
    body: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text,
  };
}

function header(body: { headers: [string, string][] }, name: string): string | undefined {
  return body.headers.find(([n]) => n === name)?.[1];
}

Deno.test("each OAuth type injects the right headers to its API", sanitize, async () => {
  await using w = await oauthWorld();
  for (const type of Object.keys(API)) {
    await w.f.ok(["secret", "create", type, "--type", type, "--value-file", await w.adoptFile(type)]);
    await w.f.ok(["allow", "sbox-1", "--host", API[type], "--secret", type]);
  }
  const server = await w.serve();
  const client = await w.client(server);
  try {
    for (const type of Object.keys(API)) {
      const extra: Record<string, string> = type === "oauth-claude"
        ? { "x-api-key": "sk-ant-from-vm", "anthropic-beta": "tools-2024" }
        : {};
      const r = await ask(client, `https://${API[type]}/v1/thing`, extra);
      assertEquals(r.status, 200, `${type}: ${JSON.stringify(r.body)}`);
      assertEquals(r.body.valid, true, `${type} got a token its API accepts`);
      if (type === "oauth-claude") {
        assertEquals(header(r.body, "x-api-key"), undefined);
        assertEquals(header(r.body, "anthropic-beta"), "tools-2024,oauth-2025-04-20");
      }
      if (type === "oauth-codex") assertEquals(header(r.body, "chatgpt-account-id"), "acct-1");
    }
    assertEquals(
      w.fake.grants.claude + w.fake.grants.codex + w.fake.grants.xai + w.fake.grants.github,
      0,
      "no refresh was needed",
    );
  } finally {
    client.close();
  }
  const list = await w.f.ok(["secret", "list"]);
  assertMatch(list, /oauth-claude\s+oauth-claude\s+api\.anthropic\.com/);
});

Deno.test(
  "a long-lived gho_ Copilot token is used as it is; a short one is exchanged",
  sanitize,
  async () => {
    await using w = await oauthWorld();
    const file = `${w.f.dir}/opencode.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        "github-copilot": {
          type: "oauth",
          refresh: "gho_longlived123",
          access: "gho_longlived123",
          expires: 0,
        },
      }),
    );
    await w.f.ok(["secret", "create", "cp", "--type", "oauth-github-copilot", "--value-file", file]);
    await w.f.ok(["allow", "sbox-1", "--host", "api.githubcopilot.com", "--secret", "cp"]);
    const server = await w.serve();
    const client = await w.client(server);
    try {
      const r = await ask(client, "https://api.githubcopilot.com/chat/completions");
      assertEquals(r.status, 200);
      assertEquals(w.fake.lastAuth.copilot, "Bearer gho_longlived123");
      assertEquals(header(r.body, "authorization"), "Bearer [veil:redacted]*", "the echo is scrubbed");
      assertEquals(w.fake.grants.copilot, 0);
      // An expired exchange token is swapped for a fresh one at the copilot_internal endpoint.
      await w.f.ok([
        "secret",
        "create",
        "cp",
        "--type",
        "oauth-github-copilot",
        "--value-file",
        await w.adoptFile("oauth-github-copilot", -5),
        "--force",
      ]);
      await eventually(
        async () => (await ask(client, "https://api.githubcopilot.com/x")).body.valid === true,
        "copilot exchange",
      );
      assertEquals(w.fake.grants.copilot, 1);
    } finally {
      client.close();
    }
  },
);

Deno.test(
  "tokens refresh in the background before they expire, rotating refresh tokens",
  sanitize,
  async () => {
    await using w = await oauthWorld();
    w.fake.lifetime.xai = 3;
    await w.f.ok([
      "secret",
      "create",
      "x",
      "--type",
      "oauth-xai",
      "--value-file",
      await w.adoptFile("oauth-xai", 3),
    ]);
    await w.f.ok(["allow", "sbox-1", "--host", "api.x.ai", "--secret", "x"]);
    const server = await w.serve();
    const client = await w.client(server);
    try {
      const first = await ask(client, "https://api.x.ai/v1/models");
      assertEquals(first.body.valid, true);
      const firstAuth = w.fake.lastAuth.xai;
      // The refresh happens at 80% of the life, without a request waiting for it.
      await eventually(() => Promise.resolve(w.fake.grants.xai >= 2), "two background refreshes");
      const later = await ask(client, "https://api.x.ai/v1/models");
      assertEquals(later.body.valid, true);
      assert(w.fake.lastAuth.xai !== firstAuth, "a new access token is used");
      assertEquals(w.fake.reused, []);
      const show = await w.f.ok(["secret", "show", "x"]);
      assertMatch(show, /state\s+ok/);
      assertMatch(show, /last_refresh\s+20\d\d-/);
    } finally {
      client.close();
    }
  },
);

Deno.test("50 concurrent requests on an expired token cause exactly one refresh", sanitize, async () => {
  await using w = await oauthWorld();
  await w.f.ok([
    "secret",
    "create",
    "c",
    "--type",
    "oauth-claude",
    "--value-file",
    await w.adoptFile("oauth-claude", -60),
  ]);
  await w.f.ok(["allow", "sbox-1", "--host", "api.anthropic.com", "--secret", "c"]);
  const server = await w.serve();
  const client = await w.client(server);
  try {
    const results = await Promise.all(
      Array.from({ length: 50 }, () => ask(client, "https://api.anthropic.com/v1/messages")),
    );
    assertEquals(results.map((r) => r.status), Array(50).fill(200));
    assert(results.every((r) => r.body.valid === true));
    assertEquals(w.fake.grants.claude, 1);
  } finally {
    client.close();
  }
});

Deno.test("a restart between refreshes loses nothing and reuses no refresh token", sanitize, async () => {
  await using w = await oauthWorld();
  w.fake.lifetime.codex = 4;
  await w.f.ok([
    "secret",
    "create",
    "cx",
    "--type",
    "oauth-codex",
    "--value-file",
    await w.adoptFile("oauth-codex", -60),
  ]);
  await w.f.ok(["allow", "sbox-1", "--host", "chatgpt.com", "--secret", "cx"]);
  for (let round = 0; round < 3; round++) {
    const server = await w.serve();
    const client = await w.client(server);
    try {
      const r = await ask(client, "https://chatgpt.com/backend-api/codex/responses");
      assertEquals(r.body.valid, true, `round ${round}`);
    } finally {
      client.close();
    }
    await server.stop();
    await new Promise((r) => setTimeout(r, 4000 * 0.9));
  }
  assert(w.fake.grants.codex >= 2, `refreshed across restarts (${w.fake.grants.codex})`);
  assertEquals(w.fake.reused, [], "no refresh token was used twice");
});

Deno.test(
  "transient failures keep the old token; permanent ones mark needs-login and answer 502",
  sanitize,
  async () => {
    await using w = await oauthWorld();
    // Past 80% of its life with 20 s left: veil refreshes at once, and may keep using it meanwhile.
    const file = await w.adoptFile("github-app-user", 20, 120);
    await w.f.ok(["secret", "create", "gh", "--type", "github-app-user", "--value-file", file]);
    await w.f.ok(["allow", "sbox-1", "--host", "api.github.com", "--secret", "gh"]);
    w.fake.failNext("github", 503, 100);
    const server = await w.serve(["--audit-log", `${w.f.dir}/audit.jsonl`]);
    const client = await w.client(server);
    try {
      const before = await ask(client, "https://api.github.com/user");
      assertEquals(before.body.valid, true);
      const beforeAuth = w.fake.lastAuth.github;
      await eventually(
        async () => /last_error\s+.*503/.test(await w.f.ok(["secret", "show", "gh"])),
        "a failed refresh",
      );
      const during = await ask(client, "https://api.github.com/user");
      assertEquals(during.body.valid, true, "the current token is still served");
      assertEquals(w.fake.lastAuth.github, beforeAuth);
      assertMatch(await w.f.ok(["secret", "show", "gh"]), /state\s+ok/);

      w.fake.failNext("github", 503, 0);
      w.fake.revoke("github");
      await eventually(async () => /needs-login/.test(await w.f.ok(["secret", "list"])), "needs-login");
      const after = await ask(client, "https://api.github.com/user");
      assertEquals(after.status, 502);
      assertStringIncludes(after.body, "credential-refresh-failed");
    } finally {
      client.close();
    }
    await server.stop();
    assertMatch(
      server.stdout(),
      /msg=error client=sbox-1 method=GET host=api\.github\.com .*status=502 reason=credential-refresh-failed/,
    );
    const show = JSON.parse(await w.f.ok(["secret", "show", "gh", "--json"]));
    assertEquals(show.state, "needs-login");
    assertMatch(show.last_error, /bad_refresh_token|invalid_grant/);
  },
);

Deno.test("adoption rejects files of the wrong shape, naming the field, and stores nothing", async () => {
  await using w = await oauthWorld();
  const cases: [string, unknown, string][] = [
    ["oauth-claude", { claudeAiOauth: { accessToken: "a" } }, "missing claudeAiOauth.refreshToken"],
    ["oauth-codex", { tokens: { access_token: "a", refresh_token: "r" } }, "missing tokens.account_id"],
    ["oauth-github-copilot", { other: {} }, "missing github-copilot entry"],
    ["oauth-xai", { access_token: "a" }, "missing refresh_token"],
    ["github-app-user", { access_token: "a" }, "missing client_id"],
    ["oauth-xai", "not json at all", "not JSON"],
  ];
  for (const [type, content, message] of cases) {
    const file = `${w.f.dir}/bad.json`;
    await Deno.writeTextFile(file, typeof content === "string" ? content : JSON.stringify(content));
    const r = await w.f.cli(["secret", "create", "bad", "--type", type, "--value-file", file]);
    assertEquals(r.code, 1, type);
    assertStringIncludes(r.stderr, message);
  }
  const r = await w.f.cli([
    "secret",
    "create",
    "bad",
    "--type",
    "oauth-xai",
    "--value-file",
    await w.adoptFile("oauth-xai"),
    "--token-endpoint",
    "http://auth.example.com/token",
  ]);
  assertEquals(r.code, 1);
  assertStringIncludes(r.stderr, "must be https://");
  assertEquals(JSON.parse(await w.f.ok(["secret", "list", "--json"])), []);
});

Deno.test("no token from any provider appears in stdout, the audit or the KV file", sanitize, async () => {
  await using w = await oauthWorld();
  w.fake.lifetime.claude = 3;
  for (const type of Object.keys(API)) {
    await w.f.ok([
      "secret",
      "create",
      type,
      "--type",
      type,
      "--value-file",
      await w.adoptFile(type, type === "oauth-claude" ? -1 : 3600),
    ]);
    await w.f.ok(["allow", "sbox-1", "--host", API[type], "--secret", type]);
  }
  const server = await w.serve(["--audit-log", `${w.f.dir}/audit.jsonl`]);
  const client = await w.client(server);
  try {
    for (const type of Object.keys(API)) {
      assertEquals((await ask(client, `https://${API[type]}/x`)).status, 200);
    }
    await eventually(() => Promise.resolve(w.fake.grants.claude >= 2), "refreshes");
  } finally {
    client.close();
  }
  await server.stop();
  const listings = [await w.f.ok(["secret", "list", "--json"]), await w.f.ok(["audit", "--json"])];
  for (const type of Object.keys(API)) listings.push(await w.f.ok(["secret", "show", type, "--json"]));
  const haystacks: [string, string | Uint8Array][] = [
    ["stdout", server.stdout()],
    ["stderr", server.stderr()],
    ["audit log", await Deno.readTextFile(`${w.f.dir}/audit.jsonl`)],
    ["cli", listings.join("\n")],
  ];
  for await (const e of Deno.readDir(w.f.state)) {
    if (e.isFile && e.name !== "seal.key") {
      haystacks.push([e.name, await Deno.readFile(`${w.f.state}/${e.name}`)]);
    }
  }
  assert(w.fake.issuedTokens.length >= 12);
  for (const [where, text] of haystacks) {
    for (const t of w.fake.issuedTokens) assertNotIncludes(text, t, where);
  }
  assertNotIncludes(server.stdout(), w.token, "stdout");
});
