export const REDACTED = "[veil:redacted]";
/** Shorter values would match ordinary text; they are not scrubbed. */
const MIN_LENGTH = 8;
const encoder = new TextEncoder();

/** The same length as the value, so Content-Length and offsets stay right. */
function maskOf(length: number): string {
  return length >= REDACTED.length ? REDACTED + "*".repeat(length - REDACTED.length) : "*".repeat(length);
}

/** Finds needle in hay from `from`: a native scan for the first byte, then a compare. */
function find(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  const last = hay.length - needle.length;
  for (let i = hay.indexOf(first, from); i !== -1 && i <= last; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

interface Needle {
  text: string;
  bytes: Uint8Array;
  maskText: string;
  mask: Uint8Array;
}

/**
 * Replaces the exact bytes of injected secrets in what an upstream sends back (an echo
 * server, a debug endpoint), streaming: it holds back only a tail that could still be
 * the start of a secret.
 */
export class Scrubber {
  private readonly needles: Needle[];
  private readonly longest: number;

  constructor(values: string[]) {
    const unique = [...new Set(values.filter((v) => v.length >= MIN_LENGTH))].sort((a, b) =>
      b.length - a.length
    );
    this.needles = unique.map((text) => {
      const bytes = encoder.encode(text);
      const maskText = maskOf(bytes.length);
      return { text, bytes, maskText, mask: encoder.encode(maskText) };
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

  headers(fields: [string, string][]): [string, string][] {
    return fields.map(([name, value]) => [name, this.text(value)]);
  }

  /** Scrubs a copy of the bytes. */
  bytes(data: Uint8Array): Uint8Array {
    const copy = data.slice();
    this.replaceIn(copy);
    return copy;
  }

  /** Scrubs a buffer the caller owns. */
  inPlace(buf: Uint8Array): void {
    this.replaceIn(buf);
  }

  private replaceIn(buf: Uint8Array): void {
    for (const n of this.needles) {
      for (let at = find(buf, n.bytes, 0); at >= 0; at = find(buf, n.bytes, at + n.bytes.length)) {
        buf.set(n.mask, at);
      }
    }
  }

  /** How many trailing bytes could be the start of a secret that the next chunk completes. */
  private holdBack(buf: Uint8Array): number {
    for (let k = Math.min(this.longest - 1, buf.length); k > 0; k--) {
      const start = buf.length - k;
      for (const n of this.needles) {
        if (n.bytes.length <= k) continue;
        let j = 0;
        while (j < k && buf[start + j] === n.bytes[j]) j++;
        if (j === k) return k;
      }
    }
    return 0;
  }

  /**
   * A streaming scrubber: push() returns what may go out now, flush() the rest. Chunks are
   * scrubbed in place (upstream bodies are fresh buffers nobody else reads).
   */
  streaming(): { push(chunk: Uint8Array): Uint8Array; flush(): Uint8Array } {
    let carry = new Uint8Array(0);
    return {
      push: (chunk) => {
        let data = chunk;
        if (carry.length) {
          data = new Uint8Array(carry.length + chunk.length);
          data.set(carry);
          data.set(chunk, carry.length);
        }
        this.replaceIn(data);
        const hold = this.holdBack(data);
        carry = hold ? data.slice(data.length - hold) : new Uint8Array(0);
        return hold ? data.subarray(0, data.length - hold) : data;
      },
      flush: () => carry,
    };
  }

  stream(): TransformStream<Uint8Array, Uint8Array> {
    const s = this.streaming();
    return new TransformStream({
      transform: (chunk, controller) => {
        const out = s.push(chunk);
        if (out.length) controller.enqueue(out);
      },
      flush: (controller) => {
        const rest = s.flush();
        if (rest.length) controller.enqueue(rest);
      },
    });
  }
}

const cache = new Map<string, Scrubber>();
const CACHE_MAX = 256;

/** The scrubber for a set of values, built once: encoding needles per request shows in profiles. */
export function scrubberFor(values: string[]): Scrubber {
  const key = values.join("\0");
  let scrubber = cache.get(key);
  if (!scrubber) {
    // Values change when tokens refresh; old sets are dropped wholesale rather than tracked.
    if (cache.size >= CACHE_MAX) cache.clear();
    scrubber = new Scrubber(values);
    cache.set(key, scrubber);
  }
  return scrubber;
}
