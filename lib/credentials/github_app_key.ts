import { createPrivateKey } from "node:crypto";
import { importPKCS8 } from "jose";
import { VeilError } from "../errors.ts";

/**
 * Reads a GitHub App private key: GitHub hands out PKCS#1 (`BEGIN RSA PRIVATE KEY`),
 * WebCrypto and jose want PKCS#8; both are accepted, and anything not RSA is refused.
 */
export function toPkcs8(pem: string, where: string): string {
  let key;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch {
    throw new VeilError(`Private key ${where} does not parse as a PEM private key`);
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new VeilError(
      `Private key ${where} is not an RSA key (it is ${key.asymmetricKeyType ?? "unknown"})`,
    );
  }
  return String(key.export({ type: "pkcs8", format: "pem" }));
}

export async function readKeyFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).message;
    throw new VeilError(`Cannot read private key file ${path}: ${why}`);
  }
}

export async function signingKey(pem: string, where: string): Promise<CryptoKey> {
  return await importPKCS8(toPkcs8(pem, where), "RS256");
}
