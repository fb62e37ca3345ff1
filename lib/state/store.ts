import { VeilError } from "../errors.ts";
import { ensureStateDir } from "./paths.ts";
import { loadSealKey, type Sealed, Sealer } from "./seal.ts";

/** KV layout. Every CLI write also bumps REVISION in the same atomic operation. */
export const keys = {
  revision: ["meta", "revision"] as Deno.KvKey,
  sealCheck: ["meta", "seal-check"] as Deno.KvKey,
  client: (name: string): Deno.KvKey => ["clients", name],
  clients: ["clients"] as Deno.KvKey,
  secret: (name: string): Deno.KvKey => ["secrets", name],
  secrets: ["secrets"] as Deno.KvKey,
  rule: (client: string, id: string): Deno.KvKey => ["rules", client, id],
  rules: (client?: string): Deno.KvKey => client ? ["rules", client] : ["rules"],
  credState: (name: string): Deno.KvKey => ["credstate", name],
  ca: ["ca"] as Deno.KvKey,
  audit: ["audit"] as Deno.KvKey,
};

export interface ClientRecord {
  name: string;
  tokenHash: string;
  createdAt: string;
}

export interface SecretRecord {
  name: string;
  type: string;
  host: string;
  createdAt: string;
  updatedAt: string;
  /** Non-sensitive facts for listings (an app id, a token endpoint). */
  info: Record<string, string>;
  /** The secret material, sealed under this record's key. */
  sealed: Sealed;
}

export interface RuleRecord {
  id: string;
  client: string;
  host: string;
  secret?: string;
  paths: string[];
  methods: string[];
  ports: number[];
  /** Lets this rule reach loopback, private and link-local addresses. */
  allowPrivate?: boolean;
  /** Epoch milliseconds after which the rule no longer applies. */
  expiresAt?: number;
  createdAt: string;
}

/** The opened state: KV plus the sealer bound to its seal key. */
export class Store implements Disposable {
  private constructor(readonly dir: string, readonly kv: Deno.Kv, readonly sealer: Sealer) {}

  static async open(dir: string): Promise<Store> {
    await ensureStateDir(dir);
    const path = `${dir}/veil.kv`;
    const existed = await exists(path);
    if (existed && !Deno.env.get("VEIL_SEAL_KEY") && !(await exists(`${dir}/seal.key`))) {
      throw new VeilError(`Seal key ${dir}/seal.key is missing: restore it or set VEIL_SEAL_KEY`);
    }
    const sealer = await Sealer.fromRaw(await loadSealKey(dir));
    return await whenUnlocked(async () => {
      let kv: Deno.Kv;
      try {
        kv = await Deno.openKv(path);
      } catch (err) {
        if (isLocked(err)) throw err;
        throw new VeilError(`Cannot open state ${path}: ${(err as Error).message}`);
      }
      const store = new Store(dir, kv, sealer);
      // The folder is 0700 already; the database files get 0600 too, in case they are copied out.
      for (const file of [path, `${path}-wal`, `${path}-shm`]) await Deno.chmod(file, 0o600).catch(() => {});
      try {
        await store.checkSealKey();
      } catch (err) {
        kv.close();
        throw err;
      }
      return store;
    });
  }

  /** A sealed known value proves the key is the one the state was sealed with, before anything is written. */
  private async checkSealKey(): Promise<void> {
    const entry = await this.kv.get<Sealed>(keys.sealCheck);
    if (entry.value === null) {
      const sealed = await this.sealer.seal(keys.sealCheck, "veil");
      await this.kv.atomic().check(entry).set(keys.sealCheck, sealed).commit();
      return;
    }
    try {
      await this.sealer.open(keys.sealCheck, entry.value);
    } catch {
      throw new VeilError(
        `Cannot open state ${this.dir}: wrong seal key (not the one this state was sealed with)`,
      );
    }
  }

  close(): void {
    this.kv.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async revision(): Promise<bigint> {
    const entry = await this.kv.get<Deno.KvU64>(keys.revision);
    return entry.value?.value ?? 0n;
  }

  /** Starts an atomic write that also bumps the revision the server polls. */
  write(): Deno.AtomicOperation {
    return this.kv.atomic().sum(keys.revision, 1n);
  }

  async commit(op: Deno.AtomicOperation, conflict: string): Promise<void> {
    const result = await whenUnlocked(() => op.commit());
    if (!result.ok) throw new VeilError(conflict);
  }

  async list<T>(prefix: Deno.KvKey): Promise<T[]> {
    const out: T[] = [];
    for await (const entry of this.kv.list<T>({ prefix })) out.push(entry.value);
    return out;
  }

  async getClient(name: string): Promise<Deno.KvEntryMaybe<ClientRecord>> {
    return await this.kv.get<ClientRecord>(keys.client(name));
  }

  async getSecret(name: string): Promise<Deno.KvEntryMaybe<SecretRecord>> {
    return await this.kv.get<SecretRecord>(keys.secret(name));
  }

  async requireClient(name: string): Promise<Deno.KvEntry<ClientRecord>> {
    const entry = await this.getClient(name);
    if (entry.versionstamp === null) throw new VeilError(`Unknown client ${name}`);
    return entry;
  }

  async requireSecret(name: string): Promise<Deno.KvEntry<SecretRecord>> {
    const entry = await this.getSecret(name);
    if (entry.versionstamp === null) throw new VeilError(`Unknown secret ${name}`);
    return entry;
  }

  async openSecret<T>(record: SecretRecord): Promise<T> {
    return await this.sealer.open<T>(keys.secret(record.name), record.sealed);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

function isLocked(err: unknown): boolean {
  return /database is locked|SQLITE_BUSY/i.test(String((err as Error)?.message ?? err));
}

/**
 * Runs fn again while SQLite says another process holds the database (two processes
 * creating the same state at once), for up to about five seconds.
 */
export async function whenUnlocked<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isLocked(err) || attempt >= 40) {
        if (isLocked(err)) throw new VeilError("State is locked by another veil process: try again");
        throw err;
      }
      await new Promise((r) => setTimeout(r, 25 + Math.random() * 100));
    }
  }
}
