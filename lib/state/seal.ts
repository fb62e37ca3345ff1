import { VeilError } from "../errors.ts";

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A sealed value as stored in KV: version, nonce and AES-256-GCM ciphertext (with tag). */
export interface Sealed {
  v: 1;
  nonce: Uint8Array;
  data: Uint8Array;
}

/** Seals and opens values with AES-256-GCM, binding each to the KV key it is stored under. */
export class Sealer {
  private constructor(private readonly key: CryptoKey) {}

  static async fromRaw(raw: Uint8Array): Promise<Sealer> {
    if (raw.length !== KEY_BYTES) {
      throw new VeilError(`Seal key must be ${KEY_BYTES} bytes, got ${raw.length}`);
    }
    const key = await crypto.subtle.importKey("raw", raw as BufferSource, "AES-GCM", false, [
      "encrypt",
      "decrypt",
    ]);
    return new Sealer(key);
  }

  async seal(kvKey: Deno.KvKey, value: unknown): Promise<Sealed> {
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const plain = encoder.encode(JSON.stringify(value));
    const data = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: aad(kvKey) },
      this.key,
      plain,
    );
    return { v: 1, nonce, data: new Uint8Array(data) };
  }

  async open<T>(kvKey: Deno.KvKey, sealed: Sealed): Promise<T> {
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: sealed.nonce as BufferSource, additionalData: aad(kvKey) },
        this.key,
        sealed.data as BufferSource,
      );
      return JSON.parse(decoder.decode(plain)) as T;
    } catch {
      throw new VeilError(
        `Cannot open sealed record ${JSON.stringify(kvKey)}: wrong seal key or tampered state`,
      );
    }
  }
}

function aad(kvKey: Deno.KvKey): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify(kvKey.map((part) => String(part))));
}

/** Loads the seal key from $VEIL_SEAL_KEY (base64) or DIR/seal.key, creating the file on first use. */
export async function loadSealKey(dir: string): Promise<Uint8Array> {
  const fromEnv = Deno.env.get("VEIL_SEAL_KEY");
  if (fromEnv !== undefined) return decodeKey(fromEnv, "VEIL_SEAL_KEY");
  const path = `${dir}/seal.key`;
  const existing = await readKeyFile(path);
  if (existing) return existing;
  await createKeyFile(dir, path);
  const created = await readKeyFile(path);
  if (!created) throw new VeilError(`Cannot create seal key ${path}`);
  return created;
}

async function readKeyFile(path: string): Promise<Uint8Array | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new VeilError(`Cannot read seal key ${path}: ${(err as Error).message}`);
  }
  return decodeKey(text, path);
}

/** Writes a fresh key to a temporary file and links it into place: one racer wins, all use it. */
async function createKeyFile(dir: string, path: string): Promise<void> {
  const raw = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  const tmp = `${dir}/.seal.key.${crypto.randomUUID()}`;
  await Deno.writeTextFile(tmp, btoa(String.fromCharCode(...raw)) + "\n", {
    mode: 0o600,
    createNew: true,
  });
  try {
    await Deno.link(tmp, path);
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) {
      throw new VeilError(`Cannot create seal key ${path}: ${(err as Error).message}`);
    }
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

function decodeKey(text: string, where: string): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
  } catch {
    throw new VeilError(`Seal key in ${where} is not valid base64`);
  }
  if (raw.length !== KEY_BYTES) {
    throw new VeilError(`Seal key in ${where} must be ${KEY_BYTES} bytes, got ${raw.length}`);
  }
  return raw;
}
