import type { Credential, CredentialEnv } from "../credentials/credential.ts";
import { credentialType } from "../credentials/registry.ts";
import { oneLine } from "../errors.ts";
import { type CompiledRule, compileRule, sortRules } from "../policy/decide.ts";
import { type ClientRecord, keys, type RuleRecord, type SecretRecord, type Store } from "../state/store.ts";
import { hashToken, sameHash } from "../state/tokens.ts";

interface LoadedSecret {
  updatedAt: string;
  credential: Credential;
}

/**
 * The server's in-memory view of the state: clients by token hash, compiled rules
 * per client, live credentials. Reloaded whenever the revision counter moves.
 */
export class Snapshot {
  private clientsByHash = new Map<string, ClientRecord>();
  private rulesByClient = new Map<string, CompiledRule[]>();
  private secrets = new Map<string, LoadedSecret>();
  private revision = -1n;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private loading: Promise<void> | undefined;

  constructor(private readonly store: Store, private readonly env: CredentialEnv) {}

  /** Finds the client whose token this is. */
  authenticate(token: string): ClientRecord | undefined {
    const hash = hashToken(token);
    const client = this.clientsByHash.get(hash);
    return client && sameHash(client.tokenHash, hash) ? client : undefined;
  }

  rules(client: string): CompiledRule[] {
    return this.rulesByClient.get(client) ?? [];
  }

  credential(name: string): Credential | undefined {
    return this.secrets.get(name)?.credential;
  }

  allCredentials(): Credential[] {
    return [...this.secrets.values()].map((s) => s.credential);
  }

  /** Loads the state now, then polls the revision so CLI changes apply within a second. */
  async start(pollMs = 250): Promise<void> {
    await this.reloadIfChanged();
    const tick = async () => {
      try {
        await this.reloadIfChanged();
      } catch (err) {
        console.error(`veil: cannot reload state: ${oneLine(err)}`);
      }
      if (this.timer !== undefined) this.timer = setTimeout(tick, pollMs);
    };
    this.timer = setTimeout(tick, pollMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.loading?.catch(() => {});
    await Promise.allSettled([...this.secrets.values()].map((s) => s.credential.close?.()));
  }

  reloadIfChanged(): Promise<void> {
    this.loading ??= this.load().finally(() => this.loading = undefined);
    return this.loading;
  }

  private async load(): Promise<void> {
    const revision = await this.store.revision();
    if (revision === this.revision) return;
    const [clients, rules, secrets] = await Promise.all([
      this.store.list<ClientRecord>(keys.clients),
      this.store.list<RuleRecord>(keys.rules()),
      this.store.list<SecretRecord>(keys.secrets),
    ]);
    const nextSecrets = new Map<string, LoadedSecret>();
    for (const record of secrets) {
      const old = this.secrets.get(record.name);
      if (old && old.updatedAt === record.updatedAt) {
        nextSecrets.set(record.name, old);
        continue;
      }
      try {
        const material = await this.store.openSecret(record);
        const credential = credentialType(record.type).load(record, material, this.env);
        nextSecrets.set(record.name, { updatedAt: record.updatedAt, credential });
      } catch (err) {
        console.error(`veil: cannot load secret ${record.name}: ${oneLine(err)}`);
      }
    }
    for (const [name, old] of this.secrets) {
      if (nextSecrets.get(name) !== old) old.credential.close?.();
    }
    const byClient = new Map<string, CompiledRule[]>();
    for (const rule of rules) {
      const list = byClient.get(rule.client) ?? [];
      list.push(compileRule(rule));
      byClient.set(rule.client, list);
    }
    for (const [client, list] of byClient) byClient.set(client, sortRules(list));
    this.clientsByHash = new Map(clients.map((c) => [c.tokenHash, c]));
    this.rulesByClient = byClient;
    this.secrets = nextSecrets;
    this.revision = revision;
  }
}
