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
  const host = normalizeHost(match[1]);
  if (!host) return null;
  return { host, port };
}
