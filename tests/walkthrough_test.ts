import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { fixture } from "./helpers/fixture.ts";
import { curl } from "./helpers/veil.ts";

const sanitize = { sanitizeOps: true, sanitizeResources: true };

Deno.test("walkthrough: create, allow, inject over the https proxy, revoke", sanitize, async () => {
  await using f = await fixture();
  const token = (await f.ok(["client", "create", "sbox-1"])).trim();
  assertMatch(token, /^veil_[A-Za-z0-9_-]{43}$/);
  await Deno.writeTextFile(`${f.dir}/llama.token`, "sk-1234567890\n");
  await f.ok([
    "secret",
    "create",
    "llama-1",
    "--host",
    "llama.example.com",
    "--type",
    "bearer",
    "--value-file",
    `${f.dir}/llama.token`,
  ]);
  await Deno.remove(`${f.dir}/llama.token`);
  await f.ok(["allow", "sbox-1", "--host", "llama.example.com", "--secret", "llama-1"]);
  const server = await f.serve();

  const request = [
    "-x",
    server.httpsProxy(token),
    "--proxy-cacert",
    f.veilCaFile,
    "--cacert",
    f.veilCaFile,
    "-H",
    "content-type: application/json",
    "--data",
    '{"model":"llama"}',
    "https://llama.example.com/v1/chat/completions",
  ];
  const res = await curl(request);
  assertEquals(res.status, 200, res.stderr + res.body);
  const seen = f.upstream.seen.at(-1)!;
  const auth = seen.headers.filter(([n]: string[]) => n === "authorization");
  assertEquals(auth, [["authorization", "Bearer sk-1234567890"]]);
  assertEquals(seen.path, "/v1/chat/completions");
  assertEquals(seen.method, "POST");
  // The echo upstream sent the header back; the VM got it scrubbed.
  assert(!res.body.includes("sk-1234567890") && res.body.includes("Bearer *************"));

  await f.ok(["revoke", "sbox-1", "--host", "llama.example.com"]);
  const deadline = Date.now() + 5000;
  let after = await curl(request);
  while (after.status !== 403 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    after = await curl(request);
  }
  assertEquals(after.status, 403);
  assert((await f.ok(["secret", "list"])).includes("llama-1"), "the secret still exists");
  assertEquals(await server.stop(), 0, "SIGTERM stops it cleanly");
  assert(server.stderr().includes("veil: stopping"));
});
