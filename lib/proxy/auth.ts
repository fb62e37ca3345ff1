/** The token from `Proxy-Authorization: Basic base64(user:TOKEN)`; the user name is not checked. */
export function proxyToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match) return undefined;
  let decoded: string;
  try {
    decoded = atob(match[1]);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  const token = decoded.slice(colon + 1);
  return token.length ? token : undefined;
}
