import { loadCa } from "../tls/ca.ts";
import type { Command } from "./command.ts";
import { openStore } from "./open.ts";

export const caCommands: Command[] = [
  {
    name: "ca cert",
    summary: "Print veil's CA certificate (PEM) for a VM's trust store; creates the CA on first use",
    async run({ flags }) {
      using store = await openStore(flags);
      const ca = await loadCa(store);
      await Deno.stdout.write(new TextEncoder().encode(ca.certPem.trimEnd() + "\n"));
    },
  },
];
