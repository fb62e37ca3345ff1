// A fixture whose upstreams are the fake OAuth providers and APIs.
import { type Fixture, fixture } from "./fixture.ts";
import { type FakeOAuth, OAUTH_HOSTS, type Provider, startFakeOAuth } from "./fake_oauth.ts";
import { proxyClient, type RunningVeil } from "./veil.ts";

export interface OAuthWorld extends AsyncDisposable {
  f: Fixture;
  fake: FakeOAuth;
  token: string;
  /** --connect-to arguments sending every provider host to the fake. */
  connect: string[];
  serve(extra?: string[]): Promise<RunningVeil>;
  /**
   * Writes an adoptable file for a type, seeded with a token chain the fake honours: the access
   * token has `lifetimeSeconds` left, out of a life of `totalSeconds` (default the same).
   */
  adoptFile(type: string, lifetimeSeconds?: number, totalSeconds?: number): Promise<string>;
  /** Deno fetch through a running veil, trusting its CA. */
  client(server: RunningVeil): Promise<Deno.HttpClient>;
}

const PROVIDER_OF: Record<string, Provider> = {
  "oauth-claude": "claude",
  "oauth-codex": "codex",
  "oauth-github-copilot": "copilot",
  "oauth-xai": "xai",
  "github-app-user": "github",
};

export async function oauthWorld(): Promise<OAuthWorld> {
  const f = await fixture([]);
  const fake = await startFakeOAuth(await f.pki.issue(OAUTH_HOSTS));
  const connect = OAUTH_HOSTS.flatMap((h) => ["--connect-to", `${h}:443:127.0.0.1:${fake.port}`]);
  const token = (await f.ok(["client", "create", "sbox-1"])).trim();
  let n = 0;
  return {
    f,
    fake,
    token,
    connect,
    serve: (extra = []) => f.serve([...connect, ...extra]),
    async adoptFile(type, lifetimeSeconds, totalSeconds) {
      const seed = await fake.seed(PROVIDER_OF[type], lifetimeSeconds);
      const now = Date.now();
      const obtained = new Date(seed.expiresAt - (totalSeconds ?? lifetimeSeconds ?? 3600) * 1000)
        .toISOString();
      const files: Record<string, unknown> = {
        "oauth-claude": {
          claudeAiOauth: {
            accessToken: seed.access,
            refreshToken: seed.refresh,
            expiresAt: seed.expiresAt,
            scopes: ["user:inference"],
          },
        },
        "oauth-codex": {
          OPENAI_API_KEY: null,
          tokens: {
            id_token: "e30.e30.sig",
            access_token: seed.access,
            refresh_token: seed.refresh,
            account_id: "acct-1",
          },
          last_refresh: obtained,
        },
        "oauth-github-copilot": {
          "github-copilot": {
            type: "oauth",
            refresh: seed.refresh,
            access: seed.access,
            expires: seed.expiresAt,
          },
        },
        "oauth-xai": {
          type: "oauth-xai",
          access_token: seed.access,
          refresh_token: seed.refresh,
          token_type: "bearer",
          token_endpoint: "https://auth.x.ai/oauth2/token",
          expires_in: lifetimeSeconds ?? 3600,
          obtained_at: obtained,
        },
        "github-app-user": {
          client_id: "Iv1.testapp",
          access_token: seed.access,
          refresh_token: seed.refresh,
          token_endpoint: "https://github.com/login/oauth/access_token",
          expires_at: new Date(seed.expiresAt).toISOString(),
          obtained_at: obtained,
        },
      };
      const path = `${f.dir}/adopt-${n++}-${now}.json`;
      await Deno.writeTextFile(path, JSON.stringify(files[type]));
      return path;
    },
    client: (server) => proxyClient(server, token, f.veilCaFile),
    async [Symbol.asyncDispose]() {
      await f[Symbol.asyncDispose]();
      await fake[Symbol.asyncDispose]();
    },
  };
}
