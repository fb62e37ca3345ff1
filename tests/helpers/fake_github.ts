// A fake GitHub: the App API (JWT checked against the App's public key) and a real git server
// (git http-backend) that accepts only unexpired installation tokens the API issued.
import { generateKeyPairSync } from "node:crypto";
import { importSPKI, jwtVerify } from "jose";

export interface FakeGitHub extends AsyncDisposable {
  port: number;
  appId: string;
  /** The App's private key, PKCS#1 as GitHub hands it out. */
  privateKeyPem: string;
  /** Root of the bare repositories (ORG/REPO.git). */
  root: string;
  mints: number;
  issued: string[];
  /** How long a new installation token lives. */
  tokenLifetimeMs: number;
  /** Installations and the repositories each covers. */
  installations: { id: number; repos: string[] }[];
  rejectedJwts: string[];
}

export const GITHUB_HOSTS = ["api.github.com", "github.com"];

async function run(args: string[], cwd?: string, env: Record<string, string> = {}): Promise<void> {
  const out = await new Deno.Command("git", { args, cwd, env, stdout: "null", stderr: "piped" }).output();
  if (out.code !== 0) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

/** A bare repository with one commit on main. */
export async function makeRepo(root: string, name: string): Promise<void> {
  const work = await Deno.makeTempDir();
  const env = {
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@t",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@t",
    HOME: work,
  };
  await run(["init", "-q", "-b", "main", work], undefined, env);
  await Deno.writeTextFile(`${work}/README`, `${name}\n`);
  await run(["add", "README"], work, env);
  await run(["commit", "-q", "-m", "first"], work, env);
  await Deno.mkdir(`${root}/${name.split("/")[0]}`, { recursive: true });
  await run(["clone", "-q", "--bare", work, `${root}/${name}.git`], undefined, env);
  await run(["config", "http.receivepack", "true"], `${root}/${name}.git`, env);
  await Deno.remove(work, { recursive: true });
}

/** Runs git http-backend as a CGI for one request. */
async function gitBackend(req: Request, root: string): Promise<Response> {
  const url = new URL(req.url);
  const env: Record<string, string> = {
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REQUEST_METHOD: req.method,
    CONTENT_TYPE: req.headers.get("content-type") ?? "",
    REMOTE_USER: "x-access-token",
    REMOTE_ADDR: "127.0.0.1",
  };
  const encoding = req.headers.get("content-encoding");
  if (encoding) env.HTTP_CONTENT_ENCODING = encoding;
  const length = req.headers.get("content-length");
  if (length) env.CONTENT_LENGTH = length;
  const child = new Deno.Command("git", {
    args: ["http-backend"],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  if (req.body) await req.body.pipeTo(child.stdin);
  else await child.stdin.close();
  const { stdout } = await child.output();
  let split = stdout.findIndex((_, i) =>
    stdout[i] === 13 && stdout[i + 1] === 10 && stdout[i + 2] === 13 && stdout[i + 3] === 10
  );
  let skip = 4;
  if (split < 0) {
    split = stdout.findIndex((_, i) => stdout[i] === 10 && stdout[i + 1] === 10);
    skip = 2;
  }
  const head = new TextDecoder().decode(stdout.subarray(0, split));
  const headers = new Headers();
  let status = 200;
  for (const line of head.split(/\r?\n/)) {
    const [name, ...rest] = line.split(":");
    const value = rest.join(":").trim();
    if (name.toLowerCase() === "status") status = Number(value.split(" ")[0]);
    else if (name) headers.append(name, value);
  }
  return new Response(stdout.subarray(split + skip), { status, headers });
}

export async function startFakeGitHub(tls: { cert: string; key: string }, dir: string): Promise<FakeGitHub> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const verifyKey = await importSPKI(String(publicKey), "RS256");
  const root = `${dir}/git`;
  await makeRepo(root, "org/private");
  await makeRepo(root, "other/tools");
  const tokens = new Map<string, { installation: number; expiresAt: number }>();
  const state = {
    mints: 0,
    issued: [] as string[],
    tokenLifetimeMs: 3600_000,
    installations: [{ id: 101, repos: ["org/private"] }, { id: 202, repos: ["other/tools"] }],
    rejectedJwts: [] as string[],
  };
  const appId = "4242";

  const checkJwt = async (req: Request): Promise<boolean> => {
    const jwt = (req.headers.get("authorization") ?? "").replace(/^Bearer /, "");
    try {
      const { payload } = await jwtVerify(jwt, verifyKey, { issuer: appId, algorithms: ["RS256"] });
      const now = Date.now() / 1000;
      if (payload.iat! > now - 30 || payload.exp! - payload.iat! > 660 || payload.exp! <= now) {
        throw new Error("claims");
      }
      return true;
    } catch {
      state.rejectedJwts.push(jwt.slice(0, 20));
      return false;
    }
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, ...tls, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (url.hostname === "api.github.com") {
      if (!(await checkJwt(req))) {
        return Response.json({ message: "A JSON web token could not be decoded" }, { status: 401 });
      }
      const repo = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(url.pathname);
      if (repo) {
        const inst = state.installations.find((i) => i.repos.includes(`${repo[1]}/${repo[2]}`));
        return inst
          ? Response.json({ id: inst.id, app_id: Number(appId) })
          : Response.json({ message: "Not Found" }, { status: 404 });
      }
      if (url.pathname === "/app/installations") {
        return Response.json(state.installations.map((i) => ({ id: i.id })));
      }
      const mint = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname);
      if (mint && req.method === "POST") {
        const id = Number(mint[1]);
        if (!state.installations.some((i) => i.id === id)) {
          return Response.json({ message: "Not Found" }, { status: 404 });
        }
        const token = `ghs_${crypto.randomUUID().replaceAll("-", "")}`;
        const expiresAt = Date.now() + state.tokenLifetimeMs;
        tokens.set(token, { installation: id, expiresAt });
        state.mints++;
        state.issued.push(token);
        return Response.json({ token, expires_at: new Date(expiresAt).toISOString() }, { status: 201 });
      }
      return Response.json({ message: "Not Found" }, { status: 404 });
    }
    if (url.hostname === "github.com") {
      const m = /^Basic (.+)$/.exec(req.headers.get("authorization") ?? "");
      const [user, token] = m ? atob(m[1]).split(":") : [];
      const t = tokens.get(token ?? "");
      const repo = /^\/([^/]+\/[^/]+?)(?:\.git)?\//.exec(url.pathname)?.[1];
      const allowed = user === "x-access-token" && t && t.expiresAt > Date.now() &&
        state.installations.find((i) => i.id === t.installation)?.repos.includes(repo ?? "");
      if (!allowed) {
        return new Response("Unauthorized\n", {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="GitHub"' },
        });
      }
      return await gitBackend(req, root);
    }
    return new Response("not found", { status: 404 });
  });
  return {
    port: server.addr.port,
    appId,
    privateKeyPem: String(privateKey),
    root,
    get mints() {
      return state.mints;
    },
    get issued() {
      return state.issued;
    },
    get tokenLifetimeMs() {
      return state.tokenLifetimeMs;
    },
    set tokenLifetimeMs(v: number) {
      state.tokenLifetimeMs = v;
    },
    get installations() {
      return state.installations;
    },
    get rejectedJwts() {
      return state.rejectedJwts;
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
