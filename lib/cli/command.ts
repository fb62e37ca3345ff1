import { parseArgs } from "node:util";
import { oneLine, UsageError, VeilError } from "../errors.ts";

export interface OptionSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  /** Placeholder shown in help, like HOST or FILE. */
  value?: string;
  help: string;
}

export type Flags = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  args: string[];
  flags: Flags;
}

export interface Command {
  /** Words after `veil`, like `client create`. */
  name: string;
  summary: string;
  /** Positional argument names; a trailing `?` marks one as optional. */
  args?: string[];
  options?: Record<string, OptionSpec>;
  run(ctx: CommandContext): Promise<number | void>;
}

const COMMON: Record<string, OptionSpec> = {
  state: { type: "string", value: "DIR", help: "state folder (default $VEIL_STATE or ~/.local/share/veil)" },
  help: { type: "boolean", short: "h", help: "show this help" },
};

function optionsOf(cmd: Command): Record<string, OptionSpec> {
  return { ...cmd.options, ...COMMON };
}

export function commandHelp(cmd: Command): string {
  const args = (cmd.args ?? []).map((a) => a.endsWith("?") ? `[${a.slice(0, -1)}]` : a);
  const lines = [
    `Usage: veil ${cmd.name}${args.length ? " " + args.join(" ") : ""} [options]`,
    "",
    cmd.summary,
    "",
    "Options:",
  ];
  for (const [name, spec] of Object.entries(optionsOf(cmd))) {
    const flag = `--${name}${spec.value ? " " + spec.value : ""}${spec.multiple ? " (repeatable)" : ""}`;
    lines.push(`  ${flag.padEnd(34)} ${spec.help}`);
  }
  return lines.join("\n");
}

function groupHelp(prefix: string, commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const title = prefix ? `veil ${prefix}` : "veil";
  return [
    `Usage: ${title} <command> [options]`,
    "",
    prefix
      ? "Commands:"
      : "veil: an egress proxy that audits, allows and injects secrets for sandboxes.\n\nCommands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    `Run 'veil <command> --help' for a command's options.`,
  ].join("\n");
}

function parse(cmd: Command, argv: string[]): CommandContext | "help" {
  const specs = optionsOf(cmd);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(specs).map((
          [k, s],
        ) => [k, {
          type: s.type,
          ...(s.multiple ? { multiple: true } : {}),
          ...(s.short ? { short: s.short } : {}),
        }]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`${oneLine(err)} (see 'veil ${cmd.name} --help')`);
  }
  if (parsed.values.help) return "help";
  const wanted = cmd.args ?? [];
  const required = wanted.filter((a) => !a.endsWith("?")).length;
  if (parsed.positionals.length < required) {
    const missing = wanted[parsed.positionals.length];
    throw new UsageError(`Missing argument ${missing} (see 'veil ${cmd.name} --help')`);
  }
  if (parsed.positionals.length > wanted.length) {
    throw new UsageError(
      `Unexpected argument ${parsed.positionals[wanted.length]} (see 'veil ${cmd.name} --help')`,
    );
  }
  return { args: parsed.positionals, flags: parsed.values as Flags };
}

/** Finds the command for argv, parses it and runs it. Returns the exit code. */
export async function runCli(argv: string[], commands: Command[]): Promise<number> {
  try {
    const words: string[] = [];
    for (const a of argv) {
      if (a.startsWith("-")) break;
      words.push(a);
    }
    let cmd: Command | undefined;
    for (const c of commands) {
      const parts = c.name.split(" ");
      if (parts.every((p, i) => words[i] === p) && (!cmd || parts.length > cmd.name.split(" ").length)) {
        cmd = c;
      }
    }
    const asksHelp = argv.includes("--help") || argv.includes("-h");
    if (!cmd) {
      const prefix = commands.some((c) => c.name.split(" ")[0] === words[0]) ? words[0] : "";
      const group = commands.filter((c) => !prefix || c.name.split(" ")[0] === prefix);
      if (asksHelp && words.length <= 1) {
        console.log(groupHelp(prefix, group));
        return 0;
      }
      if (argv.length === 0 || (prefix && words.length === 1)) {
        console.error(groupHelp(prefix, group));
        return 2;
      }
      const what = prefix ? `${prefix} ${words[1]}` : argv[0];
      throw new UsageError(`Unknown command ${what} (see 'veil ${prefix ? prefix + " " : ""}--help')`);
    }
    const rest = argv.slice(cmd.name.split(" ").length);
    const ctx = parse(cmd, rest);
    if (ctx === "help") {
      console.log(commandHelp(cmd));
      return 0;
    }
    return (await cmd.run(ctx)) ?? 0;
  } catch (err) {
    if (err instanceof VeilError) {
      console.error(`veil: ${oneLine(err)}`);
      return err.exitCode;
    }
    throw err;
  }
}

export function str(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === "string" ? v : undefined;
}

export function list(flags: Flags, name: string): string[] {
  const v = flags[name];
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}
