import type { Dial } from "./destinations.ts";

/** An allowed CONNECT whose bytes are piped to an interception server. */
export interface Tunnel {
  client: string;
  host: string;
  port: number;
  remote: string;
  /** The address chosen and checked at CONNECT time; every request of the tunnel goes there. */
  dial: Dial;
}

/**
 * Tells an internal server's handler which tunnel (or, for plain requests, which remote
 * address) a connection belongs to, keyed by that server's port and the internal dial's
 * local port.
 */
export class TunnelRegistry {
  private tunnels = new Map<number, Tunnel>();
  private remotes = new Map<number, string>();

  add(serverPort: number, localPort: number, tunnel: Tunnel): void {
    this.tunnels.set(key(serverPort, localPort), tunnel);
  }

  addRemote(serverPort: number, localPort: number, remote: string): void {
    this.remotes.set(key(serverPort, localPort), remote);
  }

  remove(serverPort: number, localPort: number): void {
    this.tunnels.delete(key(serverPort, localPort));
    this.remotes.delete(key(serverPort, localPort));
  }

  get(serverPort: number, localPort: number): Tunnel | undefined {
    return this.tunnels.get(key(serverPort, localPort));
  }

  remote(serverPort: number, localPort: number): string {
    return this.remotes.get(key(serverPort, localPort)) ?? "";
  }
}

/** Both ports in one number (each is under 65,536). */
function key(serverPort: number, localPort: number): number {
  return serverPort * 65536 + localPort;
}
