import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { assertEquals } from "./helpers/assert.ts";
import { EC_ALG } from "../lib/tls/ca.ts";
import { LeafMinter } from "../lib/tls/leaf.ts";
import { Interceptors } from "../lib/proxy/interceptors.ts";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("interception servers: shut down once no tunnel has used them for a while, started again on demand", async () => {
  const pair = await crypto.subtle.generateKey(EC_ALG, true, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=veil test CA",
    keys: pair,
    signingAlgorithm: EC_ALG,
    notBefore: new Date(Date.now() - 3600e3),
    notAfter: new Date(Date.now() + 86400e3),
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  const minter = await LeafMinter.create({
    certPem: ca.toString("pem"),
    cert: ca,
    privateKey: pair.privateKey,
  });
  const servers = new Interceptors(minter, () => Promise.resolve(new Response("intercepted")), 256, 100);
  const client = Deno.createHttpClient({ caCerts: [ca.toString("pem")] });
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
