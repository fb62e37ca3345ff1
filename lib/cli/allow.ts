import { UsageError, VeilError } from "../errors.ts";
import { parseDuration } from "../policy/duration.ts";
import { parseHostPattern } from "../policy/host.ts";
import { compilePathGlob } from "../policy/path.ts";
import { keys, type RuleRecord } from "../state/store.ts";
import { type Command, list, str } from "./command.ts";
import { openStore } from "./open.ts";
import { printRows } from "./output.ts";

const METHOD = /^[A-Z]{1,20}$/;

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new UsageError(`Invalid port ${text}: use a number from 1 to 65535`);
  }
  return port;
}

export const allowCommands: Command[] = [
  {
    name: "allow",
    summary: "Allow a client to reach a host, optionally injecting a secret",
    args: ["CLIENT"],
    options: {
      host: {
        type: "string",
        value: "PATTERN",
        help: "api.example.com, or *.example.com for its subdomains",
      },
      secret: { type: "string", value: "NAME", help: "inject this secret into allowed requests" },
      path: {
        type: "string",
        multiple: true,
        value: "GLOB",
        help: "allowed path (* within a segment, ** across)",
      },
      method: { type: "string", multiple: true, value: "M", help: "allowed method (default: all)" },
      port: { type: "string", value: "N", help: "allowed port (default: 443 and 80)" },
      ttl: { type: "string", value: "DURATION", help: "the rule expires after this long (30m, 12h, 7d)" },
      "allow-private": {
        type: "boolean",
        help: "let this rule reach loopback, private and link-local addresses",
      },
    },
    async run({ args, flags }) {
      const hostFlag = str(flags, "host");
      if (!hostFlag) throw new UsageError("Missing --host");
      const host = parseHostPattern(hostFlag);
      const paths = list(flags, "path");
      paths.forEach(compilePathGlob);
      const methods = list(flags, "method").map((m) => m.toUpperCase());
      for (const m of methods) if (!METHOD.test(m)) throw new UsageError(`Invalid method ${m}`);
      const portFlag = str(flags, "port");
      const ports = portFlag ? [parsePort(portFlag)] : [443, 80];
      const ttl = str(flags, "ttl");
      const expiresAt = ttl ? Date.now() + parseDuration(ttl) : undefined;
      using store = await openStore(flags);
      const client = await store.requireClient(args[0]);
      const secretName = str(flags, "secret");
      const op = store.write().check(client);
      if (secretName) op.check(await store.requireSecret(secretName));
      const rule: RuleRecord = {
        id: crypto.randomUUID(),
        client: args[0],
        host,
        secret: secretName,
        paths,
        methods,
        ports,
        allowPrivate: flags["allow-private"] ? true : undefined,
        expiresAt,
        createdAt: new Date().toISOString(),
      };
      await store.commit(
        op.set(keys.rule(args[0], rule.id), rule),
        "State changed while adding the rule: try again",
      );
      const what = `${args[0]} -> ${host}:${ports.join(",")}`;
      console.error(
        `Allowed ${what}${secretName ? ` with secret ${secretName}` : ""}${ttl ? ` for ${ttl}` : ""}`,
      );
    },
  },
  {
    name: "revoke",
    summary: "Remove a client's rules for a host (the secret itself stays)",
    args: ["CLIENT"],
    options: { host: { type: "string", value: "PATTERN", help: "the host pattern given to allow" } },
    async run({ args, flags }) {
      const hostFlag = str(flags, "host");
      if (!hostFlag) throw new UsageError("Missing --host");
      const host = parseHostPattern(hostFlag);
      using store = await openStore(flags);
      const client = await store.requireClient(args[0]);
      const op = store.write().check(client);
      let count = 0;
      for await (const entry of store.kv.list<RuleRecord>({ prefix: keys.rules(args[0]) })) {
        if (entry.value.host !== host) continue;
        op.check(entry).delete(entry.key);
        count++;
      }
      if (count === 0) throw new VeilError(`Client ${args[0]} has no rule for ${host}`);
      await store.commit(op, "State changed while revoking: try again");
      console.error(`Revoked ${count} rule${count === 1 ? "" : "s"} of ${args[0]} for ${host}`);
    },
  },
  {
    name: "rules",
    summary: "List rules, of one client or of all",
    args: ["CLIENT?"],
    options: { json: { type: "boolean", help: "print JSON" } },
    async run({ args, flags }) {
      using store = await openStore(flags);
      if (args[0]) await store.requireClient(args[0]);
      const rules = await store.list<RuleRecord>(keys.rules(args[0]));
      const now = Date.now();
      const rows = rules.map((r) => ({
        client: r.client,
        host: r.host,
        ports: r.ports,
        paths: r.paths,
        methods: r.methods,
        secret: r.secret,
        private: r.allowPrivate ? "allowed" : undefined,
        expires: r.expiresAt === undefined
          ? undefined
          : new Date(r.expiresAt).toISOString() + (r.expiresAt <= now ? " (expired)" : ""),
      }));
      printRows(
        rows,
        ["client", "host", "ports", "paths", "methods", "secret", "private", "expires"],
        Boolean(flags.json),
      );
    },
  },
];
