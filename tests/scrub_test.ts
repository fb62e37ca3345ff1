import { assertEquals } from "./helpers/assert.ts";
import { REDACTED, Scrubber } from "../lib/proxy/scrub.ts";

async function through(s: Scrubber, parts: string[]): Promise<{ text: string; chunks: string[] }> {
  const chunks: string[] = [];
  const input = ReadableStream.from(parts.map((p) => new TextEncoder().encode(p)));
  for await (const c of input.pipeThrough(s.stream())) chunks.push(new TextDecoder().decode(c));
  return { text: chunks.join(""), chunks };
}

Deno.test("scrubbing: across chunk boundaries, same length, nothing held back needlessly", async () => {
  const secret = "sk-1234567890abcdef";
  const s = new Scrubber([secret, "short"]);
  const mask = REDACTED + "*".repeat(secret.length - REDACTED.length);
  for (let cut = 1; cut < secret.length; cut++) {
    const { text } = await through(s, [`{"auth":"Bearer ${secret.slice(0, cut)}`, `${secret.slice(cut)}"}`]);
    assertEquals(text, `{"auth":"Bearer ${mask}"}`, `cut at ${cut}`);
  }
  const { chunks } = await through(s, ["data: one\n\n", "data: two\n\n"]);
  assertEquals(chunks, ["data: one\n\n", "data: two\n\n"], "SSE events are not delayed");
  assertEquals(
    (await through(s, ["x".repeat(5), secret, secret.slice(0, 3)])).text,
    "x".repeat(5) + mask + "sk-",
  );
  assertEquals(s.text(`a ${secret} b ${secret}`), `a ${mask} b ${mask}`);
  assertEquals(s.text("short values are left alone"), "short values are left alone");
  assertEquals(new Scrubber(["abc"]).active, false);
});
