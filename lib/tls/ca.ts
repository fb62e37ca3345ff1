import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { VeilError } from "../errors.ts";
import type { Sealed } from "../state/seal.ts";
import { keys, type Store, whenUnlocked } from "../state/store.ts";

export const EC_ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

interface CaRecord {
  certPem: string;
  key: Sealed;
}

export interface Ca {
  certPem: string;
  cert: x509.X509Certificate;
  privateKey: CryptoKey;
}

const YEAR = 365 * 86400e3;

async function createCaRecord(store: Store): Promise<CaRecord> {
  const pair = await crypto.subtle.generateKey(EC_ALG, true, ["sign", "verify"]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=veil CA ${new Date(now).toISOString().slice(0, 10)}, O=veil`,
    notBefore: new Date(now - 3600e3),
    notAfter: new Date(now + 10 * YEAR),
    keys: pair,
    signingAlgorithm: EC_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(pair.publicKey),
    ],
  });
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { certPem: cert.toString("pem"), key: await store.sealer.seal(keys.ca, Array.from(pkcs8)) };
}

/** Loads veil's CA, creating it on first use; when two processes race, one wins and both use it. */
export function loadCa(store: Store): Promise<Ca> {
  return whenUnlocked(() => loadOrCreateCa(store));
}

async function loadOrCreateCa(store: Store): Promise<Ca> {
  let entry = await store.kv.get<CaRecord>(keys.ca);
  if (entry.value === null) {
    const fresh = await createCaRecord(store);
    await store.kv.atomic().check({ key: keys.ca, versionstamp: null }).set(keys.ca, fresh).commit();
    entry = await store.kv.get<CaRecord>(keys.ca);
    if (entry.value === null) throw new VeilError("Cannot create the CA");
  }
  const pkcs8 = new Uint8Array(await store.sealer.open<number[]>(keys.ca, entry.value.key));
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, EC_ALG, false, ["sign"]);
  return { certPem: entry.value.certPem, cert: new x509.X509Certificate(entry.value.certPem), privateKey };
}

export function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
