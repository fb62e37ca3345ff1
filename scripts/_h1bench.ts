import { Http1Client } from "../lib/proxy/http1.ts";
import { readAll } from "../lib/proxy/upstream.ts";
const up = Number(Deno.args[0]);
const ca = Deno.readTextFileSync("/tmp/exp2/ca.pem");
const client = new Http1Client([ca]);
const body = new TextEncoder().encode('{"prompt":"hello"}');
let n = 0;
const end = Date.now() + 5000;
async function worker() {
  while (Date.now() < end) {
    const r = await client.request({
      scheme: "https",
      host: "bench.example.com",
      port: 443,
      dial: { host: "127.0.0.1", port: up },
      method: "POST",
      path: "/small",
      headers: [["host", "bench.example.com"], ["content-type", "application/json"], [
        "authorization",
        "Bearer x",
      ]],
      body,
    });
    await readAll(r.body!);
    n++;
  }
}
const t = Date.now();
await Promise.all(Array.from({ length: 16 }, worker));
console.log("rps", Math.round(n / ((Date.now() - t) / 1000)));
client.close();
