// A plain CONNECT relay for the benchmark's baseline: every tunnel goes to the upstream,
// bytes untouched (no interception), so Go's TLS client in hey can reach it by name.
// Usage: relay.ts UPSTREAM_PORT  (prints its port)
// It copies with read/write loops: ReadableStream.pipeTo costs about three times the CPU and
// made the relay, not the upstream, the bottleneck of the "direct" figures.
const upstream = Number(Deno.args[0]);
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log((listener.addr as Deno.NetAddr).port);
const established = new TextEncoder().encode("HTTP/1.1 200 Connection Established\r\n\r\n");

async function copy(src: Deno.Conn, dst: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(16 * 1024);
  try {
    while (true) {
      const n = await src.read(buf);
      if (n === null) break;
      for (let off = 0; off < n;) off += await dst.write(buf.subarray(off, n));
    }
    await dst.closeWrite();
  } catch {
    try {
      src.close();
    } catch { /* closed */ }
  }
}

for await (const conn of listener) {
  (async () => {
    const buf = new Uint8Array(4096);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) return conn.close();
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    const out = await Deno.connect({ hostname: "127.0.0.1", port: upstream });
    conn.setNoDelay(true);
    out.setNoDelay(true);
    await conn.write(established);
    await Promise.all([copy(conn, out), copy(out, conn)]);
    for (const c of [conn, out]) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  })().catch(() => {});
}
