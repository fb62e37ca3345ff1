import type { OutboundFetch } from "../proxy/outbound.ts";
import type { Sealer } from "../state/seal.ts";
import type { SecretRecord } from "../state/store.ts";

/** Raised when a credential cannot produce headers; becomes a 502 with this reason. */
export class CredentialError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = "CredentialError";
  }
}

/** The request headers a credential may change (Headers fits, as does the proxy's HeaderList). */
export interface RequestHeaders {
  get(name: string): string | null;
  set(name: string, value: string): void;
  delete(name: string): void;
}

/** A secret as the proxy uses it: it sets headers on a request bound for its host. */
export interface Credential {
  readonly name: string;
  readonly type: string;
  readonly host: string;
  /** Sets this request's headers; may wait for a refresh in flight. */
  apply(headers: RequestHeaders, url: URL): Promise<void>;
  /** Exact strings that must never reach the sandbox (used to scrub echoes). */
  sensitiveValues(): string[];
  /** Stops background work, letting a refresh in flight finish and persist. */
  close?(): Promise<void>;
}

/** What `secret create` stores: material to seal, plus non-sensitive facts for listings. */
export interface Adopted {
  material: unknown;
  info: Record<string, string>;
}

export interface AdoptOptions {
  tokenEndpoint?: string;
}

/** What a live credential may use: state for refreshed tokens, and veil's outbound fetch. */
export interface CredentialEnv {
  kv: Deno.Kv;
  sealer: Sealer;
  fetch: OutboundFetch;
}

/** One kind of secret: how it is adopted at `secret create` and loaded by the server. */
export interface CredentialType {
  readonly type: string;
  /** The API host a secret of this type is usually for, when --host is not given. */
  readonly defaultHost?: string;
  /** Validates the given value; throws a VeilError naming what is wrong. */
  adopt(value: string, options: AdoptOptions): Promise<Adopted>;
  load(record: SecretRecord, material: unknown, env: CredentialEnv): Credential;
}
