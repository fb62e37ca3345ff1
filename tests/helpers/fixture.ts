// One test's world: a temporary state folder, a test PKI and an echo upstream.
import { createTestPki, type TestPki } from "./pki.ts";
import { type EchoUpstream, startEchoUpstream } from "./upstream.ts";
import { type CliResult, type RunningVeil, startVeil, veil as runVeil } from "./veil.ts";

export interface Fixture extends AsyncDisposable {
  dir: string;
  state: string;
  pki: TestPki;
  upstream: EchoUpstream;
  /** veil's own CA, as a file, for clients to trust. */
  veilCaFile: string;
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  ok(args: string[], env?: Record<string, string>): Promise<string>;
  /** Starts `veil serve` trusting the test PKI, with --connect-to for each host to the upstream. */
  serve(extra?: string[], env?: Record<string, string>): Promise<RunningVeil>;
}

export const HOSTS = ["llama.example.com", "other.example.com", "api.example.org"];

export async function fixture(hosts: string[] = HOSTS): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "veil-test-" });
  const state = `${dir}/state`;
  const pki = await createTestPki(dir);
  const upstream = startEchoUpstream(await pki.issue(hosts));
  const servers: RunningVeil[] = [];
  const cli = (args: string[], env?: Record<string, string>) => runVeil(state, args, env);
  const ok = async (args: string[], env?: Record<string, string>) => {
    const r = await cli(args, env);
    if (r.code !== 0) throw new Error(`veil ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const veilCaFile = `${dir}/veil-ca.pem`;
  await Deno.writeTextFile(veilCaFile, await ok(["ca", "cert"]));
  return {
    dir,
    state,
    pki,
    upstream,
    veilCaFile,
    cli,
    ok,
    async serve(extra = [], env = {}) {
      const connectTo = hosts.flatMap((h) => ["--connect-to", `${h}:443:127.0.0.1:${upstream.port}`]);
      const server = await startVeil(state, ["--upstream-ca", pki.caFile, ...connectTo, ...extra], env);
      servers.push(server);
      return server;
    },
    async [Symbol.asyncDispose]() {
      for (const s of servers) await s.stop();
      await upstream[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
