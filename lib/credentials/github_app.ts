import { SignJWT } from "jose";
import { parse as parseYaml } from "yaml";
import { oneLine, VeilError } from "../errors.ts";
import type { SecretRecord } from "../state/store.ts";
import { checkEndpoint } from "./adopt.ts";
import {
  type Credential,
  type CredentialEnv,
  CredentialError,
  type CredentialType,
  type RequestHeaders,
} from "./credential.ts";
import { readKeyFile, signingKey, toPkcs8 } from "./github_app_key.ts";

const TYPE = "github-app";
const REUSE_MARGIN_MS = 5 * 60_000;
const REPO_PATH = /^\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?(?:\/|$)/;

interface Material {
  appId: string;
  privateKey?: string;
  privateKeyFile?: string;
  apiEndpoint: string;
  installationId?: string;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

function parseConfig(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new VeilError(`Invalid ${TYPE} file: malformed YAML (${oneLine(err).split(" at line")[0]})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new VeilError(`Invalid ${TYPE} file: expected a YAML or JSON mapping`);
  }
  return value as Record<string, unknown>;
}

function idField(config: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const v = config[name];
  if (v === undefined || v === null || v === "") {
    if (required) throw new VeilError(`Invalid ${TYPE} file: missing ${name}`);
    return undefined;
  }
  if ((typeof v !== "string" && typeof v !== "number") || !/^[A-Za-z0-9._-]+$/.test(String(v))) {
    throw new VeilError(`Invalid ${TYPE} file: ${name} must be a number or an id like Iv1.abc`);
  }
  return String(v);
}

/** A GitHub App: installation tokens minted from its private key, injected for git over HTTPS. */
export const githubApp: CredentialType = {
  type: TYPE,
  defaultHost: "github.com",
  async adopt(value) {
    const config = parseConfig(value);
    const appId = idField(config, "app_id", true)!;
    const installationId = idField(config, "installation_id", false);
    if (installationId !== undefined && !/^\d+$/.test(installationId)) {
      throw new VeilError(`Invalid ${TYPE} file: installation_id must be a number`);
    }
    const file = config.private_key_file;
    const inline = config.private_key;
    if ((file === undefined) === (inline === undefined)) {
      throw new VeilError(`Invalid ${TYPE} file: give exactly one of private_key_file and private_key`);
    }
    const material: Material = {
      appId,
      apiEndpoint: checkEndpoint(TYPE, String(config.api_endpoint ?? "https://api.github.com")).replace(
        /\/+$/,
        "",
      ),
      installationId,
    };
    if (file !== undefined) {
      if (typeof file !== "string" || !file) {
        throw new VeilError(`Invalid ${TYPE} file: private_key_file must be a path`);
      }
      const path = file.startsWith("/") ? file : `${Deno.cwd()}/${file}`;
      toPkcs8(await readKeyFile(path), path);
      material.privateKeyFile = path;
    } else {
      if (typeof inline !== "string") {
        throw new VeilError(`Invalid ${TYPE} file: private_key must be a PEM string`);
      }
      toPkcs8(inline, "private_key");
      material.privateKey = inline;
    }
    return {
      material,
      info: {
        app_id: appId,
        installation: installationId ?? "auto",
        key: material.privateKeyFile ? `file:${material.privateKeyFile}` : "inline",
        api: material.apiEndpoint,
      },
    };
  },
  load(record, material, env) {
    return new GitHubAppCredential(record, material as Material, env);
  },
};

class GitHubAppCredential implements Credential {
  readonly name: string;
  readonly type = TYPE;
  readonly host: string;
  private tokens = new Map<string, CachedToken>();
  private minting = new Map<string, Promise<CachedToken>>();
  private installations = new Map<string, Promise<string>>();

  constructor(record: SecretRecord, private readonly m: Material, private readonly env: CredentialEnv) {
    this.name = record.name;
    this.host = record.host;
  }

  async apply(headers: RequestHeaders, url: URL): Promise<void> {
    const installation = await this.installationFor(url.pathname);
    const { token } = await this.tokenFor(installation);
    headers.set("authorization", `Basic ${btoa(`x-access-token:${token}`)}`);
  }

  sensitiveValues(): string[] {
    const values = [...this.tokens.values()].flatMap((t) => [t.token, btoa(`x-access-token:${t.token}`)]);
    return this.m.privateKey ? [...values, this.m.privateKey] : values;
  }

  /** An RS256 JWT for the app: issued 60 s in the past (clock drift), valid 9 minutes. */
  private async appJwt(): Promise<string> {
    const pem = this.m.privateKey ?? await readKeyFile(this.m.privateKeyFile!);
    const key = await signingKey(pem, this.m.privateKeyFile ?? "private_key");
    const now = Math.floor(Date.now() / 1000);
    return await new SignJWT({}).setProtectedHeader({ alg: "RS256" }).setIssuedAt(now - 60).setExpirationTime(
      now + 540,
    )
      .setIssuer(this.m.appId).sign(key);
  }

  private async api(
    path: string,
    method = "GET",
  ): Promise<Record<string, unknown> | Record<string, unknown>[]> {
    let jwt: string;
    try {
      jwt = await this.appJwt();
    } catch (err) {
      throw new CredentialError("github-app-mint-failed", oneLine(err));
    }
    let res: Response;
    try {
      res = await this.env.fetch(`${this.m.apiEndpoint}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${jwt}`,
          accept: "application/vnd.github+json",
          "x-github-api-version": "2022-11-28",
          "user-agent": "veil",
        },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new CredentialError("github-app-mint-failed", `GitHub API unreachable: ${oneLine(err)}`);
    }
    const body = await res.json().catch(() => ({}));
    if (res.status === 404) {
      throw new CredentialError("github-app-installation-not-found", `${path}: not found`);
    }
    if (!res.ok) throw new CredentialError("github-app-mint-failed", `${path}: HTTP ${res.status}`);
    return body;
  }

  /** The configured installation, else the repository's (from the path), else the app's only one. */
  private installationFor(path: string): Promise<string> {
    if (this.m.installationId) return Promise.resolve(this.m.installationId);
    const repo = REPO_PATH.exec(path);
    const key = repo ? `${repo[1]}/${repo[2]}`.toLowerCase() : "";
    let found = this.installations.get(key);
    if (!found) {
      found = (async () => {
        if (repo) {
          const body = await this.api(`/repos/${repo[1]}/${repo[2]}/installation`) as Record<string, unknown>;
          if (typeof body.id !== "number") {
            throw new CredentialError("github-app-mint-failed", "installation without id");
          }
          return String(body.id);
        }
        const list = await this.api("/app/installations");
        if (!Array.isArray(list) || list.length === 0) {
          throw new CredentialError("github-app-installation-not-found", "the app has no installation");
        }
        if (list.length > 1) {
          throw new CredentialError(
            "github-app-installation-ambiguous",
            "the app has several installations and the request names no repository: set installation_id",
          );
        }
        return String(list[0].id);
      })();
      this.installations.set(key, found);
      found.catch(() => this.installations.delete(key));
    }
    return found;
  }

  /** One token per installation, reused until 5 minutes before it expires; one mint at a time. */
  private tokenFor(installation: string): Promise<CachedToken> {
    const cached = this.tokens.get(installation);
    if (cached && cached.expiresAt - REUSE_MARGIN_MS > Date.now()) return Promise.resolve(cached);
    let inflight = this.minting.get(installation);
    if (!inflight) {
      inflight = (async () => {
        const body = await this.api(`/app/installations/${installation}/access_tokens`, "POST") as Record<
          string,
          unknown
        >;
        const expiresAt = Date.parse(String(body.expires_at));
        if (typeof body.token !== "string" || !Number.isFinite(expiresAt)) {
          throw new CredentialError("github-app-mint-failed", "GitHub answered without a token");
        }
        const fresh = { token: body.token, expiresAt };
        this.tokens.set(installation, fresh);
        return fresh;
      })().finally(() => this.minting.delete(installation));
      this.minting.set(installation, inflight);
    }
    return inflight;
  }
}
