const WINDOW_MS = 60_000;
const FREE_FAILURES = 5;
const MAX_DELAY_MS = 5_000;
const MAX_TRACKED = 10_000;

/** Slows down failed proxy authentications from one address after a few in a minute. */
export class AuthThrottle {
  private failures = new Map<string, { count: number; since: number }>();

  /** Records a failure and returns how long to wait before answering it. */
  fail(address: string): number {
    const now = Date.now();
    let entry = this.failures.get(address);
    if (!entry || now - entry.since > WINDOW_MS) {
      entry = { count: 0, since: now };
      if (this.failures.size >= MAX_TRACKED) this.failures.clear();
      this.failures.set(address, entry);
    }
    entry.count++;
    if (entry.count <= FREE_FAILURES) return 0;
    return Math.min(MAX_DELAY_MS, 250 * 2 ** (entry.count - FREE_FAILURES - 1));
  }
}

/** The address part of HOST:PORT or [V6]:PORT. */
export function addressOf(remote: string): string {
  return remote.startsWith("[")
    ? remote.slice(1, remote.indexOf("]"))
    : remote.slice(0, remote.lastIndexOf(":"));
}
