const BUFFER = 64 * 1024;

async function copy(src: Deno.Conn, dst: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(BUFFER);
  try {
    while (true) {
      const n = await src.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await dst.write(buf.subarray(off, n));
    }
    await dst.closeWrite().catch(() => {});
  } catch {
    closeQuietly(src);
    closeQuietly(dst);
  }
}

export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** Pipes two connections both ways until both directions end; then closes both. */
export async function pipeBoth(a: Deno.Conn, b: Deno.Conn, first?: Uint8Array): Promise<void> {
  try {
    if (first?.length) {
      let off = 0;
      while (off < first.length) off += await b.write(first.subarray(off));
    }
    await Promise.all([copy(a, b), copy(b, a)]);
  } catch {
    // a write of the first bytes failed: the peer is gone
  } finally {
    closeQuietly(a);
    closeQuietly(b);
  }
}

export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}
