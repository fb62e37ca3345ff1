import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { type Ca, EC_ALG, randomSerial } from "./ca.ts";

export interface Leaf {
  certPem: string;
  keyPem: string;
}

const DAY = 86400e3;

function isIp(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(":");
}

/**
 * Mints leaf certificates signed by the CA. One ECDSA P-256 key serves every leaf
 * (a per-host keygen is the slow part); each leaf is one WebCrypto signature.
 */
export class LeafMinter {
  private constructor(
    private readonly ca: Ca,
    private readonly pair: CryptoKeyPair,
    private readonly keyPem: string,
  ) {}

  static async create(ca: Ca): Promise<LeafMinter> {
    const pair = await crypto.subtle.generateKey(EC_ALG, true, ["sign", "verify"]);
    const pkcs8 = await crypto.subtle.exportKey("pkcs8", pair.privateKey);
    return new LeafMinter(ca, pair, x509.PemConverter.encode(pkcs8, "PRIVATE KEY"));
  }

  async mint(names: string[]): Promise<Leaf> {
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${names[0]}`,
      issuer: this.ca.cert.subject,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 30 * DAY),
      signingKey: this.ca.privateKey,
      publicKey: this.pair.publicKey,
      signingAlgorithm: EC_ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(
          names.map((n) => isIp(n) ? { type: "ip" as const, value: n } : { type: "dns" as const, value: n }),
        ),
      ],
    });
    return { certPem: cert.toString("pem"), keyPem: this.keyPem };
  }
}
