import { XAI_CLIENT_ID, XAI_TOKEN_ENDPOINT } from "../credentials/xai.ts";
import { UsageError } from "../errors.ts";
import { githubAppUserLogin } from "../oauth/github_login.ts";
import { xaiBrowserLogin, xaiDeviceLogin } from "../oauth/xai_login.ts";
import { Destinations } from "../proxy/destinations.ts";
import { startDialer } from "../proxy/dialer.ts";
import { type OutboundFetch, outboundFetch } from "../proxy/outbound.ts";
import { Upstream } from "../proxy/upstream.ts";
import { parseDuration } from "../policy/duration.ts";
import { type Command, type Flags, str } from "./command.ts";
import { upstreamFlags, upstreamSettings } from "./upstream_flags.ts";

/** Runs a login with veil's own dialer, so --connect-to and --upstream-ca apply as in serve. */
async function withOutbound<T>(flags: Flags, run: (fetchFn: OutboundFetch) => Promise<T>): Promise<T> {
  const { connectTo, upstreamCaPems } = await upstreamSettings(flags);
  const upstream = new Upstream({ extraCaPems: upstreamCaPems });
  const destinations = new Destinations({ connectTo, own: { sockets: new Set(), hosts: new Set() } });
  const dialer = startDialer(destinations, upstream.extraCa);
  try {
    return await run(outboundFetch(dialer.client));
  } finally {
    dialer.close();
    upstream.close();
  }
}

function httpsUrl(flag: string, value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === "https:" || url.protocol === "http:") return url.href.replace(/\/$/, "");
  } catch { /* below */ }
  throw new UsageError(`Invalid --${flag} ${value}: use an https:// URL`);
}

function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

export const oauthCommands: Command[] = [
  {
    name: "oauth xai",
    summary:
      "Sign in to xAI (PKCE in a browser, or --device) and print JSON for `secret create --type oauth-xai`",
    options: {
      port: { type: "string", value: "N", help: "loopback port of the redirect callback (default 56121)" },
      device: { type: "boolean", help: "use the device authorization grant (no browser on this host)" },
      "client-id": { type: "string", value: "ID", help: "OAuth client (default: the Grok CLI's public one)" },
      issuer: { type: "string", value: "URL", help: "issuer (default https://auth.x.ai)" },
      "authorize-url": { type: "string", value: "URL", help: "default https://auth.x.ai/oauth2/authorize" },
      "token-url": { type: "string", value: "URL", help: `default ${XAI_TOKEN_ENDPOINT}` },
      "device-url": { type: "string", value: "URL", help: "default https://auth.x.ai/oauth2/device/code" },
      timeout: { type: "string", value: "DURATION", help: "give up after this long (default 10m)" },
      ...upstreamFlags,
    },
    async run({ flags }) {
      const port = Number(str(flags, "port") ?? "56121");
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new UsageError(`Invalid --port ${str(flags, "port")}`);
      }
      const issuer = httpsUrl("issuer", str(flags, "issuer") ?? "https://auth.x.ai");
      const options = {
        issuer,
        authorizeUrl: httpsUrl("authorize-url", str(flags, "authorize-url") ?? `${issuer}/oauth2/authorize`),
        tokenUrl: httpsUrl("token-url", str(flags, "token-url") ?? `${issuer}/oauth2/token`),
        deviceUrl: httpsUrl("device-url", str(flags, "device-url") ?? `${issuer}/oauth2/device/code`),
        clientId: str(flags, "client-id") ?? XAI_CLIENT_ID,
        port,
        timeoutMs: parseDuration(str(flags, "timeout") ?? "10m"),
      };
      const result = await withOutbound(flags, (fetchFn) => {
        const o = { ...options, fetch: fetchFn };
        return flags.device ? xaiDeviceLogin(o) : xaiBrowserLogin(o);
      });
      printJson(result);
      console.error("Adopt it with: veil secret create NAME --type oauth-xai --value-file FILE");
    },
  },
  {
    name: "oauth github-app-user",
    summary: "Get a GitHub App user token by device flow and print JSON for `--type github-app-user`",
    options: {
      "client-id": { type: "string", value: "ID", help: "the GitHub App's client id (Iv1...)" },
      "github-url": {
        type: "string",
        value: "URL",
        help: "GitHub or GitHub Enterprise (default https://github.com)",
      },
      ...upstreamFlags,
    },
    async run({ flags }) {
      const clientId = str(flags, "client-id");
      if (!clientId) throw new UsageError("Missing --client-id");
      const github = httpsUrl("github-url", str(flags, "github-url") ?? "https://github.com");
      printJson(await withOutbound(flags, (fetchFn) => githubAppUserLogin(github, clientId, fetchFn)));
      console.error("Adopt it with: veil secret create NAME --type github-app-user --value-file FILE");
    },
  },
];
