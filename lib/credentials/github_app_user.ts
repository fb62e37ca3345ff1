import { checkEndpoint, field, optionalString, optionalTime, parseJsonFile } from "./adopt.ts";
import type { CredentialType } from "./credential.ts";
import { adoptPublicClient, publicClientCredential } from "./public_client.ts";
import type { TokenState } from "./token_state.ts";

const TYPE = "github-app-user";
export const GITHUB_TOKEN_PATH = "/login/oauth/access_token";

/** The JSON `veil oauth github-app-user` prints: a GitHub App user token from the device flow. */
export const githubAppUser: CredentialType = {
  type: TYPE,
  defaultHost: "api.github.com",
  adopt(value, options) {
    const file = parseJsonFile(TYPE, value);
    const clientId = field(TYPE, file, "client_id");
    const access = field(TYPE, file, "access_token");
    const refresh = optionalString(file, "refresh_token");
    const state: TokenState = {
      access,
      refresh,
      obtainedAt: optionalTime(TYPE, file, "obtained_at"),
      expiresAt: optionalTime(TYPE, file, "expires_at"),
    };
    const tokenEndpoint = checkEndpoint(
      TYPE,
      options.tokenEndpoint ?? optionalString(file, "token_endpoint") ??
        `https://github.com${GITHUB_TOKEN_PATH}`,
    );
    return adoptPublicClient({ state, tokenEndpoint, clientId });
  },
  load(record, material, env) {
    return publicClientCredential(record, material, env, { quirks: { errorsWith200: true } });
  },
};
