import { decodeJwt } from "jose";
import { checkEndpoint, field, optionalString, optionalTime, parseJsonFile } from "./adopt.ts";
import type { CredentialType } from "./credential.ts";
import { type GrantMaterial, grantRefresher, hasRefresh } from "./grant.ts";
import { OAuthCredential } from "./oauth.ts";
import type { TokenState } from "./token_state.ts";

const TYPE = "oauth-codex";
const CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
const TOKEN_ENDPOINT = "https://auth.openai.com/oauth/token";

/** The access token is a JWT: its `exp` says when it ends. */
function jwtExpiry(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === "number" ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Codex CLI's ~/.codex/auth.json (tokens.*). */
export const codex: CredentialType = {
  type: TYPE,
  defaultHost: "chatgpt.com",
  adopt(value, options) {
    const file = parseJsonFile(TYPE, value);
    const access = field(TYPE, file, "tokens.access_token");
    const state: TokenState = {
      access,
      refresh: field(TYPE, file, "tokens.refresh_token"),
      expiresAt: jwtExpiry(access),
      obtainedAt: optionalTime(TYPE, file, "last_refresh"),
      extra: {
        account_id: field(TYPE, file, "tokens.account_id"),
        ...(optionalString(file, "tokens.id_token")
          ? { id_token: optionalString(file, "tokens.id_token")! }
          : {}),
      },
    };
    const tokenEndpoint = checkEndpoint(TYPE, options.tokenEndpoint ?? TOKEN_ENDPOINT);
    return Promise.resolve({
      material: { state, tokenEndpoint } satisfies GrantMaterial,
      info: { account: state.extra!.account_id, token_endpoint: tokenEndpoint },
    });
  },
  load(record, material, env) {
    const m = material as GrantMaterial;
    return new OAuthCredential(record, m.state, {
      canRefresh: hasRefresh,
      refresh: grantRefresher(env.fetch, {
        tokenEndpoint: m.tokenEndpoint,
        clientId: CLIENT_ID,
        params: { scope: "openid profile email" },
        expiresAt: (r) => jwtExpiry(r.access_token),
        extra: (s, r) => ({ ...s.extra, ...(r.id_token ? { id_token: r.id_token } : {}) }),
      }),
      headers(s, headers) {
        headers.set("authorization", `Bearer ${s.access}`);
        headers.set("chatgpt-account-id", s.extra!.account_id);
      },
    }, env);
  },
};
