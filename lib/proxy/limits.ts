/** Connection limits, on by default. */
export interface Limits {
  maxHeadBytes: number;
  headTimeoutMs: number;
  idleTimeoutMs: number;
  /** Open connections of one client (tunnels and plain connections). */
  maxPerClient: number;
  /** Connections that have not finished sending a head, from one address. */
  maxPendingPerAddress: number;
  maxConnections: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxHeadBytes: 64 * 1024,
  headTimeoutMs: 10_000,
  idleTimeoutMs: 5 * 60_000,
  maxPerClient: 256,
  maxPendingPerAddress: 256,
  maxConnections: 8192,
};

/** Counts open things by key, refusing past a maximum. */
export class Counter {
  private counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  take(key: string): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.max) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = (this.counts.get(key) ?? 1) - 1;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
  }
}
