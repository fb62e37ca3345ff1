import { VeilError } from "../errors.ts";
import { isIpLiteral } from "./address.ts";

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** Lower-cases a host and drops a trailing dot and IPv6 brackets. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".")) h = h.slice(0, -1);
  return h;
}

function isHostname(host: string): boolean {
  return host.length <= 253 && host.split(".").every((label) => LABEL.test(label));
}

/** Checks a rule or secret host: exact name, IP literal, or `*.name` for subdomains. */
export function parseHostPattern(input: string): string {
  const host = normalizeHost(input);
  if (host.startsWith("*.")) {
    const base = host.slice(2);
    if (isHostname(base)) return host;
  } else if (isIpLiteral(host) || isHostname(host)) {
    return host;
  }
  throw new VeilError(
    `Invalid host pattern ${input}: use a name (api.example.com) or a wildcard (*.example.com)`,
  );
}

/** True when a (normalized) host matches a pattern; `*.example.com` matches subdomains at any depth, not example.com itself. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}
