// The benchmark's load generator, in its own process. Prints one JSON line.
// Usage: load.ts MODE JSON-OPTIONS
//   rate      {url, proxy?, ca, clients, ms, body}     keep-alive requests, each client its own connection
//   newconn   {url, proxy?, ca, clients, ms}           a new connection (CONNECT and TLS) per request
//   once      {url, proxy?, ca}                        one request on a new connection, timed
//   download  {url, proxy?, ca}                        MB/s of one response
//   upload    {url, proxy?, ca, bytes}                 MB/s of one request body
//   sse       {url, proxy?, ca, n}                     time to the first byte of an event stream
//   tunnels   {proxyPort, token, host, count, holdMs}   opens idle tunnels and holds them
interface Options {
  url: string;
  proxy?: { url: string; basicAuth?: { username: string; password: string } };
  ca: string;
  clients: number;
  ms: number;
  body: string;
  bytes: number;
  n: number;
  proxyPort: number;
  token: string;
  host: string;
  count: number;
  holdMs: number;
}

const [mode, json] = Deno.args;
const o = JSON.parse(json) as Options;
const caCerts = o.ca ? [await Deno.readTextFile(o.ca)] : [];
const client = () => Deno.createHttpClient({ caCerts, proxy: o.proxy, http2: false, poolMaxIdlePerHost: 1 });

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN;
}

async function timedLoop(
  next: () => Promise<void>,
): Promise<{ rps: number; p50: number; p99: number; requests: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + o.ms;
  const started = performance.now();
  await Promise.all(Array.from({ length: o.clients }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      try {
        await next();
        latencies.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    requests: latencies.length,
    errors,
  };
}

let result: unknown;
if (mode === "rate") {
  const clients = Array.from({ length: o.clients }, client);
  // Connections are made before the clock starts, a few at a time: when dozens of Deno fetch clients
  // connect through a proxy at once, about half of them stall 5 s (a plain relay too, curl never).
  for (let k = 0; k < clients.length; k += 8) {
    await Promise.all(
      clients.slice(k, k + 8).map(async (c) => {
        const res = await fetch(o.url, { method: "POST", body: o.body, client: c });
        await res.arrayBuffer();
      }),
    );
  }
  let i = 0;
  result = await timedLoop(async () => {
    const c = clients[i++ % clients.length];
    const res = await fetch(o.url, { method: "POST", body: o.body, client: c });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(String(res.status));
  });
  clients.forEach((c) => c.close());
} else if (mode === "newconn") {
  result = await timedLoop(async () => {
    const c = client();
    try {
      const res = await fetch(o.url, { client: c, method: "POST", body: "{}" });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(String(res.status));
    } finally {
      c.close();
    }
  });
} else if (mode === "once") {
  const c = client();
  const t = performance.now();
  const res = await fetch(o.url, { client: c, method: "POST", body: "{}" });
  await res.arrayBuffer();
  result = { ms: performance.now() - t, status: res.status };
  c.close();
} else if (mode === "download") {
  const c = client();
  const t = performance.now();
  const res = await fetch(o.url, { client: c });
  let n = 0;
  for await (const chunk of res.body!) n += chunk.length;
  result = { mbps: n / 1e6 / ((performance.now() - t) / 1000), bytes: n };
  c.close();
} else if (mode === "upload") {
  const c = client();
  const chunk = new Uint8Array(256 * 1024);
  let left = o.bytes;
  const body = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (left <= 0) return ctrl.close();
      ctrl.enqueue(chunk.slice(0, Math.min(left, chunk.length)));
      left -= chunk.length;
    },
  });
  const t = performance.now();
  const res = await fetch(o.url, { client: c, method: "POST", body });
  const got = (await res.json()).got;
  result = { mbps: got / 1e6 / ((performance.now() - t) / 1000), bytes: got };
  c.close();
} else if (mode === "sse") {
  const times: number[] = [];
  for (let i = 0; i < o.n; i++) {
    const c = client();
    const res = await fetch(o.url, { client: c });
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    const sentAt = Number(/data: (\d+)/.exec(new TextDecoder().decode(value))![1]);
    times.push(Date.now() - sentAt);
    await reader.cancel();
    c.close();
  }
  times.sort((a, b) => a - b);
  result = { firstByteMs: percentile(times, 0.5) };
} else if (mode === "tunnels") {
  const conns: Deno.Conn[] = [];
  const head = new TextEncoder().encode(
    `CONNECT ${o.host} HTTP/1.1\r\nHost: ${o.host}\r\nProxy-Authorization: Basic ${
      btoa(`proxy:${o.token}`)
    }\r\n\r\n`,
  );
  let ok = 0;
  for (let i = 0; i < o.count; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, o.count - i) }, async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: o.proxyPort });
      await c.write(head);
      const buf = new Uint8Array(256);
      const n = await c.read(buf);
      if (!n || !new TextDecoder().decode(buf.subarray(0, n)).startsWith("HTTP/1.1 200")) return c.close();
      // An idle tunnel as a client leaves it: TLS set up inside, then nothing.
      const tls = await Deno.startTls(c, { hostname: o.host.split(":")[0], caCerts });
      await tls.handshake();
      ok++;
      conns.push(tls);
    }));
  }
  console.log(JSON.stringify({ open: ok }));
  await new Promise((r) => setTimeout(r, o.holdMs));
  conns.forEach((c) => c.close());
  result = { closed: conns.length };
}
console.log(JSON.stringify(result));
Deno.exit(0);
