import { keys, type RuleRecord } from "../state/store.ts";
import { hashToken, newClientToken } from "../state/tokens.ts";
import type { Command } from "./command.ts";
import { checkName } from "./names.ts";
import { openStore } from "./open.ts";
import { printRows } from "./output.ts";

const json = { type: "boolean" as const, help: "print JSON" };

export const clientCommands: Command[] = [
  {
    name: "client create",
    summary: "Create a client and print its proxy token (shown once)",
    args: ["NAME"],
    async run({ args, flags }) {
      const name = checkName("client", args[0]);
      using store = await openStore(flags);
      const token = newClientToken();
      const record = { name, tokenHash: hashToken(token), createdAt: new Date().toISOString() };
      await store.commit(
        store.write().check({ key: keys.client(name), versionstamp: null }).set(keys.client(name), record),
        `Client ${name} already exists`,
      );
      console.log(token);
    },
  },
  {
    name: "client list",
    summary: "List clients (never their tokens)",
    options: { json },
    async run({ flags }) {
      using store = await openStore(flags);
      const clients = await store.list<{ name: string; createdAt: string }>(keys.clients);
      const rules = await store.list<RuleRecord>(keys.rules());
      const rows = clients.map((c) => ({
        name: c.name,
        rules: rules.filter((r) => r.client === c.name).length,
        created: c.createdAt,
      }));
      printRows(rows, ["name", "rules", "created"], Boolean(flags.json));
    },
  },
  {
    name: "client delete",
    summary: "Delete a client and all its rules",
    args: ["NAME"],
    async run({ args, flags }) {
      using store = await openStore(flags);
      const entry = await store.requireClient(args[0]);
      const op = store.write().check(entry).delete(entry.key);
      for await (const rule of store.kv.list({ prefix: keys.rules(args[0]) })) op.delete(rule.key);
      await store.commit(op, `Client ${args[0]} changed while deleting it: try again`);
      console.error(`Deleted client ${args[0]}`);
    },
  },
  {
    name: "client rotate",
    summary: "Replace a client's token and print the new one; the old one stops working",
    args: ["NAME"],
    async run({ args, flags }) {
      using store = await openStore(flags);
      const entry = await store.requireClient(args[0]);
      const token = newClientToken();
      await store.commit(
        store.write().check(entry).set(entry.key, { ...entry.value, tokenHash: hashToken(token) }),
        `Client ${args[0]} changed while rotating it: try again`,
      );
      console.log(token);
    },
  },
];
