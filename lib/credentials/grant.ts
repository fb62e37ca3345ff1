import * as oauth from "oauth4webapi";
import { oneLine } from "../errors.ts";
import { isLoopbackHttp, type OutboundFetch } from "../proxy/outbound.ts";
import { RefreshError } from "./oauth.ts";
import type { TokenState } from "./token_state.ts";
import type { RequestHeaders } from "./credential.ts";

/** Ways a provider departs from RFC 6749 that the token endpoint call adapts to. */
export interface Quirks {
  /** Send the grant as a JSON body instead of a form (Anthropic). */
  jsonBody?: boolean;
  /** Errors come back as HTTP 200 with an `error` field (GitHub). */
  errorsWith200?: boolean;
  /** Keep an ID token aside unvalidated (refreshes: veil never acts on its claims). */
  stripIdToken?: boolean;
}

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  expires_in?: number;
  id_token?: string;
  [key: string]: unknown;
}

/**
 * A customFetch for oauth4webapi that dials like veil, rewrites the request and the
 * response for the provider's quirks, and records the HTTP status it saw.
 */
export function providerFetch(fetchFn: OutboundFetch, quirks: Quirks, seen: { status?: number } = {}) {
  return async (url: string, init: RequestInit): Promise<Response> => {
    let body = init.body;
    const headers = new Headers(init.headers);
    if (quirks.jsonBody && body instanceof URLSearchParams) {
      body = JSON.stringify(Object.fromEntries(body));
      headers.set("content-type", "application/json");
    }
    const res = await fetchFn(url, { ...init, headers, body });
    seen.status = res.status;
    const type = res.headers.get("content-type") ?? "";
    if (!type.includes("json")) return res;
    const json = await res.json();
    if (quirks.errorsWith200 && res.status === 200 && typeof json.error === "string") {
      seen.status = 400;
      return Response.json(json, { status: 400 });
    }
    // oauth4webapi insists on token_type; some providers leave it out.
    if (res.status === 200 && typeof json.access_token === "string" && json.token_type === undefined) {
      json.token_type = "bearer";
    }
    if (quirks.stripIdToken && res.status === 200 && typeof json.id_token === "string") {
      json.veil_id_token = json.id_token;
      delete json.id_token;
    }
    return Response.json(json, { status: res.status, headers: res.headers });
  };
}

export function authServer(tokenEndpoint: string): oauth.AuthorizationServer {
  return { issuer: new URL(tokenEndpoint).origin, token_endpoint: tokenEndpoint };
}

export function requestOptions(endpoint: string, customFetch: ReturnType<typeof providerFetch>) {
  return {
    [oauth.customFetch]: customFetch,
    [oauth.allowInsecureRequests]: isLoopbackHttp(new URL(endpoint)),
    signal: AbortSignal.timeout(30_000),
  };
}

/** The refresh_token grant, with a public client (client_id only). */
export async function refreshGrant(
  fetchFn: OutboundFetch,
  tokenEndpoint: string,
  clientId: string,
  refreshToken: string,
  quirks: Quirks = {},
  extra: Record<string, string> = {},
): Promise<TokenResponse> {
  const seen: { status?: number } = {};
  const as = authServer(tokenEndpoint);
  const client: oauth.Client = { client_id: clientId };
  const customFetch = providerFetch(fetchFn, { ...quirks, stripIdToken: true }, seen);
  const options = { ...requestOptions(tokenEndpoint, customFetch), additionalParameters: extra };
  try {
    const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, options);
    const { veil_id_token, ...result } = await oauth.processRefreshTokenResponse(as, client, response);
    return {
      ...result,
      id_token: typeof veil_id_token === "string" ? veil_id_token : undefined,
    } as TokenResponse;
  } catch (err) {
    throw classifyGrantError(err, seen.status);
  }
}

/** 4xx answers (invalid_grant, reused tokens) need a new login; network errors, 429 and 5xx are retried. */
export function classifyGrantError(err: unknown, status: number | undefined): RefreshError {
  if (err instanceof RefreshError) return err;
  const code = err instanceof oauth.ResponseBodyError ? `${err.error}: ` : "";
  const message = `${code}${oneLine(err)}${status ? ` (HTTP ${status})` : ""}`;
  const permanent = status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 408;
  return new RefreshError(permanent, message);
}

/** Expiry in epoch ms from an expires_in, with a default lifetime when it is missing. */
export function expiresFrom(
  obtainedAt: number,
  expiresIn: number | undefined,
  defaultSeconds?: number,
): number | undefined {
  const seconds = expiresIn ?? defaultSeconds;
  return seconds === undefined ? undefined : obtainedAt + seconds * 1000;
}

/** What an OAuth type refreshed at a token endpoint stores, sealed: its tokens and where to refresh them. */
export interface GrantMaterial {
  state: TokenState;
  tokenEndpoint: string;
}

export interface GrantRefresh {
  tokenEndpoint: string;
  clientId: string;
  quirks?: Quirks;
  params?: Record<string, string>;
  /** Lifetime to assume when the answer has no expires_in. */
  defaultLifetimeS?: number;
  /** Expiry from the answer, when the provider says it some other way (a JWT's exp). */
  expiresAt?: (response: TokenResponse, now: number) => number | undefined;
  /** Provider extras to keep beside the tokens. */
  extra?: (previous: TokenState, response: TokenResponse) => Record<string, string> | undefined;
}

/** A refresh through the refresh_token grant: keeps the old refresh token when the provider does not rotate it. */
export function grantRefresher(
  fetchFn: OutboundFetch,
  g: GrantRefresh,
): (s: TokenState) => Promise<TokenState> {
  return async (s) => {
    const now = Date.now();
    const r = await refreshGrant(fetchFn, g.tokenEndpoint, g.clientId, s.refresh!, g.quirks, g.params);
    return {
      access: r.access_token,
      refresh: r.refresh_token ?? s.refresh,
      obtainedAt: now,
      expiresAt: g.expiresAt?.(r, now) ?? expiresFrom(now, r.expires_in, g.defaultLifetimeS),
      extra: g.extra?.(s, r),
    };
  };
}

/** `Authorization: Bearer <access>`, what most providers take. */
export function bearerHeaders(s: TokenState, headers: RequestHeaders): void {
  headers.set("authorization", `Bearer ${s.access}`);
}

export const hasRefresh = (s: TokenState): boolean => Boolean(s.refresh);
