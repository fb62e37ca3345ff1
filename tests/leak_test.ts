import { assertEquals, assertNotIncludes } from "./helpers/assert.ts";
import { curl } from "./helpers/veil.ts";
import { SECRET, world } from "./helpers/world.ts";

/** Reads every file of the state folder (KV database, WAL, anything else) as raw bytes. */
async function stateBytes(dir: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name !== "seal.key") out.push(await Deno.readFile(`${dir}/${entry.name}`));
  }
  return out;
}

Deno.test("no secret value or client token in the raw KV file, stdout, stderr or the audit", async () => {
  await using w = await world();
  const basicPassword = "pw-never-in-plaintext-42";
  await w.f.ok([
    "secret",
    "create",
    "b1",
    "--host",
    "api.example.org",
    "--type",
    "basic",
    "--value",
    `alice:${basicPassword}`,
  ]);
  await w.f.ok(["allow", "sbox-1", "--host", "api.example.org", "--secret", "b1"]);
  for (let i = 0; i < 3; i++) {
    assertEquals((await curl([...w.viaTls(), "https://llama.example.com/v1/x"])).status, 200);
  }
  assertEquals((await curl([...w.viaTls(), "https://denied.example.com/"])).status, 403);
  await w.server.stop();
  const audit = await w.f.ok(["audit", "--json"]);
  const needles = [SECRET, w.token, basicPassword, btoa(`alice:${basicPassword}`)];
  const haystacks: [string, string | Uint8Array][] = [
    ["stdout", w.server.stdout()],
    ["stderr", w.server.stderr()],
    ["veil audit", audit],
    ...(await stateBytes(w.f.state)).map((b, i) => [`state file ${i}`, b] as [string, Uint8Array]),
  ];
  for (const [where, bytes] of haystacks) {
    for (const needle of needles) assertNotIncludes(bytes, needle, where);
  }
});
