import { UsageError } from "../errors.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Client and secret names: letters, digits, dot, dash, underscore; up to 64. */
export function checkName(kind: string, name: string): string {
  if (!NAME.test(name)) {
    throw new UsageError(
      `Invalid ${kind} name ${JSON.stringify(name)}: use letters, digits, '.', '-' or '_' (up to 64)`,
    );
  }
  return name;
}
