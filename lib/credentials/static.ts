import { VeilError } from "../errors.ts";
import type { SecretRecord } from "../state/store.ts";
import type { Adopted, Credential, CredentialType } from "./credential.ts";

function staticCredential(record: SecretRecord, header: string, secrets: string[]): Credential {
  return {
    name: record.name,
    type: record.type,
    host: record.host,
    apply(headers) {
      headers.set("authorization", header);
      return Promise.resolve();
    },
    sensitiveValues: () => secrets,
  };
}

/** `--type bearer`: Authorization: Bearer <value>. */
export const bearer: CredentialType = {
  type: "bearer",
  adopt(value): Promise<Adopted> {
    if (!value) throw new VeilError("Bearer value is empty");
    if (/[\r\n]/.test(value)) throw new VeilError("Bearer value must be one line");
    return Promise.resolve({ material: { value }, info: {} });
  },
  load(record, material) {
    const { value } = material as { value: string };
    return staticCredential(record, `Bearer ${value}`, [value]);
  },
};

/** `--type basic`: a literal user:pass sent as Authorization: Basic base64(user:pass). */
export const basic: CredentialType = {
  type: "basic",
  adopt(value): Promise<Adopted> {
    if (!value.includes(":")) throw new VeilError("Basic value must be user:pass");
    if (/[\r\n]/.test(value)) throw new VeilError("Basic value must be one line");
    return Promise.resolve({ material: { value }, info: { user: value.slice(0, value.indexOf(":")) } });
  },
  load(record, material) {
    const { value } = material as { value: string };
    const encoded = btoa(String.fromCharCode(...new TextEncoder().encode(value)));
    return staticCredential(record, `Basic ${encoded}`, [
      value,
      encoded,
      value.slice(value.indexOf(":") + 1),
    ]);
  },
};
