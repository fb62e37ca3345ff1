import { Buffer } from "node:buffer";

export const REDACTED = "[veil:redacted]";
/** Shorter values would match ordinary text; they are not scrubbed. */
const MIN_LENGTH = 8;

/** The same length as the value, so Content-Length and offsets stay right. */
function maskOf(length: number): string {
  return length >= REDACTED.length ? REDACTED + "*".repeat(length - REDACTED.length) : "*".repeat(length);
}

/**
 * Replaces the exact bytes of injected secrets in what an upstream sends back (an echo
 * server, a debug endpoint), streaming: it holds back only a tail that could still be
 * the start of a secret.
 */
export class Scrubber {
  private readonly needles: { bytes: Buffer; text: string; mask: Buffer; maskText: string }[];
  private readonly longest: number;

  constructor(values: string[]) {
    const unique = [...new Set(values.filter((v) => v.length >= MIN_LENGTH))].sort((a, b) =>
      b.length - a.length
    );
    this.needles = unique.map((text) => {
      const bytes = Buffer.from(text);
      const maskText = maskOf(bytes.length);
      return { bytes, text, mask: Buffer.from(maskText), maskText };
    });
    this.longest = Math.max(0, ...this.needles.map((n) => n.bytes.length));
  }

  get active(): boolean {
    return this.needles.length > 0;
  }

  text(value: string): string {
    let out = value;
    for (const n of this.needles) out = out.replaceAll(n.text, n.maskText);
    return out;
  }

  headers(headers: Headers): Headers {
    const out = new Headers();
    for (const [name, value] of headers) out.append(name, this.text(value));
    return out;
  }

  bytes(data: Uint8Array): Uint8Array {
    const buf = Buffer.from(data);
    this.replaceIn(buf);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private replaceIn(buf: Buffer): void {
    for (const n of this.needles) {
      let at = buf.indexOf(n.bytes);
      while (at >= 0) {
        n.mask.copy(buf, at);
        at = buf.indexOf(n.bytes, at + n.bytes.length);
      }
    }
  }

  /** How many trailing bytes could be the start of a secret that the next chunk completes. */
  private holdBack(buf: Buffer): number {
    for (let k = Math.min(this.longest - 1, buf.length); k > 0; k--) {
      const tail = buf.subarray(buf.length - k);
      if (this.needles.some((n) => n.bytes.length > k && tail.equals(n.bytes.subarray(0, k)))) return k;
    }
    return 0;
  }

  stream(): TransformStream<Uint8Array, Uint8Array> {
    let carry: Buffer = Buffer.alloc(0);
    return new TransformStream({
      transform: (chunk, controller) => {
        const buf = carry.length
          ? Buffer.concat([carry, chunk])
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        // Work on a copy: the chunk may be a view of memory the producer reuses.
        const data = carry.length ? buf : Buffer.from(buf);
        this.replaceIn(data);
        const hold = this.holdBack(data);
        carry = Buffer.from(data.subarray(data.length - hold));
        const out = data.subarray(0, data.length - hold);
        if (out.length) controller.enqueue(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
      },
      flush: (controller) => {
        if (carry.length) controller.enqueue(new Uint8Array(carry));
      },
    });
  }
}
