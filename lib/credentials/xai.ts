import {
  checkEndpoint,
  field,
  optionalNumber,
  optionalString,
  optionalTime,
  parseJsonFile,
} from "./adopt.ts";
import type { CredentialType } from "./credential.ts";
import { bearerHeaders, expiresFrom, grantRefresher, hasRefresh } from "./grant.ts";
import { OAuthCredential } from "./oauth.ts";
import type { TokenState } from "./token_state.ts";

const TYPE = "oauth-xai";
/** The Grok CLI's public client. */
export const XAI_CLIENT_ID = "b1a00492-073a-47ea-816f-4c329264a828";
export const XAI_TOKEN_ENDPOINT = "https://auth.x.ai/oauth2/token";
const DEFAULT_LIFETIME_S = 3600;

interface Material {
  state: TokenState;
  tokenEndpoint: string;
  clientId: string;
}

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
    return Promise.resolve({
      material: { state, tokenEndpoint, clientId } satisfies Material,
      info: { client_id: clientId, token_endpoint: tokenEndpoint },
    });
  },
  load(record, material, env) {
    const m = material as Material;
    return new OAuthCredential(record, m.state, {
      canRefresh: hasRefresh,
      refresh: grantRefresher(env.fetch, {
        tokenEndpoint: m.tokenEndpoint,
        clientId: m.clientId,
        defaultLifetimeS: DEFAULT_LIFETIME_S,
      }),
      headers: bearerHeaders,
    }, env);
  },
};
