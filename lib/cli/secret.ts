import { credentialType, credentialTypeNames } from "../credentials/registry.ts";
import type { CredStateRecord } from "../credentials/token_state.ts";
import { UsageError, VeilError } from "../errors.ts";
import { parseHostPattern } from "../policy/host.ts";
import { keys, type RuleRecord, type SecretRecord } from "../state/store.ts";
import { type Command, str } from "./command.ts";
import { checkName } from "./names.ts";
import { openStore } from "./open.ts";
import { printRows } from "./output.ts";

const json = { type: "boolean" as const, help: "print JSON" };

/** Reads the secret's value from --value or --value-file (once; trailing whitespace stripped). */
async function readValue(value: string | undefined, file: string | undefined): Promise<string> {
  if (value !== undefined && file !== undefined) {
    throw new UsageError("Give --value or --value-file, not both");
  }
  if (value !== undefined) return value;
  if (file === undefined) throw new UsageError("Missing --value or --value-file");
  try {
    return (await Deno.readTextFile(file)).replace(/\s+$/, "");
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).message;
    throw new VeilError(`Cannot read value file ${file}: ${why}`);
  }
}

function isStatic(type: string): boolean {
  return type === "bearer" || type === "basic";
}

/** The refreshed state's meta (never its tokens), when it belongs to this version of the secret. */
async function liveMeta(kv: Deno.Kv, s: SecretRecord) {
  const entry = await kv.get<CredStateRecord>(keys.credState(s.name));
  return entry.value && entry.value.secretVersion === s.updatedAt ? entry.value.meta : undefined;
}

export const secretCommands: Command[] = [
  {
    name: "secret create",
    summary: "Store a secret, sealed, for injection into requests to its host",
    args: ["NAME"],
    options: {
      host: {
        type: "string",
        value: "HOST",
        help: "host the secret may be sent to (exact or *.example.com)",
      },
      type: { type: "string", value: "TYPE", help: `one of ${credentialTypeNames().join(", ")}` },
      value: {
        type: "string",
        value: "V",
        help: "the value (prefer --value-file: argv is visible to others)",
      },
      "value-file": { type: "string", value: "PATH", help: "read the value from this file" },
      "token-endpoint": { type: "string", value: "URL", help: "override an OAuth type's token endpoint" },
      force: { type: "boolean", help: "replace an existing secret of this name" },
    },
    async run({ args, flags }) {
      const name = checkName("secret", args[0]);
      const hostFlag = str(flags, "host");
      const typeFlag = str(flags, "type");
      if (!typeFlag) throw new UsageError("Missing --type");
      const kind = credentialType(typeFlag);
      if (!hostFlag && !kind.defaultHost) throw new UsageError("Missing --host");
      const host = parseHostPattern(hostFlag ?? kind.defaultHost!);
      const value = await readValue(str(flags, "value"), str(flags, "value-file"));
      const adopted = await kind.adopt(value, { tokenEndpoint: str(flags, "token-endpoint") });
      using store = await openStore(flags);
      const existing = await store.getSecret(name);
      if (existing.value && !flags.force) {
        throw new VeilError(`Secret ${name} already exists: use --force to replace it`);
      }
      const now = new Date().toISOString();
      const key = keys.secret(name);
      const record: SecretRecord = {
        name,
        type: kind.type,
        host,
        createdAt: existing.value?.createdAt ?? now,
        updatedAt: now,
        info: adopted.info,
        sealed: await store.sealer.seal(key, adopted.material),
      };
      await store.commit(
        store.write().check(existing).set(key, record).delete(keys.credState(name)),
        `Secret ${name} changed while writing it: try again`,
      );
      console.error(`${existing.value ? "Replaced" : "Created"} secret ${name} (${kind.type} for ${host})`);
    },
  },
  {
    name: "secret list",
    summary: "List secrets: names, types and hosts, never values",
    options: { json },
    async run({ flags }) {
      using store = await openStore(flags);
      const secrets = await store.list<SecretRecord>(keys.secrets);
      const rows = [];
      for (const s of secrets) {
        const meta = await liveMeta(store.kv, s);
        rows.push({
          name: s.name,
          type: s.type,
          host: s.host,
          state: meta?.status ?? (isStatic(s.type) ? "static" : "ok"),
          expires: meta?.expiresAt ? new Date(meta.expiresAt).toISOString() : undefined,
          info: Object.entries(s.info).map(([k, v]) => `${k}=${v}`).join(" "),
          updated: s.updatedAt,
        });
      }
      printRows(rows, ["name", "type", "host", "state", "expires", "info", "updated"], Boolean(flags.json));
    },
  },
  {
    name: "secret delete",
    summary: "Delete a secret (refused while a rule names it)",
    args: ["NAME"],
    async run({ args, flags }) {
      using store = await openStore(flags);
      const entry = await store.requireSecret(args[0]);
      const users = (await store.list<RuleRecord>(keys.rules())).filter((r) => r.secret === args[0]);
      if (users.length) {
        const clients = [...new Set(users.map((r) => r.client))].join(", ");
        throw new VeilError(`Secret ${args[0]} is used by rules of ${clients}: revoke them first`);
      }
      await store.commit(
        store.write().check(entry).delete(entry.key).delete(keys.credState(args[0])),
        `Secret ${args[0]} changed while deleting it: try again`,
      );
      console.error(`Deleted secret ${args[0]}`);
    },
  },
  {
    name: "secret show",
    summary: "Show a secret's type, host, expiry, last refresh and last error; never its value",
    args: ["NAME"],
    options: { json },
    async run({ args, flags }) {
      using store = await openStore(flags);
      const { value: s } = await store.requireSecret(args[0]);
      const meta = await liveMeta(store.kv, s);
      const fields: Record<string, unknown> = {
        name: s.name,
        type: s.type,
        host: s.host,
        ...s.info,
        state: meta?.status ?? (isStatic(s.type) ? "static" : "ok"),
        expires: meta?.expiresAt ? new Date(meta.expiresAt).toISOString() : undefined,
        last_refresh: meta?.lastRefresh,
        refreshes: meta?.refreshes,
        last_error: meta?.lastError,
        created: s.createdAt,
        updated: s.updatedAt,
      };
      if (flags.json) {
        console.log(JSON.stringify(fields, null, 2));
        return;
      }
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) console.log(`${k.padEnd(14)} ${v}`);
    },
  },
];
