import { lookup } from "node:dns/promises";
import { canonicalAddress, isIpLiteral, isPrivateAddress } from "../policy/address.ts";
import { oneLine } from "../errors.ts";

/** Where veil actually connects for a HOST:PORT, chosen and checked once. */
export interface Dial {
  host: string;
  port: number;
  /** Set by the operator with --connect-to, so not checked. */
  trusted: boolean;
}

export class DestinationError extends Error {
  constructor(readonly reason: "private-destination" | "dns-failed", message: string) {
    super(message);
  }
}

export interface DestinationOptions {
  connectTo: Map<string, { host: string; port: number }>;
  /** --dns ADDR:PORT; the system resolver (getaddrinfo) when absent. */
  dns?: { ipAddr: string; port: number };
  /** veil's own addresses, refused like private ones... */
  own: OwnAddresses;
}

const DNS_TIMEOUT_MS = 5000;

/**
 * Resolves names itself and hands out the exact address it checked, so a second lookup
 * (DNS rebinding) cannot swap it. Loopback, private, link-local, CGNAT, multicast and
 * veil's own addresses are refused unless a rule allows private ones; a name whose answers
 * mix public and private addresses is refused too.
 */
export class Destinations {
  constructor(private readonly o: DestinationOptions) {}

  async pick(host: string, port: number, allowPrivate = false): Promise<Dial> {
    const mapped = this.o.connectTo.get(`${host}:${port}`);
    if (mapped) return { ...mapped, trusted: true };
    const addresses = isIpLiteral(host) ? [host] : await this.resolve(host);
    if (addresses.length === 0) throw new DestinationError("dns-failed", `${host} has no address`);
    for (const address of addresses) {
      const canonical = canonicalAddress(address);
      if (this.o.own.sockets.has(`${canonical}:${port}`)) {
        throw new DestinationError("private-destination", `${host}:${port} is veil itself`);
      }
      if (!allowPrivate && (isPrivateAddress(address) || this.o.own.hosts.has(canonical))) {
        throw new DestinationError(
          "private-destination",
          `${host} resolves to a private address (${address})`,
        );
      }
    }
    return { host: addresses[0].replace(/^\[|\]$/g, ""), port, trusted: false };
  }

  private async resolve(host: string): Promise<string[]> {
    const signal = AbortSignal.timeout(DNS_TIMEOUT_MS);
    try {
      if (this.o.dns) {
        const nameServer = this.o.dns;
        const answers = await Promise.allSettled([
          Deno.resolveDns(host, "A", { nameServer, signal }),
          Deno.resolveDns(host, "AAAA", { nameServer, signal }),
        ]);
        const found = answers.flatMap((a) => a.status === "fulfilled" ? a.value : []);
        if (found.length === 0 && answers.every((a) => a.status === "rejected")) {
          throw (answers[0] as PromiseRejectedResult).reason;
        }
        return [...new Set(found)];
      }
      const found = await Promise.race([
        lookup(host, { all: true, verbatim: true }),
        new Promise<never>((_, reject) =>
          signal.addEventListener("abort", () => reject(new Error("DNS timed out")))
        ),
      ]);
      return [...new Set(found.map((f) => f.address))];
    } catch (err) {
      throw new DestinationError("dns-failed", `cannot resolve ${host}: ${oneLine(err)}`);
    }
  }
}

export interface OwnAddresses {
  /** ...and these ADDR:PORT (veil's listeners) are refused even where private ones are allowed. */
  sockets: Set<string>;
  hosts: Set<string>;
}

/** veil's own addresses: the listen addresses, or every interface's when listening on all. */
export function ownAddresses(listeners: { hostname: string; port: number }[]): OwnAddresses {
  const own: OwnAddresses = { sockets: new Set(), hosts: new Set() };
  for (const { hostname, port } of listeners) {
    const hosts = hostname === "0.0.0.0" || hostname === "::"
      ? Deno.networkInterfaces().map((nic) => nic.address)
      : isIpLiteral(hostname)
      ? [hostname]
      : [];
    for (const h of hosts) {
      own.hosts.add(canonicalAddress(h));
      own.sockets.add(`${canonicalAddress(h)}:${port}`);
    }
  }
  return own;
}
