const up = Number(Deno.args[0]);
const size = Number(Deno.args[1]);
const tcp = await Deno.connect({ hostname: "127.0.0.1", port: up });
tcp.setNoDelay(true);
const tls = await Deno.startTls(tcp, {
  hostname: "bench.example.com",
  caCerts: [Deno.readTextFileSync("/tmp/exp2/ca.pem")],
  alpnProtocols: ["http/1.1"],
});
await tls.write(
  new TextEncoder().encode(
    `GET /download?bytes=${
      256 * 1024 * 1024
    } HTTP/1.1\r\nhost: bench.example.com\r\nconnection: close\r\n\r\n`,
  ),
);
let total = 0, reads = 0;
const hist: Record<number, number> = {};
const t = performance.now();
const reuse = new Uint8Array(size);
while (true) {
  const buf = Deno.args[2] === "reuse" ? reuse : new Uint8Array(size);
  const n = await tls.read(buf);
  if (n === null) break;
  total += n;
  reads++;
  const k = Math.ceil(n / 4096) * 4;
  hist[k] = (hist[k] ?? 0) + 1;
}
console.log(
  size,
  Deno.args[2] ?? "",
  "MB/s",
  (total / 1e6 / ((performance.now() - t) / 1000)).toFixed(0),
  "reads",
  reads,
  JSON.stringify(Object.entries(hist).sort((a, b) => b[1] - a[1]).slice(0, 4)),
);
