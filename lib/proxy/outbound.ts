import { VeilError } from "../errors.ts";

/** fetch for veil's own calls (refreshes, exchanges, logins). */
export type OutboundFetch = (url: string, init?: RequestInit) => Promise<Response>;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === "http:" && LOOPBACK.test(url.hostname);
}

/**
 * Sends veil's own requests through the same dialer as proxied traffic
 * (--connect-to, --upstream-ca, verified TLS). Plain http:// only to loopback.
 */
export function outboundFetch(client: Deno.HttpClient): OutboundFetch {
  return (input, init) => {
    const url = new URL(input);
    if (url.protocol === "https:") return fetch(url, { ...init, client, redirect: "manual" });
    if (isLoopbackHttp(url)) return fetch(url, { ...init, redirect: "manual" });
    return Promise.reject(
      new VeilError(`Refusing plain ${url.protocol}// to ${url.host}: only loopback may be http`),
    );
  };
}
