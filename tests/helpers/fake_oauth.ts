// Fake-but-real OAuth providers and APIs on loopback TLS: they check each grant's exact
// encoding and client id, issue short-lived tokens, rotate refresh tokens and reject reuse.
import { exportJWK, generateKeyPair, SignJWT } from "jose";

export type Provider = "claude" | "codex" | "xai" | "github" | "copilot";

export const OAUTH_HOSTS = [
  "auth.x.ai",
  "api.x.ai",
  "platform.claude.com",
  "api.anthropic.com",
  "auth.openai.com",
  "chatgpt.com",
  "api.github.com",
  "github.com",
  "api.githubcopilot.com",
];

const CLIENT_IDS: Record<Provider, string> = {
  claude: "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
  codex: "app_EMoamEEZ73f0CkXaXp7hrann",
  xai: "b1a00492-073a-47ea-816f-4c329264a828",
  github: "Iv1.testapp",
  copilot: "",
};

const API_HOST: Record<string, Provider> = {
  "api.anthropic.com": "claude",
  "chatgpt.com": "codex",
  "api.x.ai": "xai",
  "api.githubcopilot.com": "copilot",
  "api.github.com": "github",
};

interface Issued {
  provider: Provider;
  expiresAt: number;
}

export interface FakeOAuth extends AsyncDisposable {
  port: number;
  /** Grants answered successfully, per provider. */
  grants: Record<Provider, number>;
  /** The Authorization header each API last received, as the API saw it. */
  lastAuth: Partial<Record<Provider, string>>;
  /** Grants refused because their refresh token had been used before. */
  reused: string[];
  /** Every token the fake has issued, to scan outputs for. */
  issuedTokens: string[];
  /** Seconds each new access token lives, per provider. */
  lifetime: Record<Provider, number>;
  /** The next N grants of a provider fail with this status (a transient outage). */
  failNext(provider: Provider, status: number, count: number): void;
  /** Every refresh of this provider is rejected with invalid_grant from now on. */
  revoke(provider: Provider): void;
  /** Starts a refresh chain: an access token and a refresh token the fake will honour. */
  seed(
    provider: Provider,
    lifetimeSeconds?: number,
  ): Promise<{ access: string; refresh: string; expiresAt: number }>;
  /** How the next GitHub device flow answers its polls, in order. */
  githubDeviceScript: string[];
  xaiDeviceScript: string[];
  /** Leave expires_in out of xAI answers. */
  xaiOmitExpiresIn: boolean;
}

function rand(prefix: string): string {
  return prefix +
    Array.from(crypto.getRandomValues(new Uint8Array(18)), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function startFakeOAuth(tls: { cert: string; key: string }): Promise<FakeOAuth> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  await exportJWK(publicKey);
  const access = new Map<string, Issued>();
  const refresh = new Map<string, { provider: Provider; used: boolean }>();
  const grants: Record<Provider, number> = { claude: 0, codex: 0, xai: 0, github: 0, copilot: 0 };
  const failures: Partial<Record<Provider, { status: number; count: number }>> = {};
  const revoked = new Set<Provider>();
  const reused: string[] = [];
  const lastAuth: Partial<Record<Provider, string>> = {};
  const issuedTokens: string[] = [];
  const codes = new Map<string, { challenge: string; redirect: string; nonce: string; clientId: string }>();
  const devices = new Map<string, { provider: Provider; script: string[] }>();
  const fake = {
    lifetime: { claude: 3600, codex: 3600, xai: 3600, github: 28800, copilot: 1500 } as Record<
      Provider,
      number
    >,
    githubDeviceScript: ["ok"],
    xaiDeviceScript: ["ok"],
    xaiOmitExpiresIn: false,
  };

  const accessToken = async (provider: Provider, lifetime: number) => {
    const expiresAt = Date.now() + lifetime * 1000;
    const token = provider === "codex"
      ? await new SignJWT({ "https://api.openai.com/auth": { chatgpt_account_id: "acct-1" } })
        .setProtectedHeader({ alg: "RS256" })
        .setExpirationTime(Math.floor(expiresAt / 1000)).setIssuedAt().sign(privateKey)
      : rand(`${provider}-access-`);
    access.set(token, { provider, expiresAt });
    issuedTokens.push(token);
    return { token, expiresAt };
  };
  const refreshToken = (provider: Provider) => {
    const token = rand(`${provider}-refresh-`);
    refresh.set(token, { provider, used: false });
    issuedTokens.push(token);
    return token;
  };
  const idToken = (aud: string, nonce?: string) =>
    new SignJWT(nonce ? { nonce } : {}).setProtectedHeader({ alg: "RS256" }).setIssuer("https://auth.x.ai")
      .setAudience(aud)
      .setSubject("user-1").setIssuedAt().setExpirationTime("10m").sign(privateKey);

  const oauthError = (error: string, status = 400) => Response.json({ error }, { status });
  const githubError = (error: string) => Response.json({ error, error_description: error });

  /** Consumes a refresh token once; a second use is refused and recorded. */
  const spend = (provider: Provider, token: string | null): Response | undefined => {
    const entry = token ? refresh.get(token) : undefined;
    if (!entry || entry.provider !== provider) return oauthError("invalid_grant");
    if (entry.used) {
      reused.push(token!);
      return oauthError(provider === "codex" ? "refresh_token_reused" : "invalid_grant");
    }
    if (revoked.has(provider)) return oauthError("invalid_grant");
    entry.used = true;
    return undefined;
  };
  const failing = (provider: Provider): Response | undefined => {
    const f = failures[provider];
    if (f && f.count > 0) {
      f.count--;
      return new Response("upstream trouble", { status: f.status });
    }
    return undefined;
  };
  const tokenBody = async (provider: Provider, extra: Record<string, unknown> = {}) => {
    const { token } = await accessToken(provider, fake.lifetime[provider]);
    grants[provider]++;
    const body: Record<string, unknown> = {
      access_token: token,
      refresh_token: refreshToken(provider),
      token_type: "bearer",
      ...extra,
    };
    if (!(provider === "xai" && fake.xaiOmitExpiresIn)) body.expires_in = fake.lifetime[provider];
    return body;
  };

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const host = url.hostname;
    const type = req.headers.get("content-type") ?? "";
    const form = async () => {
      if (!type.startsWith("application/x-www-form-urlencoded")) return null;
      return new URLSearchParams(await req.text());
    };

    if (host === "platform.claude.com" && url.pathname === "/v1/oauth/token" && req.method === "POST") {
      if (!type.startsWith("application/json")) return oauthError("invalid_request");
      const body = await req.json();
      if (body.grant_type !== "refresh_token" || body.client_id !== CLIENT_IDS.claude) {
        return oauthError("invalid_client");
      }
      return failing("claude") ?? spend("claude", body.refresh_token) ??
        Response.json(await tokenBody("claude"));
    }
    if (host === "auth.openai.com" && url.pathname === "/oauth/token" && req.method === "POST") {
      const f = await form();
      if (!f || f.get("grant_type") !== "refresh_token" || f.get("client_id") !== CLIENT_IDS.codex) {
        return oauthError("invalid_request");
      }
      return failing("codex") ?? spend("codex", f.get("refresh_token")) ??
        Response.json(await tokenBody("codex", { id_token: await idToken(CLIENT_IDS.codex) }));
    }
    if (host === "auth.x.ai" && url.pathname === "/oauth2/authorize") {
      const p = url.searchParams;
      const ok = p.get("response_type") === "code" && p.get("code_challenge_method") === "S256" &&
        p.get("scope") === "openid profile email offline_access grok-cli:access api:access" &&
        p.get("client_id") === CLIENT_IDS.xai &&
        p.get("state") && p.get("nonce") && p.get("code_challenge") &&
        /^http:\/\/127\.0\.0\.1:\d+\/callback$/.test(p.get("redirect_uri") ?? "");
      if (!ok) return new Response("bad authorize request", { status: 400 });
      const redirect = new URL(p.get("redirect_uri")!);
      if (url.searchParams.get("deny")) {
        redirect.searchParams.set("error", "access_denied");
      } else {
        const code = rand("code-");
        codes.set(code, {
          challenge: p.get("code_challenge")!,
          redirect: p.get("redirect_uri")!,
          nonce: p.get("nonce")!,
          clientId: p.get("client_id")!,
        });
        redirect.searchParams.set("code", code);
      }
      redirect.searchParams.set("state", p.get("state")!);
      return new Response(null, { status: 302, headers: { location: redirect.href } });
    }
    if (host === "auth.x.ai" && url.pathname === "/oauth2/device/code" && req.method === "POST") {
      const f = await form();
      if (!f || f.get("client_id") !== CLIENT_IDS.xai) return oauthError("invalid_client");
      const device = rand("xdev-");
      devices.set(device, { provider: "xai", script: [...fake.xaiDeviceScript] });
      return Response.json({
        device_code: device,
        user_code: "XAI-1234",
        verification_uri: "https://accounts.x.ai/device",
        expires_in: 60,
        interval: 1,
      });
    }
    if (host === "auth.x.ai" && url.pathname === "/oauth2/token" && req.method === "POST") {
      const f = await form();
      if (!f || f.get("client_id") !== CLIENT_IDS.xai) return oauthError("invalid_client");
      const grant = f.get("grant_type");
      if (grant === "refresh_token") {
        return failing("xai") ?? spend("xai", f.get("refresh_token")) ??
          Response.json(await tokenBody("xai"));
      }
      if (grant === "authorization_code") {
        const c = codes.get(f.get("code") ?? "");
        if (!c) return oauthError("invalid_grant");
        codes.delete(f.get("code")!);
        if (
          c.redirect !== f.get("redirect_uri") || c.challenge !== await s256(f.get("code_verifier") ?? "")
        ) return oauthError("invalid_grant");
        return Response.json(await tokenBody("xai", { id_token: await idToken(c.clientId, c.nonce) }));
      }
      if (grant === "urn:ietf:params:oauth:grant-type:device_code") {
        const d = devices.get(f.get("device_code") ?? "");
        if (!d) return oauthError("invalid_grant");
        const step = d.script.shift() ?? "expired_token";
        if (step !== "ok") return oauthError(step);
        return Response.json(await tokenBody("xai", { id_token: await idToken(CLIENT_IDS.xai) }));
      }
      return oauthError("unsupported_grant_type");
    }
    if (host === "github.com" && url.pathname === "/login/device/code" && req.method === "POST") {
      const f = await form();
      if (!f || f.get("client_id") !== CLIENT_IDS.github) return githubError("incorrect_client_credentials");
      const device = rand("gdev-");
      devices.set(device, { provider: "github", script: [...fake.githubDeviceScript] });
      return Response.json({
        device_code: device,
        user_code: "GH-5678",
        verification_uri: "https://github.com/login/device",
        expires_in: 60,
        interval: 1,
      });
    }
    if (host === "github.com" && url.pathname === "/login/oauth/access_token" && req.method === "POST") {
      const f = await form();
      if (!f || f.get("client_id") !== CLIENT_IDS.github || f.has("client_secret")) {
        return githubError("incorrect_client_credentials");
      }
      const extra = { refresh_token_expires_in: 15897600, scope: "" };
      if (f.get("grant_type") === "refresh_token") {
        const bad = failing("github") ?? spend("github", f.get("refresh_token"));
        if (bad) return bad.status >= 500 ? bad : githubError("bad_refresh_token");
        return Response.json(await tokenBody("github", extra));
      }
      if (f.get("grant_type") === "urn:ietf:params:oauth:grant-type:device_code") {
        const d = devices.get(f.get("device_code") ?? "");
        if (!d) return githubError("bad_verification_code");
        const step = d.script.shift() ?? "expired_token";
        if (step !== "ok") return githubError(step);
        return Response.json(await tokenBody("github", extra));
      }
      return githubError("unsupported_grant_type");
    }
    if (host === "api.github.com" && url.pathname === "/copilot_internal/v2/token") {
      const m = /^token (\S+)$/.exec(req.headers.get("authorization") ?? "");
      const gho = m ? refresh.get(m[1]) : undefined;
      if (!gho || gho.provider !== "copilot" || revoked.has("copilot")) {
        return new Response('{"message":"Bad credentials"}', { status: 401 });
      }
      const fail = failing("copilot");
      if (fail) return fail;
      const { token, expiresAt } = await accessToken("copilot", fake.lifetime.copilot);
      grants.copilot++;
      return Response.json({ token, expires_at: Math.floor(expiresAt / 1000), refresh_in: 1500 });
    }
    const provider = API_HOST[host];
    if (provider) {
      const auth = req.headers.get("authorization") ?? "";
      lastAuth[provider] = auth;
      const issued = access.get(auth.replace(/^Bearer /, ""));
      return Response.json({
        provider,
        valid: Boolean(issued && issued.provider === provider && issued.expiresAt > Date.now()),
        headers: [...req.headers],
      });
    }
    return new Response("not found", { status: 404 });
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, ...tls, onListen() {} }, handle);
  return {
    port: server.addr.port,
    grants,
    lastAuth,
    reused,
    issuedTokens,
    get lifetime() {
      return fake.lifetime;
    },
    get githubDeviceScript() {
      return fake.githubDeviceScript;
    },
    set githubDeviceScript(v: string[]) {
      fake.githubDeviceScript = v;
    },
    get xaiDeviceScript() {
      return fake.xaiDeviceScript;
    },
    set xaiDeviceScript(v: string[]) {
      fake.xaiDeviceScript = v;
    },
    get xaiOmitExpiresIn() {
      return fake.xaiOmitExpiresIn;
    },
    set xaiOmitExpiresIn(v: boolean) {
      fake.xaiOmitExpiresIn = v;
    },
    failNext(provider, status, count) {
      failures[provider] = { status, count };
    },
    revoke(provider) {
      revoked.add(provider);
    },
    async seed(provider, lifetimeSeconds) {
      const { token, expiresAt } = await accessToken(provider, lifetimeSeconds ?? fake.lifetime[provider]);
      return { access: token, refresh: refreshToken(provider), expiresAt };
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
