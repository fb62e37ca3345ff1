// An idle tunnel waits on a small buffer; one that moves data reads a TLS record at a time.
const SMALL = 2 * 1024;
const LARGE = 64 * 1024;

export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/**
 * Pipes two connections both ways until both directions end, or nothing moves for
 * idleMs; then closes both.
 */
export async function pipeBoth(a: Deno.Conn, b: Deno.Conn, first?: Uint8Array, idleMs = 0): Promise<void> {
  let last = Date.now();
  const copy = async (src: Deno.Conn, dst: Deno.Conn) => {
    let buf = new Uint8Array(SMALL);
    try {
      while (true) {
        const n = await src.read(buf);
        if (n === null) break;
        last = Date.now();
        await writeAll(dst, buf.subarray(0, n));
        if (n === buf.length && buf.length < LARGE) buf = new Uint8Array(LARGE);
      }
      await dst.closeWrite().catch(() => {});
    } catch {
      closeQuietly(src);
      closeQuietly(dst);
    }
  };
  const idle = idleMs > 0
    ? setInterval(() => {
      if (Date.now() - last < idleMs) return;
      closeQuietly(a);
      closeQuietly(b);
    }, Math.min(idleMs / 2, 30_000))
    : undefined;
  try {
    if (first?.length) await writeAll(b, first);
    await Promise.all([copy(a, b), copy(b, a)]);
  } catch {
    // a write of the first bytes failed: the peer is gone
  } finally {
    clearInterval(idle);
    closeQuietly(a);
    closeQuietly(b);
  }
}
