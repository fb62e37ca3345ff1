import {
  checkEndpoint,
  field,
  optionalNumber,
  optionalString,
  optionalTime,
  parseJsonFile,
} from "./adopt.ts";
import type { CredentialType } from "./credential.ts";
import { expiresFrom } from "./grant.ts";
import { adoptPublicClient, publicClientCredential } from "./public_client.ts";
import type { TokenState } from "./token_state.ts";

const TYPE = "oauth-xai";
/** The Grok CLI's public client. */
export const XAI_CLIENT_ID = "b1a00492-073a-47ea-816f-4c329264a828";
export const XAI_TOKEN_ENDPOINT = "https://auth.x.ai/oauth2/token";
const DEFAULT_LIFETIME_S = 3600;

/** The JSON `veil oauth xai` prints (or one made by hand with access_token and refresh_token). */
export const xai: CredentialType = {
  type: TYPE,
  defaultHost: "api.x.ai",
  adopt(value, options) {
    const file = parseJsonFile(TYPE, value);
    const obtainedAt = optionalTime(TYPE, file, "obtained_at") ?? Date.now();
    const state: TokenState = {
      access: field(TYPE, file, "access_token"),
      refresh: field(TYPE, file, "refresh_token"),
      obtainedAt,
      expiresAt: expiresFrom(obtainedAt, optionalNumber(TYPE, file, "expires_in"), DEFAULT_LIFETIME_S),
    };
    const tokenEndpoint = checkEndpoint(
      TYPE,
      options.tokenEndpoint ?? optionalString(file, "token_endpoint") ?? XAI_TOKEN_ENDPOINT,
    );
    const clientId = optionalString(file, "client_id") ?? XAI_CLIENT_ID;
    return adoptPublicClient({ state, tokenEndpoint, clientId });
  },
  load(record, material, env) {
    return publicClientCredential(record, material, env, { defaultLifetimeS: DEFAULT_LIFETIME_S });
  },
};
