// A fixture with one client, a bearer secret for llama.example.com and a running veil.
import { type Fixture, fixture } from "./fixture.ts";
import { proxyClient, type RunningVeil } from "./veil.ts";

export const SECRET = "sk-1234567890";

export interface World extends AsyncDisposable {
  f: Fixture;
  token: string;
  server: RunningVeil;
  /** curl arguments for the https:// proxy trusting veil's CA both ways. */
  viaTls(): string[];
  /** curl arguments for the http:// proxy. */
  viaPlain(): string[];
  /** A Deno fetch client that goes through veil's plain listener and trusts its CA. */
  client(): Promise<Deno.HttpClient>;
}

export async function world(
  rules: string[][] = [["--host", "llama.example.com", "--secret", "llama-1"]],
  serveArgs: string[] = [],
): Promise<World> {
  const f = await fixture();
  try {
    const token = (await f.ok(["client", "create", "sbox-1"])).trim();
    await f.ok([
      "secret",
      "create",
      "llama-1",
      "--host",
      "llama.example.com",
      "--type",
      "bearer",
      "--value",
      SECRET,
    ]);
    for (const rule of rules) await f.ok(["allow", "sbox-1", ...rule]);
    const server = await f.serve(serveArgs);
    return {
      f,
      token,
      server,
      viaTls:
        () => ["-x", server.httpsProxy(token), "--proxy-cacert", f.veilCaFile, "--cacert", f.veilCaFile],
      viaPlain: () => ["-x", server.httpProxy(token), "--cacert", f.veilCaFile],
      client: () => proxyClient(server, token, f.veilCaFile),
      async [Symbol.asyncDispose]() {
        await f[Symbol.asyncDispose]();
      },
    };
  } catch (err) {
    await f[Symbol.asyncDispose]();
    throw err;
  }
}

export function headerValues(seen: { headers: [string, string][] }, name: string): string[] {
  return seen.headers.filter(([n]) => n === name).map(([, v]) => v);
}

/** Polls until check() is true or 5 s pass (hot reloads apply within a second). */
export async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
