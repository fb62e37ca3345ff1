import * as oauth from "oauth4webapi";
import { VeilError } from "../errors.ts";
import { providerFetch, requestOptions } from "../credentials/grant.ts";
import type { OutboundFetch } from "../proxy/outbound.ts";
import { describe, deviceFlow } from "./device_flow.ts";

export const XAI_SCOPE = "openid profile email offline_access grok-cli:access api:access";

export interface XaiLoginOptions {
  issuer: string;
  authorizeUrl: string;
  tokenUrl: string;
  deviceUrl: string;
  clientId: string;
  port: number;
  timeoutMs: number;
  fetch: OutboundFetch;
}

/** The adoptable JSON for `secret create --type oauth-xai`. */
function adoptable(o: XaiLoginOptions, r: oauth.TokenEndpointResponse) {
  return {
    type: "oauth-xai",
    access_token: r.access_token,
    refresh_token: r.refresh_token,
    id_token: r.id_token,
    token_type: r.token_type,
    expires_in: r.expires_in,
    token_endpoint: o.tokenUrl,
    client_id: o.clientId,
    obtained_at: new Date().toISOString(),
  };
}

function server(o: XaiLoginOptions): oauth.AuthorizationServer {
  return {
    issuer: o.issuer,
    authorization_endpoint: o.authorizeUrl,
    token_endpoint: o.tokenUrl,
    device_authorization_endpoint: o.deviceUrl,
  };
}

/** Lines typed or pasted on stdin, until it closes. */
async function* stdinLines(): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of Deno.stdin.readable) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
    }
  }
  if (buffered.trim()) yield buffered.trim();
}

/** Authorization code with PKCE (S256), state and nonce; the redirect lands on a loopback callback. */
export async function xaiBrowserLogin(o: XaiLoginOptions): Promise<Record<string, unknown>> {
  const as = server(o);
  const client: oauth.Client = { client_id: o.clientId };
  const verifier = oauth.generateRandomCodeVerifier();
  const challenge = await oauth.calculatePKCECodeChallenge(verifier);
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const redirectUri = `http://127.0.0.1:${o.port}/callback`;
  const url = new URL(o.authorizeUrl);
  for (
    const [k, v] of Object.entries({
      response_type: "code",
      client_id: o.clientId,
      redirect_uri: redirectUri,
      scope: XAI_SCOPE,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state,
      nonce,
    })
  ) url.searchParams.set(k, v);

  const { promise: redirected, resolve } = Promise.withResolvers<URL>();
  let callback: Deno.HttpServer;
  try {
    callback = Deno.serve({ hostname: "127.0.0.1", port: o.port, onListen() {} }, (req) => {
      const at = new URL(req.url);
      if (at.pathname !== "/callback") return new Response("Not found\n", { status: 404 });
      resolve(new URL(`${redirectUri}${at.search}`));
      return new Response("veil: xAI login received; you can close this window.\n");
    });
  } catch (err) {
    throw new VeilError(
      `Cannot listen for the login callback on 127.0.0.1:${o.port}: ${(err as Error).message}`,
    );
  }
  console.error(`Open this URL to sign in to xAI:\n\n  ${url.href}\n`);
  console.error("Or paste the code (or the whole redirect URL) here and press Enter.");
  const pasted = (async () => {
    for await (const line of stdinLines()) {
      if (!line) continue;
      if (/^https?:\/\//.test(line)) return new URL(line);
      // A bare code carries no state of its own: it is taken as the answer to this login.
      const u = new URL(redirectUri);
      u.searchParams.set("code", line);
      u.searchParams.set("state", state);
      return u;
    }
    return new Promise<URL>(() => {});
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new VeilError("xAI login timed out: no redirect and no code arrived")),
      o.timeoutMs,
    );
  });
  try {
    const current = await Promise.race([redirected, pasted, timeout]);
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(as, client, current, state);
    } catch (err) {
      throw new VeilError(`xAI login failed: ${describe(err)}`);
    }
    const opts = requestOptions(o.tokenUrl, providerFetch(o.fetch, {}));
    try {
      const res = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        params,
        redirectUri,
        verifier,
        opts,
      );
      const result = await oauth.processAuthorizationCodeResponse(as, client, res, {
        expectedNonce: nonce,
        requireIdToken: false,
      });
      return adoptable(o, result);
    } catch (err) {
      throw new VeilError(`xAI code exchange failed: ${describe(err)}`);
    }
  } finally {
    clearTimeout(timer);
    await callback.shutdown();
  }
}

export async function xaiDeviceLogin(o: XaiLoginOptions): Promise<Record<string, unknown>> {
  const result = await deviceFlow({
    as: server(o),
    clientId: o.clientId,
    scope: XAI_SCOPE,
    fetch: o.fetch,
    provider: "xAI",
  });
  return adoptable(o, result);
}
