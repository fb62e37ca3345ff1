// Opens COUNT connections to veil, sends half a request head on each and holds them for
// HOLD_MS; prints how many connected and how many veil closed at once. Run as its own process.
const [port, count, holdMs] = Deno.args.map(Number);
const half = new TextEncoder().encode("CONNECT llama.example.com:443 HTTP/1.1\r\nHo");
let connected = 0;
let closedEarly = 0;
const conns: Deno.Conn[] = [];
const deadline = Date.now() + holdMs;
const open = async () => {
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    connected++;
    conns.push(c);
    await c.write(half);
    const n = await c.read(new Uint8Array(16));
    if (n === null && Date.now() < deadline) closedEarly++;
  } catch {
    if (Date.now() < deadline) closedEarly++;
  }
};
const pending: Promise<void>[] = [];
for (let i = 0; i < count; i += 500) {
  for (let j = i; j < Math.min(count, i + 500); j++) pending.push(open());
  await new Promise((r) => setTimeout(r, 20));
}
await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())));
console.log(JSON.stringify({ connected, closedEarly }));
Deno.exit(0);
