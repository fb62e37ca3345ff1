import { createHash, timingSafeEqual } from "node:crypto";

/** A new client token: 256 random bits, URL-safe. */
export function newClientToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return "veil_" + btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** What is stored instead of the token: its SHA-256, hex. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Compares two token hashes in constant time. */
export function sameHash(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
