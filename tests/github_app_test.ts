import {
  assert,
  assertEquals,
  assertMatch,
  assertNotIncludes,
  assertStringIncludes,
} from "./helpers/assert.ts";
import { type FakeGitHub, GITHUB_HOSTS, startFakeGitHub } from "./helpers/fake_github.ts";
import { type Fixture, fixture } from "./helpers/fixture.ts";
import { curl, type RunningVeil } from "./helpers/veil.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };

interface GitWorld extends AsyncDisposable {
  f: Fixture;
  gh: FakeGitHub;
  token: string;
  server: RunningVeil;
  /** Runs real git through veil's https:// proxy URL. */
  git(args: string[], cwd?: string): Promise<{ code: number; stderr: string }>;
}

async function gitWorld(
  appFile: (gh: FakeGitHub, dir: string) => Promise<string>,
  allow = true,
): Promise<GitWorld> {
  const f = await fixture([]);
  const gh = await startFakeGitHub(await f.pki.issue(GITHUB_HOSTS), f.dir);
  const token = (await f.ok(["client", "create", "vm"])).trim();
  await f.ok([
    "secret",
    "create",
    "gh-app",
    "--host",
    "github.com",
    "--type",
    "github-app",
    "--value-file",
    await appFile(gh, f.dir),
  ]);
  if (allow) await f.ok(["allow", "vm", "--host", "github.com", "--secret", "gh-app"]);
  const connect = GITHUB_HOSTS.flatMap((h) => ["--connect-to", `${h}:443:127.0.0.1:${gh.port}`]);
  const server = await f.serve([...connect, "--audit-log", `${f.dir}/audit.jsonl`]);
  const home = `${f.dir}/home`;
  await Deno.mkdir(home);
  return {
    f,
    gh,
    token,
    server,
    async git(args, cwd) {
      const out = await new Deno.Command("git", {
        args: [
          "-c",
          `http.proxy=https://proxy:${token}@127.0.0.1:${server.tlsPort}`,
          "-c",
          `http.proxySSLCAInfo=${f.veilCaFile}`,
          "-c",
          `http.sslCAInfo=${f.veilCaFile}`,
          "-c",
          "user.name=vm",
          "-c",
          "user.email=vm@example.com",
          ...args,
        ],
        cwd: cwd ?? f.dir,
        env: { HOME: home, GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", GIT_SSL_CAINFO: f.veilCaFile },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    },
    async [Symbol.asyncDispose]() {
      await f[Symbol.asyncDispose]();
      await gh[Symbol.asyncDispose]();
    },
  };
}

const keyFile = async (gh: FakeGitHub, dir: string) => {
  await Deno.writeTextFile(`${dir}/app.pem`, gh.privateKeyPem);
  await Deno.writeTextFile(`${dir}/app.yaml`, `app_id: ${gh.appId}\nprivate_key_file: ${dir}/app.pem\n`);
  return `${dir}/app.yaml`;
};

Deno.test("git clone and push through veil with a GitHub App key the VM never sees", sanitize, async () => {
  await using w = await gitWorld(keyFile);
  const clone = await w.git(["clone", "-q", "https://github.com/org/private.git", "private"]);
  assertEquals(clone.code, 0, clone.stderr);
  assertEquals(await Deno.readTextFile(`${w.f.dir}/private/README`), "org/private\n");
  await Deno.writeTextFile(`${w.f.dir}/private/CHANGE`, "from the vm\n");
  assertEquals((await w.git(["add", "CHANGE"], `${w.f.dir}/private`)).code, 0);
  assertEquals((await w.git(["commit", "-q", "-m", "vm change"], `${w.f.dir}/private`)).code, 0);
  const push = await w.git(["push", "-q", "origin", "HEAD:main"], `${w.f.dir}/private`);
  assertEquals(push.code, 0, push.stderr);
  const log = await new Deno.Command("git", {
    args: ["--git-dir", `${w.gh.root}/org/private.git`, "log", "--format=%s", "main"],
    stdout: "piped",
  }).output();
  assertEquals(new TextDecoder().decode(log.stdout), "vm change\nfirst\n");
  assertEquals(w.gh.mints, 1, "one token served the clone and the push");
  assertEquals(w.gh.rejectedJwts, []);
  // The installation came from the repository in the path; another repo gets its own.
  const other = await w.git(["clone", "-q", "https://github.com/other/tools.git", "tools"]);
  assertEquals(other.code, 0, other.stderr);
  assertEquals(w.gh.mints, 2);

  const list = await w.f.ok(["secret", "list"]);
  assertMatch(
    list,
    /gh-app\s+github-app\s+github\.com\s+\S+\s+\S+\s+app_id=4242 installation=auto key=file:/,
  );
  await w.server.stop();
  const haystacks: [string, string | Uint8Array][] = [
    ["stdout", w.server.stdout()],
    ["stderr", w.server.stderr()],
    ["audit", await Deno.readTextFile(`${w.f.dir}/audit.jsonl`)],
    ["list", list + (await w.f.ok(["secret", "show", "gh-app"]))],
  ];
  for await (const e of Deno.readDir(w.f.state)) {
    if (e.isFile && e.name !== "seal.key") {
      haystacks.push([e.name, await Deno.readFile(`${w.f.state}/${e.name}`)]);
    }
  }
  const keyLine = w.gh.privateKeyPem.split("\n")[5];
  for (const [where, text] of haystacks) {
    for (const t of [...w.gh.issued, keyLine]) assertNotIncludes(text, t, where);
  }
  assertMatch(
    w.server.stdout(),
    /msg=allow client=vm method=POST host=github\.com port=443 path=\/org\/private\.git\/git-receive-pack inject=gh-app status=200/,
  );
});

Deno.test(
  "without a rule git gets 403; an inline key works; tokens are re-minted after expiry",
  sanitize,
  async () => {
    await using denied = await gitWorld(keyFile, false);
    const r = await denied.git(["clone", "-q", "https://github.com/org/private.git", "x"]);
    assert(r.code !== 0);
    assertStringIncludes(r.stderr, "403");
    assertEquals(denied.gh.mints, 0);

    await using w = await gitWorld(async (gh, dir) => {
      await Deno.writeTextFile(
        `${dir}/app.json`,
        JSON.stringify({ app_id: gh.appId, private_key: gh.privateKeyPem, installation_id: 101 }),
      );
      return `${dir}/app.json`;
    });
    // Tokens live 5 min + 3 s: reused for 3 s, then minted again.
    w.gh.tokenLifetimeMs = 5 * 60_000 + 3000;
    assertEquals((await w.git(["clone", "-q", "https://github.com/org/private.git", "a"])).code, 0);
    assertEquals((await w.git(["clone", "-q", "https://github.com/org/private.git", "b"])).code, 0);
    assertEquals(w.gh.mints, 1);
    await new Promise((r) => setTimeout(r, 3500));
    assertEquals((await w.git(["clone", "-q", "https://github.com/org/private.git", "c"])).code, 0);
    assertEquals(w.gh.mints, 2);
  },
);

Deno.test(
  "parallel clones share one mint; several installations and no repository is a clear 502",
  sanitize,
  async () => {
    await using w = await gitWorld(keyFile);
    const clones = await Promise.all(
      [1, 2, 3, 4].map((i) => w.git(["clone", "-q", "https://github.com/org/private.git", `p${i}`])),
    );
    assertEquals(clones.map((c) => c.code), [0, 0, 0, 0], clones.map((c) => c.stderr).join("\n"));
    assertEquals(w.gh.mints, 1);
    const viaVeil = [
      "-x",
      w.server.httpsProxy(w.token),
      "--proxy-cacert",
      w.f.veilCaFile,
      "--cacert",
      w.f.veilCaFile,
    ];
    const r = await curl([...viaVeil, "https://github.com/"]);
    assertEquals(r.status, 502);
    assertStringIncludes(r.body, "github-app-installation-ambiguous");
    const missing = await curl([
      ...viaVeil,
      "https://github.com/nobody/nothing.git/info/refs?service=git-upload-pack",
    ]);
    assertEquals(missing.status, 502);
    assertStringIncludes(missing.body, "github-app-installation-not-found");
  },
);

Deno.test("bad github-app files fail at secret create, naming the problem, and store nothing", async () => {
  await using f = await fixture([]);
  const { privateKey: ecKey } = (await import("node:crypto")).generateKeyPairSync("ec", {
    namedCurve: "P-256",
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const { privateKey: rsaKey } = (await import("node:crypto")).generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  await Deno.writeTextFile(`${f.dir}/ec.pem`, String(ecKey));
  await Deno.writeTextFile(
    `${f.dir}/junk.pem`,
    "-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n",
  );
  await Deno.writeTextFile(`${f.dir}/rsa8.pem`, String(rsaKey));
  const cases: [string, string][] = [
    ["app_id: [1, 2\n", "malformed YAML"],
    [`private_key_file: ${f.dir}/rsa8.pem\n`, "missing app_id"],
    ["app_id: 1\n", "exactly one of private_key_file and private_key"],
    [`app_id: 1\nprivate_key_file: ${f.dir}/rsa8.pem\nprivate_key: x\n`, "exactly one of"],
    [`app_id: 1\nprivate_key_file: ${f.dir}/missing.pem\n`, "no such file"],
    [`app_id: 1\nprivate_key_file: ${f.dir}/junk.pem\n`, "does not parse"],
    [`app_id: 1\nprivate_key_file: ${f.dir}/ec.pem\n`, "is not an RSA key"],
    [
      `app_id: 1\nprivate_key_file: ${f.dir}/rsa8.pem\napi_endpoint: http://github.example.com/api/v3\n`,
      "must be https://",
    ],
  ];
  for (const [content, message] of cases) {
    await Deno.writeTextFile(`${f.dir}/app.yaml`, content);
    const r = await f.cli([
      "secret",
      "create",
      "app",
      "--host",
      "github.com",
      "--type",
      "github-app",
      "--value-file",
      `${f.dir}/app.yaml`,
    ]);
    assertEquals(r.code, 1, content);
    assertStringIncludes(r.stderr, message);
    assertEquals(r.stderr.trim().split("\n").length, 1);
  }
  // PKCS#8 RSA keys and client ids are accepted too.
  await Deno.writeTextFile(`${f.dir}/app.yaml`, `app_id: Iv1.abc123\nprivate_key_file: ${f.dir}/rsa8.pem\n`);
  await f.ok(["secret", "create", "app", "--type", "github-app", "--value-file", `${f.dir}/app.yaml`]);
  const list = JSON.parse(await f.ok(["secret", "list", "--json"]));
  assertEquals(list.map((s: Record<string, string>) => [s.name, s.host]), [["app", "github.com"]]);
});
