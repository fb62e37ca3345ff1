// A test CA, independent of veil's, for the local upstreams the tests run.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { EC_ALG } from "../../lib/tls/ca.ts";
import { LeafMinter } from "../../lib/tls/leaf.ts";

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

export interface TestPki {
  caPem: string;
  caFile: string;
  issue(names: string[]): Promise<{ cert: string; key: string }>;
}

export async function createTestPki(dir: string): Promise<TestPki> {
  const caKeys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=veil tests upstream CA",
    notBefore: new Date(Date.now() - 86400e3),
    notAfter: new Date(Date.now() + 86400e3),
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  const caPem = ca.toString("pem");
  const caFile = `${dir}/upstream-ca.pem`;
  await Deno.writeTextFile(caFile, caPem);
  let serial = 2;
  return {
    caPem,
    caFile,
    async issue(names) {
      const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(2, "0"),
        subject: `CN=${names[0]}`,
        issuer: ca.subject,
        notBefore: new Date(Date.now() - 86400e3),
        notAfter: new Date(Date.now() + 86400e3),
        signingKey: caKeys.privateKey,
        publicKey: keys.publicKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: "dns" as const, value }))),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        ],
      });
      const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
      return { cert: cert.toString("pem"), key: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") };
    },
  };
}

/** A CA like veil's, in memory, and veil's LeafMinter on it: for the tests of minting and interception. */
export async function createTestMinter(): Promise<
  { ca: x509.X509Certificate; caPem: string; publicKey: CryptoKey; minter: LeafMinter }
> {
  const pair = await crypto.subtle.generateKey(EC_ALG, true, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=veil test CA, O=veil",
    keys: pair,
    signingAlgorithm: EC_ALG,
    notBefore: new Date(Date.now() - 3600e3),
    notAfter: new Date(Date.now() + 86400e3),
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  const caPem = ca.toString("pem");
  const minter = await LeafMinter.create({ certPem: caPem, cert: ca, privateKey: pair.privateKey });
  return { ca, caPem, publicKey: pair.publicKey, minter };
}
