// A plain CONNECT relay for the benchmark's baseline: every tunnel goes to the upstream,
// bytes untouched (no interception), so Go's TLS client in hey can reach it by name.
// Usage: relay.ts UPSTREAM_PORT  (prints its port)
const upstream = Number(Deno.args[0]);
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log((listener.addr as Deno.NetAddr).port);
const established = new TextEncoder().encode("HTTP/1.1 200 Connection Established\r\n\r\n");
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
    await Promise.allSettled([conn.readable.pipeTo(out.writable), out.readable.pipeTo(conn.writable)]);
  })().catch(() => {});
}
