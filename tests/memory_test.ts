import { assertEquals } from "./helpers/assert.ts";
import { HeaderList } from "../lib/proxy/header_list.ts";
import { ReleaseAfterBurst } from "../lib/proxy/memory.ts";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("memory is given back once a burst of connections has drained, and only then", async () => {
  let released = 0;
  const watch = new ReleaseAfterBurst(() => released++, 8, 30);
  try {
    // A small number of connections is not a burst.
    for (let i = 0; i < 5; i++) watch.opened();
    for (let i = 0; i < 5; i++) watch.closed();
    await pause(80);
    assertEquals(released, 0);

    for (let i = 0; i < 20; i++) watch.opened();
    for (let i = 0; i < 10; i++) watch.closed();
    await pause(80);
    assertEquals(released, 0, "half the burst still open");
    for (let i = 0; i < 6; i++) watch.closed();
    // Back up before the quiet time is over: nothing yet.
    for (let i = 0; i < 10; i++) watch.opened();
    await pause(80);
    assertEquals(released, 0, "busy again before the quiet time ended");
    for (let i = 0; i < 12; i++) watch.closed();
    await pause(80);
    assertEquals(released, 1);
    for (let i = 0; i < 2; i++) watch.closed();
    await pause(80);
    assertEquals(released, 1, "once per burst");
  } finally {
    watch.stop();
  }
});

Deno.test("header list: set replaces every field of a name in place, get and delete ignore case", () => {
  const h = new HeaderList([["host", "a"], ["authorization", "x"], ["accept", "*/*"], [
    "authorization",
    "y",
  ]]);
  h.set("Authorization", "Bearer z");
  assertEquals(h.pairs, [["host", "a"], ["authorization", "Bearer z"], ["accept", "*/*"]]);
  assertEquals(h.get("AUTHORIZATION"), "Bearer z");
  h.delete("Accept");
  h.set("x-new", "1");
  assertEquals(h.pairs, [["host", "a"], ["authorization", "Bearer z"], ["x-new", "1"]]);
  assertEquals(h.has("accept"), false);
  const from = HeaderList.from(
    new Headers({ Host: "b", Connection: "close", "X-A": "1" }),
    (n) => n === "connection",
  );
  assertEquals(from.pairs, [["host", "b"], ["x-a", "1"]]);
});
