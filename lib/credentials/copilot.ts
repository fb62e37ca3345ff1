import { VeilError } from "../errors.ts";
import { checkEndpoint, field, optionalNumber, optionalString, parseJsonFile } from "./adopt.ts";
import type { CredentialType } from "./credential.ts";
import { bearerHeaders, classifyGrantError, type GrantMaterial, hasRefresh } from "./grant.ts";
import { OAuthCredential, RefreshError } from "./oauth.ts";
import type { TokenState } from "./token_state.ts";

const TYPE = "oauth-github-copilot";
const EXCHANGE = "https://api.github.com/copilot_internal/v2/token";

/** opencode's auth.json, entry github-copilot (or github-copilot-enterprise). */
export const copilot: CredentialType = {
  type: TYPE,
  defaultHost: "api.githubcopilot.com",
  adopt(value, options) {
    const file = parseJsonFile(TYPE, value);
    const key = file["github-copilot"]
      ? "github-copilot"
      : file["github-copilot-enterprise"]
      ? "github-copilot-enterprise"
      : "";
    if (!key) throw new VeilError(`Invalid ${TYPE} file: missing github-copilot entry`);
    const refresh = field(TYPE, file, `${key}.refresh`);
    const access = field(TYPE, file, `${key}.access`);
    const expires = optionalNumber(TYPE, file, `${key}.expires`) ?? 0;
    // A gho_ token stored as both access and refresh, with no expiry, is used as it is.
    const longLived = access === refresh && expires === 0;
    const enterprise = optionalString(file, `${key}.enterpriseUrl`);
    const defaultEndpoint = enterprise
      ? `https://api.${
        new URL(enterprise.includes("://") ? enterprise : `https://${enterprise}`).host
      }/copilot_internal/v2/token`
      : EXCHANGE;
    const tokenEndpoint = checkEndpoint(TYPE, options.tokenEndpoint ?? defaultEndpoint);
    const state: TokenState = longLived ? { access } : {
      access,
      refresh,
      expiresAt: expires > 0 ? (expires < 1e12 ? expires * 1000 : expires) : Date.now(),
    };
    return Promise.resolve({
      material: { state, tokenEndpoint } satisfies GrantMaterial,
      info: { entry: key, mode: longLived ? "long-lived" : "exchange", token_endpoint: tokenEndpoint },
    });
  },
  load(record, material, env) {
    const m = material as GrantMaterial;
    return new OAuthCredential(record, m.state, {
      canRefresh: hasRefresh,
      async refresh(s) {
        let res: Response;
        try {
          res = await env.fetch(m.tokenEndpoint, {
            headers: { authorization: `token ${s.refresh}`, accept: "application/json" },
            signal: AbortSignal.timeout(30_000),
          });
        } catch (err) {
          throw classifyGrantError(err, undefined);
        }
        const body = await res.json().catch(() => ({}));
        if (!res.ok || typeof body.token !== "string") {
          throw classifyGrantError(
            new RefreshError(false, `copilot token exchange failed`),
            res.status === 200 ? 502 : res.status,
          );
        }
        const now = Date.now();
        const expiresAt = typeof body.expires_at === "number" ? body.expires_at * 1000 : now + 25 * 60_000;
        return { access: body.token, refresh: s.refresh, obtainedAt: now, expiresAt };
      },
      headers: bearerHeaders,
    }, env);
  },
};
