import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { assert, assertEquals, assertStringIncludes } from "./helpers/assert.ts";
import { createTestMinter } from "./helpers/pki.ts";

Deno.test("minted leaves: names, validity and a CA signature that OpenSSL accepts", async () => {
  const { ca, caPem, publicKey, minter } = await createTestMinter();
  const long = `${"a".repeat(60)}.example.com`;
  const leaf = await minter.mint([long, "127.0.0.1", "::1"]);
  const cert = new x509.X509Certificate(leaf.certPem);
  assert(await cert.verify({ publicKey, date: new Date() }), "signed by the CA");
  assertEquals(cert.issuer, ca.subject);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
  const names = san.names.items.map((n) => `${n.type}:${n.value}`);
  assertEquals(names.slice(0, 2), [`dns:${long}`, "ip:127.0.0.1"]);
  assert(/^ip:(::1|0:0:0:0:0:0:0:1)$/.test(names[2]), names[2]);
  assert(cert.notBefore < new Date() && cert.notAfter > new Date(Date.now() + 20 * 86400e3));
  const other = await minter.mint(["b.example.com"]);
  assert(new x509.X509Certificate(other.certPem).serialNumber !== cert.serialNumber, "serials differ");

  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ca.pem`, caPem);
    await Deno.writeTextFile(`${dir}/leaf.pem`, leaf.certPem);
    const out = await new Deno.Command("openssl", {
      args: ["verify", "-CAfile", `${dir}/ca.pem`, "-purpose", "sslserver", `${dir}/leaf.pem`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertStringIncludes(new TextDecoder().decode(out.stdout), "OK");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
