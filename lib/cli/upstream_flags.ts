import { UsageError, VeilError } from "../errors.ts";
import { normalizeHost } from "../policy/host.ts";
import type { ConnectTo } from "../proxy/upstream.ts";
import { type Flags, list, type OptionSpec } from "./command.ts";

/** Flags for how veil reaches upstreams; shared by serve and the login helpers. */
export const upstreamFlags: Record<string, OptionSpec> = {
  "upstream-ca": {
    type: "string",
    multiple: true,
    value: "FILE",
    help: "extra trusted root (PEM) for upstream TLS",
  },
  "connect-to": {
    type: "string",
    multiple: true,
    value: "H:P:ADDR:P",
    help: "dial ADDR:P for H:P; TLS still verified for H",
  },
};

export async function upstreamSettings(
  flags: Flags,
): Promise<{ connectTo: Map<string, ConnectTo>; upstreamCaPems: string[] }> {
  return {
    connectTo: new Map(list(flags, "connect-to").map(parseConnectTo)),
    upstreamCaPems: await Promise.all(list(flags, "upstream-ca").map(readCa)),
  };
}

/** curl's --connect-to HOST:PORT:ADDR:PORT. */
export function parseConnectTo(text: string): [string, ConnectTo] {
  const m = /^([^:\[\]\s]+|\[[0-9a-fA-F:.]+\]):(\d{1,5}):([^:\[\]\s]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(
    text,
  );
  if (!m || Number(m[2]) > 65535 || Number(m[4]) > 65535) {
    throw new UsageError(`Invalid --connect-to ${text}: use HOST:PORT:ADDR:PORT`);
  }
  return [`${normalizeHost(m[1])}:${Number(m[2])}`, { host: normalizeHost(m[3]), port: Number(m[4]) }];
}

async function readCa(path: string): Promise<string> {
  try {
    const pem = await Deno.readTextFile(path);
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new Error("no PEM certificate in it");
    return pem;
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).message;
    throw new VeilError(`Cannot read --upstream-ca ${path}: ${why}`);
  }
}
