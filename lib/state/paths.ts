import { VeilError } from "../errors.ts";

/** The state folder: --state, else $VEIL_STATE, else $XDG_DATA_HOME/veil, else ~/.local/share/veil. */
export function stateDir(flag?: string): string {
  if (flag) return flag;
  const fromEnv = Deno.env.get("VEIL_STATE");
  if (fromEnv) return fromEnv;
  const xdg = Deno.env.get("XDG_DATA_HOME");
  if (xdg) return `${xdg}/veil`;
  const home = Deno.env.get("HOME");
  if (!home) throw new VeilError("Cannot find a state folder: set --state, VEIL_STATE or HOME");
  return `${home}/.local/share/veil`;
}

/** Creates the folder (0700) if it is missing; safe when two processes race. */
export async function ensureStateDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new VeilError(`Cannot create state folder ${dir}: ${(err as Error).message}`);
  }
  const info = await Deno.stat(dir);
  if (!info.isDirectory) throw new VeilError(`State path ${dir} is not a folder`);
}
