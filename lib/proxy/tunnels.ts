/** An allowed CONNECT whose bytes are piped to an interception server. */
import type { Dial } from "./destinations.ts";

export interface Tunnel {
  client: string;
  host: string;
  port: number;
  remote: string;
  /** The address chosen and checked at CONNECT time; every request of the tunnel goes there. */
  dial: Dial;
}

/**
 * Tells an interception server's handler which tunnel a connection belongs to,
 * keyed by that server's port and the internal dial's local port.
 */
export class TunnelRegistry {
  private byKey = new Map<string, Tunnel>();

  add(serverPort: number, localPort: number, tunnel: Tunnel): void {
    this.byKey.set(`${serverPort}:${localPort}`, tunnel);
  }

  remove(serverPort: number, localPort: number): void {
    this.byKey.delete(`${serverPort}:${localPort}`);
  }

  get(serverPort: number, localPort: number): Tunnel | undefined {
    return this.byKey.get(`${serverPort}:${localPort}`);
  }

  get size(): number {
    return this.byKey.size;
  }
}
