import type { SecretRecord } from "../state/store.ts";
import type { Adopted, Credential, CredentialEnv } from "./credential.ts";
import { bearerHeaders, type GrantMaterial, type GrantRefresh, grantRefresher, hasRefresh } from "./grant.ts";
import { OAuthCredential } from "./oauth.ts";

/** What a bearer-token OAuth type with a public client stores: tokens, endpoint, client id. */
export interface PublicClientMaterial extends GrantMaterial {
  clientId: string;
}

export function adoptPublicClient(material: PublicClientMaterial): Promise<Adopted> {
  return Promise.resolve({
    material,
    info: { client_id: material.clientId, token_endpoint: material.tokenEndpoint },
  });
}

/** A credential that injects `Authorization: Bearer` and refreshes with the refresh_token grant. */
export function publicClientCredential(
  record: SecretRecord,
  material: unknown,
  env: CredentialEnv,
  grant: Omit<GrantRefresh, "tokenEndpoint" | "clientId"> = {},
): Credential {
  const m = material as PublicClientMaterial;
  return new OAuthCredential(record, m.state, {
    canRefresh: hasRefresh,
    refresh: grantRefresher(env.fetch, { ...grant, tokenEndpoint: m.tokenEndpoint, clientId: m.clientId }),
    headers: bearerHeaders,
  }, env);
}
