import type { OutboundFetch } from "../proxy/outbound.ts";
import { GITHUB_TOKEN_PATH } from "../credentials/github_app_user.ts";
import { deviceFlow } from "./device_flow.ts";

/** GitHub App user token by device flow; prints nothing but the prompt (stderr). */
export async function githubAppUserLogin(
  githubUrl: string,
  clientId: string,
  fetchFn: OutboundFetch,
): Promise<Record<string, unknown>> {
  const base = githubUrl.replace(/\/+$/, "");
  const tokenEndpoint = `${base}${GITHUB_TOKEN_PATH}`;
  const obtained = Date.now();
  const r = await deviceFlow({
    as: {
      issuer: base,
      token_endpoint: tokenEndpoint,
      device_authorization_endpoint: `${base}/login/device/code`,
    },
    clientId,
    fetch: fetchFn,
    quirks: { errorsWith200: true },
    provider: "GitHub",
  });
  const at = (seconds: unknown) =>
    typeof seconds === "number" ? new Date(obtained + seconds * 1000).toISOString() : undefined;
  return {
    client_id: clientId,
    access_token: r.access_token,
    refresh_token: r.refresh_token,
    token_endpoint: tokenEndpoint,
    expires_at: at(r.expires_in),
    refresh_token_expires_at: at(r.refresh_token_expires_in),
    obtained_at: new Date(obtained).toISOString(),
  };
}
