import { checkEndpoint, field, optionalTime, parseJsonFile } from "./adopt.ts";
import type { CredentialType } from "./credential.ts";
import { type GrantMaterial, grantRefresher, hasRefresh } from "./grant.ts";
import { OAuthCredential } from "./oauth.ts";
import type { TokenState } from "./token_state.ts";

const TYPE = "oauth-claude";
const CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e";
const TOKEN_ENDPOINT = "https://platform.claude.com/v1/oauth/token";
const OAUTH_BETA = "oauth-2025-04-20";

/** Claude Code's ~/.claude/.credentials.json (claudeAiOauth). */
export const claude: CredentialType = {
  type: TYPE,
  defaultHost: "api.anthropic.com",
  adopt(value, options) {
    const file = parseJsonFile(TYPE, value);
    const state: TokenState = {
      access: field(TYPE, file, "claudeAiOauth.accessToken"),
      refresh: field(TYPE, file, "claudeAiOauth.refreshToken"),
      expiresAt: optionalTime(TYPE, file, "claudeAiOauth.expiresAt"),
    };
    const tokenEndpoint = checkEndpoint(TYPE, options.tokenEndpoint ?? TOKEN_ENDPOINT);
    return Promise.resolve({
      material: { state, tokenEndpoint } satisfies GrantMaterial,
      info: { token_endpoint: tokenEndpoint },
    });
  },
  load(record, material, env) {
    const m = material as GrantMaterial;
    return new OAuthCredential(record, m.state, {
      canRefresh: hasRefresh,
      refresh: grantRefresher(env.fetch, {
        tokenEndpoint: m.tokenEndpoint,
        clientId: CLIENT_ID,
        quirks: { jsonBody: true },
        defaultLifetimeS: 3600,
      }),
      headers(s, headers) {
        headers.set("authorization", `Bearer ${s.access}`);
        headers.delete("x-api-key");
        const betas = (headers.get("anthropic-beta") ?? "").split(",").map((b) => b.trim()).filter(Boolean);
        if (!betas.includes(OAUTH_BETA)) betas.push(OAUTH_BETA);
        headers.set("anthropic-beta", betas.join(","));
      },
    }, env);
  },
};
