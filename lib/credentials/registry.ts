import { UsageError } from "../errors.ts";
import type { CredentialType } from "./credential.ts";
import { basic, bearer } from "./static.ts";

const TYPES: CredentialType[] = [bearer, basic];

export function credentialTypeNames(): string[] {
  return TYPES.map((t) => t.type);
}

export function credentialType(name: string): CredentialType {
  const found = TYPES.find((t) => t.type === name);
  if (!found) {
    throw new UsageError(`Unknown secret type ${name}: use one of ${credentialTypeNames().join(", ")}`);
  }
  return found;
}
