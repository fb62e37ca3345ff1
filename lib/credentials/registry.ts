import { UsageError } from "../errors.ts";
import type { CredentialType } from "./credential.ts";
import { claude } from "./claude.ts";
import { codex } from "./codex.ts";
import { copilot } from "./copilot.ts";
import { githubApp } from "./github_app.ts";
import { githubAppUser } from "./github_app_user.ts";
import { basic, bearer } from "./static.ts";
import { xai } from "./xai.ts";

const TYPES: CredentialType[] = [bearer, basic, claude, codex, copilot, xai, githubAppUser, githubApp];

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
