import { assert, assertEquals, assertMatch, assertStringIncludes } from "./helpers/assert.ts";
import { oauthWorld } from "./helpers/oauth_world.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

interface Login {
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  /** Resolves with the first stderr text matching the pattern. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  done: Promise<{ code: number; stdout: string; stderr: string }>;
}

function login(w: Awaited<ReturnType<typeof oauthWorld>>, args: string[]): Login {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "oauth",
      ...args,
      "--upstream-ca",
      w.f.pki.caFile,
      ...w.connect,
      "--state",
      w.f.state,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let stderr = "";
  let stdout = "";
  const decoder = new TextDecoder();
  const errDone = (async () => {
    for await (const c of child.stderr) stderr += decoder.decode(c);
  })();
  const outDone = (async () => {
    for await (const c of child.stdout) stdout += decoder.decode(c);
  })();
  const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const stdin = child.stdin.getWriter();
  return {
    stdin,
    async waitFor(pattern) {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const m = stderr.match(pattern);
        if (m) return m;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${pattern} in: ${stderr}`);
    },
    done: (async () => {
      const status = await child.status;
      clearTimeout(killer);
      await Promise.all([errDone, outDone]);
      await stdin.close().catch(() => {});
      return { code: status.code, stdout, stderr };
    })(),
  };
}

/** Plays the browser: asks the fake authorize endpoint, returns where it redirects. */
async function authorize(w: Awaited<ReturnType<typeof oauthWorld>>, url: string): Promise<string> {
  const out = await new Deno.Command("curl", {
    args: [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{redirect_url}",
      "--cacert",
      w.f.pki.caFile,
      "--connect-to",
      `auth.x.ai:443:127.0.0.1:${w.fake.port}`,
      url,
    ],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test("oauth xai: PKCE login through the loopback callback, adoptable output", async () => {
  await using w = await oauthWorld();
  const port = freePort();
  const l = login(w, ["xai", "--port", String(port)]);
  const [url] = await l.waitFor(/https:\/\/auth\.x\.ai\/oauth2\/authorize\?\S+/);
  const params = new URL(url).searchParams;
  assertEquals(params.get("code_challenge_method"), "S256");
  assertEquals(params.get("redirect_uri"), `http://127.0.0.1:${port}/callback`);
  const redirect = await authorize(w, url);
  assertMatch(redirect, new RegExp(`^http://127\\.0\\.0\\.1:${port}/callback\\?code=`));
  const page = await fetch(redirect);
  assertStringIncludes(await page.text(), "you can close this window");
  const r = await l.done;
  assertEquals(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assertEquals(json.type, "oauth-xai");
  assertEquals(json.token_endpoint, "https://auth.x.ai/oauth2/token");
  for (const k of ["access_token", "refresh_token", "id_token", "token_type", "obtained_at"]) {
    assert(json[k], k);
  }
  await Deno.writeTextFile(`${w.f.dir}/xai.json`, r.stdout);
  await w.f.ok(["secret", "create", "xai", "--type", "oauth-xai", "--value-file", `${w.f.dir}/xai.json`]);
  assertEquals(w.fake.grants.xai, 1);
});

Deno.test("oauth xai: a pasted code or redirect URL completes the login; a wrong state does not", async () => {
  await using w = await oauthWorld();
  const l = login(w, ["xai", "--port", String(freePort())]);
  const [url] = await l.waitFor(/https:\/\/auth\.x\.ai\/oauth2\/authorize\?\S+/);
  const code = new URL(await authorize(w, url)).searchParams.get("code")!;
  await l.stdin.write(new TextEncoder().encode(`${code}\n`));
  const r = await l.done;
  assertEquals(r.code, 0, r.stderr);
  assert(JSON.parse(r.stdout).access_token);

  const l2 = login(w, ["xai", "--port", String(freePort())]);
  const [url2] = await l2.waitFor(/https:\/\/auth\.x\.ai\/oauth2\/authorize\?\S+/);
  const forged = new URL(await authorize(w, url2));
  forged.searchParams.set("state", "forged");
  await l2.stdin.write(new TextEncoder().encode(`${forged.href}\n`));
  const r2 = await l2.done;
  assertEquals(r2.code, 1);
  assertStringIncludes(r2.stderr, "xAI login failed");
  assertEquals(r2.stdout, "");
});

Deno.test("oauth xai: denial and a closed window fail with one line", async () => {
  await using w = await oauthWorld();
  const port = freePort();
  const l = login(w, ["xai", "--port", String(port)]);
  const [url] = await l.waitFor(/https:\/\/auth\.x\.ai\/oauth2\/authorize\?\S+/);
  await fetch(await authorize(w, url + "&deny=1")).then((r) => r.body?.cancel());
  const r = await l.done;
  assertEquals(r.code, 1);
  assertMatch(r.stderr, /veil: xAI login failed: access_denied\n$/);

  const closed = login(w, ["xai", "--port", String(freePort()), "--timeout", "2s"]);
  await closed.stdin.close();
  const rc = await closed.done;
  assertEquals(rc.code, 1);
  assertMatch(rc.stderr, /veil: xAI login timed out/);
});

Deno.test("oauth xai --device: pending, then success; and denial", async () => {
  await using w = await oauthWorld();
  w.fake.xaiDeviceScript = ["authorization_pending", "ok"];
  const l = login(w, ["xai", "--device"]);
  await l.waitFor(/enter the code XAI-1234/);
  const r = await l.done;
  assertEquals(r.code, 0, r.stderr);
  assert(JSON.parse(r.stdout).refresh_token);
  w.fake.xaiDeviceScript = ["access_denied"];
  const d = await login(w, ["xai", "--device"]).done;
  assertEquals(d.code, 1);
  assertMatch(d.stderr, /veil: xAI login was denied/);
});

Deno.test("oauth github-app-user: device flow through pending, slow_down, success; and expiry", async () => {
  await using w = await oauthWorld();
  w.fake.githubDeviceScript = ["authorization_pending", "slow_down", "ok"];
  const started = Date.now();
  const l = login(w, ["github-app-user", "--client-id", "Iv1.testapp"]);
  await l.waitFor(/enter the code GH-5678/);
  const r = await l.done;
  assertEquals(r.code, 0, r.stderr);
  assert(Date.now() - started >= 7000, "slow_down added 5 s to the interval");
  const json = JSON.parse(r.stdout);
  assertEquals(json.client_id, "Iv1.testapp");
  assertEquals(json.token_endpoint, "https://github.com/login/oauth/access_token");
  for (
    const k of ["access_token", "refresh_token", "expires_at", "refresh_token_expires_at", "obtained_at"]
  ) assert(json[k], k);
  await Deno.writeTextFile(`${w.f.dir}/gh.json`, r.stdout);
  await w.f.ok(["secret", "create", "gh", "--type", "github-app-user", "--value-file", `${w.f.dir}/gh.json`]);

  w.fake.githubDeviceScript = ["expired_token"];
  const e = await login(w, ["github-app-user", "--client-id", "Iv1.testapp"]).done;
  assertEquals(e.code, 1);
  assertMatch(e.stderr, /veil: GitHub login expired/);
  w.fake.githubDeviceScript = ["access_denied"];
  const d = await login(w, ["github-app-user", "--client-id", "Iv1.testapp"]).done;
  assertEquals(d.code, 1);
  assertMatch(d.stderr, /veil: GitHub login was denied/);
  const wrong = await login(w, ["github-app-user", "--client-id", "Iv1.unknown"]).done;
  assertEquals(wrong.code, 1);
  assertMatch(wrong.stderr, /GitHub device authorization failed/);
});
