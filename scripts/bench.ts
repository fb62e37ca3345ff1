// deno task bench [--json] [--ms N]
// veil against direct and against mitmproxy (when installed), side by side in one run; every
// figure is also given as a ratio to the direct path measured in the same run.
import { parseArgs } from "node:util";
import { createTestPki } from "../tests/helpers/pki.ts";
import { V8_FLAGS } from "../lib/proxy/memory.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    json: { type: "boolean" },
    ms: { type: "string" },
    mib: { type: "string" },
    only: { type: "string" },
  },
});
const MS = Number(flags.ms ?? 3000);
const STREAM_BYTES = Number(flags.mib ?? 256) * 1024 * 1024;
const MITM_STREAM_BYTES = Math.min(STREAM_BYTES, 32 * 1024 * 1024);
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const LOAD = new URL("./bench/load.ts", import.meta.url).pathname;
const UPSTREAM = new URL("./bench/upstream.ts", import.meta.url).pathname;
const ADDON = new URL("./bench/mitm_addon.py", import.meta.url).pathname;
const RELAY = new URL("./bench/relay.ts", import.meta.url).pathname;
const MINT_HOSTS = 12;
/** --only keepalive,newconn,mint,stream,sse,memory runs just those parts. */
const only = flags.only ? new Set(flags.only.split(",")) : undefined;
const run = (part: string) => !only || only.has(part);
const decoder = new TextDecoder();
const log = (s: string) => !flags.json && console.error(s);

const dir = await Deno.makeTempDir({ prefix: "veil-bench-" });
const children: Deno.ChildProcess[] = [];

async function lineFrom(
  child: Deno.ChildProcess,
  stream: "stdout" | "stderr",
  pattern: RegExp,
): Promise<RegExpMatchArray> {
  const reader = child[stream].getReader();
  let text = "";
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
    const m = text.match(pattern);
    if (m) {
      reader.releaseLock();
      child[stream].pipeTo(new WritableStream()).catch(() => {});
      return m;
    }
  }
  throw new Error(`no ${pattern} from a bench process: ${text}`);
}

async function cli(args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args, "--state", `${dir}/state`],
    stderr: "piped",
  }).output();
  if (out.code !== 0) throw new Error(`veil ${args.join(" ")}: ${decoder.decode(out.stderr)}`);
  return decoder.decode(out.stdout);
}

async function load(mode: string, options: Record<string, unknown>): Promise<Record<string, number>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", LOAD, mode, JSON.stringify(options)],
    stderr: "piped",
  }).output();
  const lines = decoder.decode(out.stdout).trim().split("\n");
  if (out.code !== 0) throw new Error(`load ${mode}: ${decoder.decode(out.stderr)}`);
  return JSON.parse(lines[lines.length - 1]);
}

/** Runs hey (Go's HTTP client, which like curl and most real clients sets TCP_NODELAY). */
async function hey(
  t: Target,
  path: string,
  clients: number,
  extra: string[] = [],
): Promise<Record<string, number>> {
  const proxy = t.relay ? ["-x", t.relay] : t.proxy
    ? [
      "-x",
      t.proxy.basicAuth
        ? t.proxy.url.replace("://", `://${t.proxy.basicAuth.username}:${t.proxy.basicAuth.password}@`)
        : t.proxy.url,
    ]
    : [];
  const url = t.relay ? `https://bench.example.com${path}` : t.url(path);
  const out = await new Deno.Command("hey", {
    args: [
      "-z",
      `${MS / 1000}s`,
      "-c",
      String(clients),
      "-m",
      "POST",
      "-d",
      '{"prompt":"hello"}',
      "-T",
      "application/json",
      ...proxy,
      ...extra,
      url,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = decoder.decode(out.stdout);
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  const errors = /Error distribution:/.test(text);
  if (errors) {
    log(`  hey reported errors for ${t.name}: ${text.split("Error distribution:")[1].trim().split("\n")[0]}`);
  }
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: num(/50%+ in ([\d.]+) secs/) * 1000,
    p99: num(/99%+ in ([\d.]+) secs/) * 1000,
  };
}

/** One request on a new connection with curl, timed by curl. */
async function curlOnce(t: Target, url: string): Promise<number> {
  const proxy = t.proxy
    ? [
      "-x",
      t.proxy.basicAuth
        ? t.proxy.url.replace("://", `://${t.proxy.basicAuth.username}:${t.proxy.basicAuth.password}@`)
        : t.proxy.url,
    ]
    : [];
  const out = await new Deno.Command("curl", {
    args: ["-s", "-o", "/dev/null", "-w", "%{time_total}", "--cacert", t.ca, ...proxy, "-d", "{}", url],
    stdout: "piped",
  }).output();
  return Number(decoder.decode(out.stdout)) * 1000;
}

/** CPU time (user and system) a process has used so far, in ms. */
function cpuMs(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  // utime and stime, fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function hasCommand(name: string): Promise<boolean> {
  try {
    const r = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" }).output();
    return r.code === 0;
  } catch {
    return false;
  }
}

interface Target {
  name: string;
  /** For hey (Go's TLS client cannot reach Deno.serve by localhost): a plain CONNECT relay. */
  relay?: string;
  url: (path: string, host?: string) => string;
  proxy?: { url: string; basicAuth?: { username: string; password: string } };
  ca: string;
  pid?: number;
}

type Row = {
  metric: string;
  unit: string;
  direct?: number;
  veil?: number;
  mitmproxy?: number;
  target?: string;
  pass?: boolean;
};
const rows: Row[] = [];

try {
  log("setting up: test PKI, upstream, veil state");
  const pki = await createTestPki(dir);
  const names = [
    "localhost",
    "bench.example.com",
    ...Array.from({ length: MINT_HOSTS + 2 }, (_, i) => `h${i}.bench.example.com`),
  ];
  const leaf = await pki.issue(names);
  await Deno.writeTextFile(`${dir}/up.crt`, leaf.cert);
  await Deno.writeTextFile(`${dir}/up.key`, leaf.key);
  const upstream = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", UPSTREAM, `${dir}/up.crt`, `${dir}/up.key`],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  children.push(upstream);
  const upPort = Number((await lineFrom(upstream, "stdout", /(\d+)/))[1]);

  const token = (await cli(["client", "create", "bench"])).trim();
  const secret = "sk-bench-" + crypto.randomUUID();
  await cli([
    "secret",
    "create",
    "bench",
    "--host",
    "*.bench.example.com",
    "--type",
    "bearer",
    "--value",
    secret,
  ]);
  await cli([
    "secret",
    "create",
    "bench-apex",
    "--host",
    "bench.example.com",
    "--type",
    "bearer",
    "--value",
    secret,
  ]);
  await cli(["allow", "bench", "--host", "bench.example.com", "--secret", "bench-apex"]);
  await cli(["allow", "bench", "--host", "*.bench.example.com", "--secret", "bench"]);
  await Deno.writeTextFile(`${dir}/veil-ca.pem`, await cli(["ca", "cert"]));
  const connectTo = names.slice(1).flatMap((n) => ["--connect-to", `${n}:443:127.0.0.1:${upPort}`]);
  const veil = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      // As `deno task start` runs it (see deno.json): memory is given back after a burst.
      V8_FLAGS,
      // For profiling: BENCH_VEIL_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (written when veil stops).
      ...(Deno.env.get("BENCH_VEIL_FLAGS")?.split(" ").filter(Boolean) ?? []),
      MAIN,
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--listen-tls",
      "off",
      "--state",
      `${dir}/state`,
      "--upstream-ca",
      pki.caFile,
      "--max-client-connections",
      "4096",
      ...connectTo,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  children.push(veil);
  const veilPort = Number((await lineFrom(veil, "stderr", /plain=127\.0\.0\.1:(\d+)/))[1]);

  const relay = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", RELAY, String(upPort)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  children.push(relay);
  const relayPort = Number((await lineFrom(relay, "stdout", /(\d+)/))[1]);
  const targets: Target[] = [
    {
      name: "direct",
      url: (p) => `https://localhost:${upPort}${p}`,
      ca: pki.caFile,
      relay: `http://127.0.0.1:${relayPort}`,
    },
    {
      name: "veil",
      url: (p, host = "bench.example.com") => `https://${host}${p}`,
      proxy: { url: `http://127.0.0.1:${veilPort}`, basicAuth: { username: "proxy", password: token } },
      ca: `${dir}/veil-ca.pem`,
      pid: veil.pid,
    },
  ];
  let mitmNote = "mitmproxy: not installed (apt-get install mitmproxy), so its column is empty";
  if (await hasCommand("mitmdump")) {
    const mitmPort = 20000 + Math.floor(Math.random() * 20000);
    const mitm = new Deno.Command("mitmdump", {
      args: [
        "--listen-host",
        "127.0.0.1",
        "--listen-port",
        String(mitmPort),
        "--set",
        `confdir=${dir}/mitm`,
        "--set",
        `ssl_verify_upstream_trusted_ca=${pki.caFile}`,
        "-s",
        ADDON,
        "-q",
      ],
      env: { BENCH_UPSTREAM_PORT: String(upPort), BENCH_TOKEN: secret },
      stdout: "null",
      stderr: "null",
    }).spawn();
    children.push(mitm);
    for (
      let i = 0;
      i < 100 && !(await Deno.stat(`${dir}/mitm/mitmproxy-ca-cert.pem`).catch(() => null));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1500));
    targets.push({
      name: "mitmproxy",
      url: (p, host = "bench.example.com") => `https://${host}${p}`,
      proxy: { url: `http://127.0.0.1:${mitmPort}` },
      ca: `${dir}/mitm/mitmproxy-ca-cert.pem`,
      pid: mitm.pid,
    });
    mitmNote = "mitmproxy: " +
      decoder.decode(
        (await new Deno.Command("mitmdump", { args: ["--version"], stdout: "piped" }).output()).stdout,
      ).split("\n")[0];
  }
  const base = (t: Target) => ({ proxy: t.proxy, ca: t.ca });
  const add = (
    metric: string,
    unit: string,
    values: Partial<Record<string, number>>,
    target?: string,
    pass?: boolean,
  ) =>
    rows.push({
      metric,
      unit,
      direct: values.direct,
      veil: values.veil,
      mitmproxy: values.mitmproxy,
      target,
      pass,
    });

  const useHey = await hasCommand("hey");
  if (!useHey) {
    log("hey is not installed (apt-get install hey): request rates use Deno fetch, which leaves Nagle on");
  }
  // Warm every path once (certificates, pools, JIT).
  for (const t of targets) {
    await load("rate", { ...base(t), url: t.url("/small"), clients: 2, ms: 500, body: "{}" });
  }

  // Idle RSS while the processes are fresh; the tunnels come last, so that the sockets they leave in
  // TIME_WAIT (thousands, for a minute) do not slow the rates measured after them.
  const idleRss: Record<string, number> = {};
  await new Promise((r) => setTimeout(r, 1000));
  for (const t of targets.filter((t) => t.pid)) idleRss[t.name] = rss(t.pid!);

  if (run("keepalive")) {
    const keepAlive: Record<number, Record<string, Record<string, number>>> = {};
    for (const clients of [1, 16, 64]) {
      keepAlive[clients] = {};
      for (const t of targets) {
        log(`keep-alive, ${clients} clients: ${t.name}`);
        const cpuBefore = t.pid ? cpuMs(t.pid) : 0;
        keepAlive[clients][t.name] = useHey ? await hey(t, "/small", clients) : await load("rate", {
          ...base(t),
          url: t.url("/small"),
          clients,
          ms: MS,
          body: '{"prompt":"hello"}',
        });
        if (t.pid) {
          const r = keepAlive[clients][t.name];
          // Requests served in the timed part (the few of a warm-up are left out of the count only).
          const requests = r.requests ?? r.rps * MS / 1000;
          r.cpu = (cpuMs(t.pid) - cpuBefore) * 1000 / requests;
        }
      }
      const r = keepAlive[clients];
      const pick = (k: string) => Object.fromEntries(Object.entries(r).map(([n, v]) => [n, v[k]]));
      const ratio = r.veil.rps / r.direct.rps;
      const vsMitm = r.mitmproxy ? r.veil.rps / r.mitmproxy.rps : undefined;
      add(
        `keep-alive ${clients} clients`,
        "req/s",
        pick("rps"),
        clients === 16 ? ">= 60% of direct" : undefined,
        clients === 16 ? ratio >= 0.6 : undefined,
      );
      if (clients === 16 && vsMitm !== undefined) {
        add(`  veil / mitmproxy`, "x", { veil: vsMitm }, ">= 10x mitmproxy", vsMitm >= 10);
      }
      add(`  p50 latency`, "ms", pick("p50"));
      const addedP99 = r.veil.p99 - r.direct.p99;
      add(
        `  p99 latency`,
        "ms",
        pick("p99"),
        clients === 16 ? "veil adds < 2 ms" : undefined,
        clients === 16 ? addedP99 < 2 : undefined,
      );
      // The proxy's own CPU time per request: what a proxy costs, whatever else loads the machine.
      add(`  proxy CPU per request`, "us", pick("cpu"));
    }
  }
  if (run("newconn")) {
    const newconn: Record<string, number> = {};
    for (const t of targets) {
      log(`new connection per request: ${t.name}`);
      newconn[t.name] = useHey
        ? (await hey(t, "/small", 4, ["-disable-keepalive"])).rps
        : (await load("newconn", { ...base(t), url: t.url("/small"), clients: 4, ms: MS })).rps;
    }
    add("new connection per request", "req/s", newconn);
  }
  if (run("mint")) {
    const first: Record<string, number> = {};
    const warm: Record<string, number> = {};
    for (const t of targets) {
      log(`certificate minting: ${t.name}`);
      const firsts: number[] = [];
      const warms: number[] = [];
      for (let i = 0; i < MINT_HOSTS; i++) {
        const host = `h${i}.bench.example.com`;
        firsts.push(await curlOnce(t, t.url("/small", host)));
        warms.push(await curlOnce(t, t.url("/small", host)));
      }
      firsts.sort((a, b) => a - b);
      warms.sort((a, b) => a - b);
      first[t.name] = firsts[Math.floor(firsts.length / 2)];
      warm[t.name] = warms[Math.floor(warms.length / 2)];
    }
    add(
      "first request, new host (new connection)",
      "ms",
      first,
      "veil adds < 5 ms over warm",
      first.veil - warm.veil < 5,
    );
    add("same host again (new connection)", "ms", warm, "warm adds nothing measurable");
  }
  if (run("stream")) {
    const down: Record<string, number> = {};
    const up: Record<string, number> = {};
    for (const t of targets) {
      const bytes = t.name === "mitmproxy" ? MITM_STREAM_BYTES : STREAM_BYTES;
      log(`streaming ${bytes / 1048576} MiB down and up: ${t.name}`);
      down[t.name] = (await load("download", { ...base(t), url: t.url(`/download?bytes=${bytes}`) })).mbps;
      up[t.name] = (await load("upload", { ...base(t), url: t.url("/upload"), bytes })).mbps;
    }
    add(
      `download ${STREAM_BYTES / 1048576} MiB`,
      "MB/s",
      down,
      ">= 70% of direct",
      down.veil / down.direct >= 0.7,
    );
    add(`upload ${STREAM_BYTES / 1048576} MiB`, "MB/s", up, ">= 70% of direct", up.veil / up.direct >= 0.7);
  }
  if (run("sse")) {
    const sse: Record<string, number> = {};
    for (const t of targets) {
      sse[t.name] = (await load("sse", { ...base(t), url: t.url("/sse"), n: 5 })).firstByteMs;
    }
    add("SSE first byte after it is sent", "ms", sse, "as soon as sent (< 20 ms)", sse.veil < 20);
  }
  if (run("memory")) {
    log("memory: idle, 1,000 idle tunnels, after they close");
    const mem: Record<string, Record<string, number>> = { idle: {}, busy: {}, after: {} };
    for (const t of targets.filter((t) => t.pid)) {
      mem.idle[t.name] = idleRss[t.name];
      const port = Number(new URL(t.proxy!.url).port);
      const holder = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          LOAD,
          "tunnels",
          JSON.stringify({
            proxyPort: port,
            token,
            host: "h0.bench.example.com:443",
            count: 1000,
            holdMs: 4000,
            ca: t.ca,
          }),
        ],
        stdout: "piped",
      }).spawn();
      const opened = JSON.parse((await lineFrom(holder, "stdout", /\{"open":\d+\}/))[0]).open;
      mem.busy[t.name] = rss(t.pid!);
      await holder.status;
      await new Promise((r) => setTimeout(r, 3000));
      mem.after[t.name] = rss(t.pid!);
      if (opened < 1000) log(`  ${t.name}: only ${opened} tunnels opened`);
    }
    add("RSS idle", "MiB", mem.idle);
    add("RSS with 1,000 idle tunnels", "MiB", mem.busy, "< 150 MiB", mem.busy.veil < 150);
    add(
      "RSS after they close",
      "MiB",
      mem.after,
      "within 20% of idle",
      mem.after.veil <= mem.idle.veil * 1.2,
    );
  }
  const machine = `${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}, load: ${
    useHey ? "hey" : "Deno fetch"
  }, ${mitmNote}`;
  if (flags.json) {
    console.log(JSON.stringify({ machine, rows }, null, 2));
  } else {
    const fmt = (v: number | undefined, unit: string) =>
      v === undefined || Number.isNaN(v)
        ? "-"
        : unit === "req/s" || unit === "us"
        ? v.toFixed(0)
        : v.toFixed(unit === "ms" ? 2 : 1);
    const ratio = (r: Row, k: "veil" | "mitmproxy") =>
      r[k] !== undefined && r.direct ? ` (${((r[k]! / r.direct) * 100).toFixed(0)}%)` : "";
    const table = [["metric", "unit", "direct", "veil", "mitmproxy", "target", ""]];
    for (const r of rows) {
      table.push([
        r.metric,
        r.unit,
        fmt(r.direct, r.unit),
        fmt(r.veil, r.unit) + ratio(r, "veil"),
        fmt(r.mitmproxy, r.unit) + ratio(r, "mitmproxy"),
        r.target ?? "",
        r.pass === undefined ? "" : r.pass ? "met" : "MISSED",
      ]);
    }
    const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
    console.log(`machine: ${machine}`);
    for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
  }
} finally {
  // SIGTERM first, so a profiled veil writes its profile; SIGKILL whatever is left after 3 s.
  const signal = (name: Deno.Signal) => {
    for (const c of children) {
      try {
        c.kill(name);
      } catch { /* gone */ }
    }
  };
  signal("SIGTERM");
  const stopped = Promise.allSettled(children.map((c) => c.status));
  const timer = setTimeout(() => signal("SIGKILL"), 3000);
  await stopped;
  clearTimeout(timer);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
Deno.exit(0);
