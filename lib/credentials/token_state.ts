import type { Sealed } from "../state/seal.ts";
import { keys } from "../state/store.ts";
import type { CredentialEnv } from "./credential.ts";

/** The live tokens of an OAuth credential. */
export interface TokenState {
  access: string;
  refresh?: string;
  /** Epoch ms when the access token expires; undefined when it does not. */
  expiresAt?: number;
  /** Epoch ms when the access token was issued, for refreshing at 80% of its life. */
  obtainedAt?: number;
  /** Provider-specific non-secret or secret extras (account id, id token). */
  extra?: Record<string, string>;
}

/** What `secret show` and `secret list` may print: no token in it. */
export interface TokenMeta {
  status: "ok" | "needs-login";
  expiresAt?: number;
  lastRefresh?: string;
  lastError?: string;
  refreshes: number;
}

/** Stored under ["credstate", NAME]: the meta in the clear, the tokens sealed. */
export interface CredStateRecord {
  meta: TokenMeta;
  tokens: Sealed;
  /** The secret record's updatedAt this state belongs to. */
  secretVersion: string;
}

export async function readCredState(
  env: Pick<CredentialEnv, "kv" | "sealer">,
  name: string,
): Promise<{ entry: Deno.KvEntryMaybe<CredStateRecord>; tokens?: TokenState }> {
  const entry = await env.kv.get<CredStateRecord>(keys.credState(name));
  if (!entry.value) return { entry };
  return { entry, tokens: await env.sealer.open<TokenState>(keys.credState(name), entry.value.tokens) };
}
