import { oneLine } from "../errors.ts";
import { keys, type SecretRecord } from "../state/store.ts";
import { type Credential, type CredentialEnv, CredentialError, type RequestHeaders } from "./credential.ts";
import { type CredStateRecord, readCredState, type TokenMeta, type TokenState } from "./token_state.ts";

/** A refresh failure: permanent ones (a rejected grant) need a new login; others are retried. */
export class RefreshError extends Error {
  constructor(readonly permanent: boolean, message: string) {
    super(message);
  }
}

/** What differs between OAuth providers: how to refresh, and which headers to set. */
export interface OAuthProvider {
  /** Whether this state can be refreshed at all (a long-lived token cannot). */
  canRefresh(state: TokenState): boolean;
  refresh(state: TokenState, env: CredentialEnv): Promise<TokenState>;
  headers(state: TokenState, headers: RequestHeaders): void;
}

const SKEW_MS = 10_000;
const AHEAD_MS = 5 * 60_000;
const MAX_BACKOFF_MS = 5 * 60_000;
const LEASE_MS = 30_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** When to refresh: at 80% of the token's life, but at least 5 minutes before it ends when it lives long. */
export function refreshAt(state: TokenState): number | undefined {
  if (state.expiresAt === undefined) return undefined;
  const life = state.obtainedAt !== undefined ? state.expiresAt - state.obtainedAt : undefined;
  const ahead = life !== undefined && life > 0 ? Math.min(AHEAD_MS, life * 0.2) : AHEAD_MS;
  return state.expiresAt - ahead;
}

/**
 * An OAuth credential: injects the current access token and refreshes it in the background,
 * one refresh at a time (also across processes, through a lease in KV), persisting the new
 * tokens sealed before they are used.
 */
export class OAuthCredential implements Credential {
  readonly name: string;
  readonly type: string;
  readonly host: string;
  private state: TokenState;
  private meta: TokenMeta = { status: "ok", refreshes: 0 };
  private versionstamp: string | null = null;
  private readonly ready: Promise<void>;
  private inflight: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly record: SecretRecord,
    initial: TokenState,
    private readonly provider: OAuthProvider,
    private readonly env: CredentialEnv,
  ) {
    this.name = record.name;
    this.type = record.type;
    this.host = record.host;
    this.state = initial;
    this.meta.expiresAt = initial.expiresAt;
    this.ready = this.loadPersisted().then(() => this.schedule());
  }

  /** A state persisted by an earlier run (or another process) supersedes the adopted file. */
  private async loadPersisted(): Promise<void> {
    try {
      const { entry, tokens } = await readCredState(this.env, this.name);
      if (entry.value && tokens && entry.value.secretVersion === this.record.updatedAt) {
        this.state = tokens;
        this.meta = entry.value.meta;
        this.versionstamp = entry.versionstamp;
      }
    } catch (err) {
      this.meta.lastError = oneLine(err);
    }
  }

  async apply(headers: RequestHeaders): Promise<void> {
    await this.ready;
    if (this.meta.status === "needs-login") {
      throw new CredentialError("credential-refresh-failed", `secret ${this.name} needs a new login`);
    }
    if (this.expired() && this.provider.canRefresh(this.state)) await this.refreshNow();
    if ((this.meta.status as TokenMeta["status"]) === "needs-login" || this.expired()) {
      throw new CredentialError("credential-refresh-failed", `secret ${this.name} could not be refreshed`);
    }
    this.provider.headers(this.state, headers);
  }

  sensitiveValues(): string[] {
    return [this.state.access, this.state.refresh ?? ""].filter((v) => v.length >= 8);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    // A refresh already sent has spent the old refresh token: its answer must be persisted.
    await this.inflight?.catch(() => {});
  }

  /** Expired, or so close to it that a request sent now could arrive too late. */
  private expired(): boolean {
    const { expiresAt, obtainedAt } = this.state;
    if (expiresAt === undefined) return false;
    const life = obtainedAt !== undefined ? expiresAt - obtainedAt : undefined;
    const skew = life !== undefined && life > 0 ? Math.min(SKEW_MS, life * 0.1) : SKEW_MS;
    return expiresAt <= Date.now() + skew;
  }

  private schedule(delayMs?: number): void {
    clearTimeout(this.timer);
    if (this.closed || this.meta.status === "needs-login" || !this.provider.canRefresh(this.state)) return;
    const at = refreshAt(this.state);
    if (delayMs === undefined && at === undefined) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, delayMs ?? at! - Date.now()));
    const timer = setTimeout(() => this.refreshNow().catch(() => {}), wait);
    Deno.unrefTimer(timer);
    this.timer = timer;
  }

  /** Single flight: every caller waits for the one refresh in flight. */
  refreshNow(): Promise<void> {
    this.inflight ??= this.refreshOnce().finally(() => this.inflight = undefined);
    return this.inflight;
  }

  private async refreshOnce(): Promise<void> {
    const leaseKey = [...keys.credState(this.name), "lease"];
    const lease = await this.env.kv.atomic().check({ key: leaseKey, versionstamp: null })
      .set(leaseKey, { pid: Deno.pid }, { expireIn: LEASE_MS }).commit();
    if (!lease.ok) {
      // Another process is refreshing: wait for it, then use what it persisted.
      const deadline = Date.now() + LEASE_MS;
      while (Date.now() < deadline && (await this.env.kv.get(leaseKey)).versionstamp !== null) {
        await new Promise((r) => setTimeout(r, 200));
      }
      await this.loadPersisted();
      this.schedule();
      return;
    }
    try {
      // A newer state may have been persisted since we loaded ours.
      const { entry, tokens } = await readCredState(this.env, this.name);
      if (
        tokens && entry.versionstamp !== this.versionstamp &&
        entry.value!.secretVersion === this.record.updatedAt
      ) {
        this.state = tokens;
        this.meta = entry.value!.meta;
        this.versionstamp = entry.versionstamp;
        if (!this.expired() && (refreshAt(this.state) ?? Infinity) > Date.now()) return this.schedule();
      }
      let next: TokenState;
      try {
        next = await this.provider.refresh(this.state, this.env);
      } catch (err) {
        const permanent = err instanceof RefreshError && err.permanent;
        this.meta = {
          ...this.meta,
          lastError: oneLine(err),
          status: permanent ? "needs-login" : this.meta.status,
        };
        await this.persist(this.state).catch(() => {});
        if (!permanent) this.schedule(this.backoff());
        return;
      }
      this.failures = 0;
      this.meta = {
        status: "ok",
        expiresAt: next.expiresAt,
        lastRefresh: new Date().toISOString(),
        lastError: undefined,
        refreshes: this.meta.refreshes + 1,
      };
      // Persist (sealed) before use: the old refresh token is spent, the new one must not be lost.
      await this.persist(next);
      this.state = next;
      this.schedule();
    } finally {
      await this.env.kv.delete(leaseKey);
    }
  }

  private backoff(): number {
    this.failures++;
    const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 1));
    return base * (0.5 + Math.random());
  }

  private async persist(tokens: TokenState): Promise<void> {
    const key = keys.credState(this.name);
    this.meta.expiresAt = tokens.expiresAt;
    const value: CredStateRecord = {
      meta: this.meta,
      tokens: await this.env.sealer.seal(key, tokens),
      secretVersion: this.record.updatedAt,
    };
    const result = await this.env.kv.atomic().set(key, value).commit();
    if (result.ok) this.versionstamp = result.versionstamp;
  }
}
