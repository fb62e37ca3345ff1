import { VeilError } from "../errors.ts";

/** Compiles a path glob: `*` matches within one segment, `**` across segments. */
export function compilePathGlob(glob: string): RegExp {
  if (!glob.startsWith("/")) throw new VeilError(`Invalid path ${glob}: it must start with /`);
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      source += ".*";
      i++;
    } else if (c === "*") {
      source += "[^/]*";
    } else {
      source += c.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}
