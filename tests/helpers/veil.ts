// Runs the real veil CLI and server as subprocesses on a temporary state folder.
import { V8_FLAGS } from "../../lib/proxy/memory.ts";
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function veil(
  state: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args, "--state", state],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs a CLI command that must succeed; returns its stdout. */
export async function veilOk(
  state: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const r = await veil(state, args, env);
  if (r.code !== 0) throw new Error(`veil ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export interface RunningVeil extends AsyncDisposable {
  plainPort: number;
  tlsPort: number;
  /** Proxy URLs with this token as the password. */
  httpProxy(token: string): string;
  httpsProxy(token: string): string;
  stdout(): string;
  stderr(): string;
  process: Deno.ChildProcess;
  stop(): Promise<number>;
}

/** A Deno fetch client that goes through veil (its plain or its TLS listener) and trusts veil's CA. */
export async function proxyClient(
  server: RunningVeil,
  token: string,
  veilCaFile: string,
  listener: "plain" | "tls" = "plain",
): Promise<Deno.HttpClient> {
  const url = listener === "plain"
    ? `http://127.0.0.1:${server.plainPort}`
    : `https://127.0.0.1:${server.tlsPort}`;
  return Deno.createHttpClient({
    proxy: { url, basicAuth: { username: "proxy", password: token } },
    caCerts: [await Deno.readTextFile(veilCaFile)],
  });
}

export async function startVeil(
  state: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<RunningVeil> {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      // As `deno task start` runs it.
      V8_FLAGS,
      MAIN,
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--listen-tls",
      "127.0.0.1:0",
      "--state",
      state,
      ...args,
    ],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderr = "";
  const collect = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  };
  const outDone = collect(process.stdout, (s) => stdout += s);
  const errDone = collect(process.stderr, (s) => stderr += s);
  const deadline = Date.now() + 20_000;
  let match: RegExpMatchArray | null = null;
  while (!(match = stderr.match(/listening plain=127\.0\.0\.1:(\d+) tls=127\.0\.0\.1:(\d+)/))) {
    if (Date.now() > deadline) {
      process.kill("SIGKILL");
      throw new Error(`veil serve did not start: ${stderr}`);
    }
    const status = await Promise.race([process.status, new Promise((r) => setTimeout(r, 50))]);
    if (status && typeof status === "object") throw new Error(`veil serve exited: ${stderr}`);
  }
  const plainPort = Number(match[1]);
  const tlsPort = Number(match[2]);
  let stopped: Promise<number> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      try {
        process.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => process.kill("SIGKILL"), 10_000);
      const status = await process.status;
      clearTimeout(timer);
      await Promise.all([outDone, errDone]);
      return status.code;
    })();
    return stopped;
  };
  return {
    plainPort,
    tlsPort,
    httpProxy: (token) => `http://proxy:${token}@127.0.0.1:${plainPort}`,
    httpsProxy: (token) => `https://proxy:${token}@127.0.0.1:${tlsPort}`,
    stdout: () => stdout,
    stderr: () => stderr,
    process,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

export interface CurlResult {
  code: number;
  status: number;
  headers: string;
  body: string;
  bodyBytes: Uint8Array<ArrayBuffer>;
  stderr: string;
}

/** Runs real curl; `-w` prints the status on the last line of stderr. */
export async function curl(
  args: string[],
  stdin?: Uint8Array | ReadableStream<Uint8Array>,
): Promise<CurlResult> {
  const dir = await Deno.makeTempDir();
  try {
    const child = new Deno.Command("curl", {
      args: [
        "-sS",
        "--max-time",
        "20",
        "-D",
        `${dir}/h`,
        "-o",
        `${dir}/b`,
        "-w",
        "%{stderr}\n%{http_connect} %{http_code}",
        ...args,
      ],
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (stdin instanceof Uint8Array) {
      const w = child.stdin.getWriter();
      await w.write(stdin);
      await w.close();
    } else if (stdin) {
      await stdin.pipeTo(child.stdin);
    }
    const out = await child.output();
    const err = decoder.decode(out.stderr);
    const [connectStatus, httpStatus] = (err.trim().split("\n").pop() ?? "").split(" ").map(Number);
    // A refused CONNECT has no HTTP status of its own: report the proxy's answer.
    const status = httpStatus || connectStatus;
    const bodyBytes = await Deno.readFile(`${dir}/b`).catch(() => new Uint8Array());
    const headers = await Deno.readTextFile(`${dir}/h`).catch(() => "");
    return { code: out.code, status, headers, body: decoder.decode(bodyBytes), bodyBytes, stderr: err };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
