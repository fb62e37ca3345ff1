import { allowCommands } from "./lib/cli/allow.ts";
import { auditCommands } from "./lib/cli/audit.ts";
import { caCommands } from "./lib/cli/ca.ts";
import { clientCommands } from "./lib/cli/client.ts";
import { oauthCommands } from "./lib/cli/oauth.ts";
import { runCli } from "./lib/cli/command.ts";
import { secretCommands } from "./lib/cli/secret.ts";
import { serveCommands } from "./lib/cli/serve.ts";
import { oneLine } from "./lib/errors.ts";

const commands = [
  ...clientCommands,
  ...secretCommands,
  ...allowCommands,
  ...caCommands,
  ...serveCommands,
  ...auditCommands,
  ...oauthCommands,
];

if (import.meta.main) {
  let code = 1;
  try {
    code = await runCli(Deno.args, commands);
  } catch (err) {
    // Unexpected: one line, and the stack only when asked for.
    console.error(`veil: internal error: ${oneLine(err)}`);
    if (Deno.env.get("VEIL_DEBUG")) console.error((err as Error).stack);
  }
  // Exit now: a command is done when it returns (a login may still be reading stdin).
  Deno.exit(code);
}
