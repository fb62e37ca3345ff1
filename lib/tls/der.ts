// Just enough DER to write a leaf certificate: lengths, tags, and the few types a leaf uses.

export function len(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

export function tlv(tag: number, ...parts: (Uint8Array | number[])[]): Uint8Array {
  const body = concat(parts);
  const head = [tag, ...len(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

export function concat(parts: (Uint8Array | number[])[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const seq = (...parts: (Uint8Array | number[])[]) => tlv(0x30, ...parts);
export const set = (...parts: (Uint8Array | number[])[]) => tlv(0x31, ...parts);
export const octets = (...parts: (Uint8Array | number[])[]) => tlv(0x04, ...parts);

/** A positive INTEGER from big-endian bytes (leading zeros dropped, a zero added before a high bit). */
export function uint(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  return trimmed[0] & 0x80 ? tlv(0x02, [0], trimmed) : tlv(0x02, trimmed);
}

export function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk: number[] = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, out);
}

/** UTCTime (years 1950-2049), as certificates use. */
export function utcTime(date: Date): Uint8Array {
  const p = (n: number) => String(n).padStart(2, "0");
  const text = p(date.getUTCFullYear() % 100) + p(date.getUTCMonth() + 1) + p(date.getUTCDate()) +
    p(date.getUTCHours()) +
    p(date.getUTCMinutes()) + p(date.getUTCSeconds()) + "Z";
  return tlv(0x17, new TextEncoder().encode(text));
}

/** WebCrypto's raw ECDSA signature (r || s) as the DER Ecdsa-Sig-Value certificates carry. */
export function ecdsaSignature(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return seq(uint(raw.subarray(0, half)), uint(raw.subarray(half)));
}
