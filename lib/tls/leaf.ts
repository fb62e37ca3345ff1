import { isIpLiteral, parseIpv4, parseIpv6 } from "../policy/address.ts";
import { type Ca, EC_ALG } from "./ca.ts";
import { ecdsaSignature, octets, oid, seq, set, tlv, uint, utcTime } from "./der.ts";

export interface Leaf {
  certPem: string;
  keyPem: string;
}

const DAY = 86400e3;
const ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"));
const TRUE = [0x01, 0x01, 0xff];

function pem(label: string, der: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < der.length; i += 0x8000) bin += String.fromCharCode(...der.subarray(i, i + 0x8000));
  const b64 = btoa(bin).replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? seq(oid(id), TRUE, octets(value)) : seq(oid(id), octets(value));
}

function altName(name: string): Uint8Array {
  if (isIpLiteral(name)) return tlv(0x87, parseIpv4(name) ?? parseIpv6(name)!);
  return tlv(0x82, new TextEncoder().encode(name));
}

/**
 * Mints leaf certificates signed by the CA. One ECDSA P-256 key serves every leaf (a per-host
 * keygen is the slow part), and the certificate is written as DER directly: a leaf costs one
 * WebCrypto signature, under a millisecond.
 */
export class LeafMinter {
  private constructor(
    private readonly ca: Ca,
    private readonly spki: Uint8Array,
    private readonly issuer: Uint8Array,
    private readonly keyPem: string,
  ) {}

  static async create(ca: Ca): Promise<LeafMinter> {
    const pair = await crypto.subtle.generateKey(EC_ALG, true, ["sign", "verify"]);
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
    const issuer = new Uint8Array(ca.cert.subjectName.toArrayBuffer());
    return new LeafMinter(ca, spki, issuer, pem("PRIVATE KEY", pkcs8));
  }

  async mint(names: string[]): Promise<Leaf> {
    const now = Date.now();
    const serial = crypto.getRandomValues(new Uint8Array(16));
    serial[0] &= 0x7f;
    const cn = names[0].length <= 64 && !isIpLiteral(names[0])
      ? seq(set(seq(oid("2.5.4.3"), tlv(0x0c, new TextEncoder().encode(names[0])))))
      : seq();
    const extensions = seq(
      extension("2.5.29.19", true, seq()), // basicConstraints: not a CA
      extension("2.5.29.15", true, tlv(0x03, [0x07, 0x80])), // keyUsage: digitalSignature
      extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))), // extKeyUsage: serverAuth
      extension("2.5.29.17", false, seq(...names.map(altName))), // subjectAltName
    );
    const tbs = seq(
      tlv(0xa0, [0x02, 0x01, 0x02]), // v3
      uint(serial),
      ECDSA_SHA256,
      this.issuer,
      seq(utcTime(new Date(now - DAY)), utcTime(new Date(now + 30 * DAY))),
      cn,
      this.spki,
      tlv(0xa3, extensions),
    );
    const raw = new Uint8Array(
      await crypto.subtle.sign(
        { name: "ECDSA", hash: "SHA-256" },
        this.ca.privateKey,
        tbs as Uint8Array<ArrayBuffer>,
      ),
    );
    const cert = seq(tbs, ECDSA_SHA256, tlv(0x03, [0x00], ecdsaSignature(raw)));
    return { certPem: pem("CERTIFICATE", cert), keyPem: this.keyPem };
  }
}
