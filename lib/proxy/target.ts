import { normalizeHost } from "../policy/host.ts";

export interface HostPort {
  host: string;
  port: number;
}

/** Parses a CONNECT authority `host:port` or `[v6]:port`; null when malformed. */
export function parseAuthority(text: string): HostPort | null {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\[\]\s/@]+):(\d{1,5})$/.exec(text);
  if (!match) return null;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return null;
  let host = normalizeHost(match[1]);
  if (!host) return null;
  if (!host.includes(":")) {
    // The URL host parser turns 2130706433, 0x7f.1 and 127.1 into 127.0.0.1, as resolvers would.
    try {
      host = new URL(`http://${host}/`).hostname;
    } catch {
      return null;
    }
  }
  return { host, port };
}

/** HOST:PORT, with IPv6 addresses in brackets. */
export function formatAddr(addr: Deno.NetAddr): string {
  return addr.hostname.includes(":") ? `[${addr.hostname}]:${addr.port}` : `${addr.hostname}:${addr.port}`;
}
