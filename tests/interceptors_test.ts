import { assertEquals } from "./helpers/assert.ts";
import { createTestMinter } from "./helpers/pki.ts";
import { Interceptors } from "../lib/proxy/interceptors.ts";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("interception servers: shut down once no tunnel has used them for a while, started again on demand", async () => {
  const { caPem, minter } = await createTestMinter();
  const servers = new Interceptors(minter, () => Promise.resolve(new Response("intercepted")), 256, 100);
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  try {
    const a = await servers.acquire("127.0.0.1");
    const b = await servers.acquire("b.example.com");
    const again = await servers.acquire("127.0.0.1");
    assertEquals(again.port, a.port, "one server per host");
    assertEquals(servers.size, 2);
    a.release();
    b.release();
    await pause(400);
    assertEquals(servers.size, 1, "b is idle and shut down; 127.0.0.1 still has a tunnel");
    const res = await fetch(`https://127.0.0.1:${a.port}/`, { client });
    assertEquals(await res.text(), "intercepted");
    again.release();
    again.release();
    await pause(400);
    assertEquals(servers.size, 0);
    const fresh = await servers.acquire("127.0.0.1");
    const res2 = await fetch(`https://127.0.0.1:${fresh.port}/`, { client });
    assertEquals(await res2.text(), "intercepted", "a new server for a host seen before");
    fresh.release();
  } finally {
    client.close();
    await servers.close();
  }
});
