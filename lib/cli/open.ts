import { stateDir } from "../state/paths.ts";
import { Store } from "../state/store.ts";
import { type Flags, str } from "./command.ts";

/** Opens the state chosen by --state / $VEIL_STATE / the default folder. */
export async function openStore(flags: Flags): Promise<Store> {
  return await Store.open(stateDir(str(flags, "state")));
}
