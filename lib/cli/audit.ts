import { matches, readAudit } from "../audit/query.ts";
import { toLogfmt } from "../audit/record.ts";
import { parseDuration } from "../policy/duration.ts";
import { parseHostPattern } from "../policy/host.ts";
import { type Command, str } from "./command.ts";
import { openStore } from "./open.ts";

const POLL_MS = 500;

export const auditCommands: Command[] = [
  {
    name: "audit",
    summary: "Read the audit trail kept in state",
    options: {
      client: { type: "string", value: "NAME", help: "only this client" },
      host: { type: "string", value: "PATTERN", help: "only this host (or *.example.com)" },
      since: { type: "string", value: "DURATION", help: "only the last DURATION (default: all kept)" },
      json: { type: "boolean", help: "print JSON lines" },
      follow: { type: "boolean", short: "f", help: "keep printing new records until interrupted" },
    },
    async run({ flags }) {
      const since = str(flags, "since");
      const hostFlag = str(flags, "host");
      const filter = {
        client: str(flags, "client"),
        host: hostFlag ? parseHostPattern(hostFlag) : undefined,
      };
      const start = since ? Date.now() - parseDuration(since) : 0;
      using store = await openStore(flags);
      const print = (records: Parameters<typeof toLogfmt>[0][]) => {
        const lines = records.filter((r) => matches(r, filter)).map((r) =>
          flags.json ? JSON.stringify(r) : toLogfmt(r)
        );
        if (lines.length) console.log(lines.join("\n"));
      };
      let { records, last } = await readAudit(store.kv, start);
      print(records);
      if (!flags.follow) return;
      let running = true;
      const stop = () => running = false;
      Deno.addSignalListener("SIGINT", stop);
      Deno.addSignalListener("SIGTERM", stop);
      while (running) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        ({ records, last } = await readAudit(store.kv, start, last));
        print(records);
      }
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
    },
  },
];
