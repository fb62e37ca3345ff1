import { UsageError, VeilError } from "../errors.ts";
import { parseDuration } from "../policy/duration.ts";
import { normalizeHost } from "../policy/host.ts";
import { startProxy } from "../proxy/server.ts";
import { formatAddr } from "../proxy/target.ts";
import { type Command, type Flags, list, str } from "./command.ts";
import { DEFAULT_LIMITS } from "../proxy/limits.ts";
import { openStore } from "./open.ts";
import { upstreamFlags, upstreamSettings } from "./upstream_flags.ts";

const HOSTPORT = /^(\[[0-9a-fA-F:.]+\]|[^:\[\]\s]*):(\d{1,5})$/;

function parseListen(flag: string, text: string): { hostname: string; port: number } {
  const m = HOSTPORT.exec(text);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`Invalid ${flag} ${text}: use HOST:PORT`);
  return { hostname: normalizeHost(m[1]) || "0.0.0.0", port: Number(m[2]) };
}

/** A state folder or seal key others can read is refused: fix the mode, then start. */
async function checkPrivate(dir: string): Promise<void> {
  const paths = [dir, ...(Deno.env.get("VEIL_SEAL_KEY") ? [] : [`${dir}/seal.key`])];
  for (const path of paths) {
    const mode = (await Deno.stat(path)).mode;
    if (mode !== null && (mode & 0o077) !== 0) {
      const want = path === dir ? "700" : "600";
      throw new VeilError(
        `Refusing to start: ${path} is accessible by other users (mode ${
          (mode & 0o777).toString(8)
        }); run chmod ${want} ${path}`,
      );
    }
  }
}

function count(flags: Flags, name: string, fallback: number): number {
  const text = str(flags, name);
  if (text === undefined) return fallback;
  if (!/^\d{1,7}$/.test(text) || Number(text) < 1) {
    throw new UsageError(`Invalid --${name} ${text}: use a positive number`);
  }
  return Number(text);
}

export const serveCommands: Command[] = [
  {
    name: "serve",
    summary: "Run the proxy: plain HTTP on --listen, TLS on --listen-tls",
    options: {
      listen: {
        type: "string",
        value: "HOST:PORT",
        help: "plain proxy listener (default 127.0.0.1:3128; 'off' disables)",
      },
      "listen-tls": {
        type: "string",
        value: "HOST:PORT",
        help: "TLS proxy listener (default 127.0.0.1:3129; 'off' disables)",
      },
      "tls-name": {
        type: "string",
        multiple: true,
        value: "NAME",
        help: "extra name for the TLS listener's certificate",
      },
      ...upstreamFlags,
      "audit-log": { type: "string", value: "FILE", help: "also append audit records as JSON lines to FILE" },
      "audit-retention": {
        type: "string",
        value: "DURATION",
        help: "how long `veil audit` keeps records (default 7d)",
      },
      dns: {
        type: "string",
        value: "ADDR:PORT",
        help: "nameserver for upstream names (default: the system's)",
      },
      quiet: { type: "boolean", help: "do not print audit lines on stdout" },
      "idle-timeout": {
        type: "string",
        value: "DURATION",
        help: "close tunnels idle this long (default 5m)",
      },
      "max-client-connections": {
        type: "string",
        value: "N",
        help: "open connections per client (default 256)",
      },
      "max-connections": { type: "string", value: "N", help: "open connections in all (default 8192)" },
    },
    async run({ flags }) {
      const listenFlag = str(flags, "listen") ?? "127.0.0.1:3128";
      const tlsFlag = str(flags, "listen-tls") ?? "127.0.0.1:3129";
      const listen = listenFlag === "off" ? undefined : parseListen("--listen", listenFlag);
      const listenTls = tlsFlag === "off" ? undefined : parseListen("--listen-tls", tlsFlag);
      if (!listen && !listenTls) throw new UsageError("Both listeners are off: nothing to serve");
      const { connectTo, upstreamCaPems } = await upstreamSettings(flags);
      const limits = {
        ...DEFAULT_LIMITS,
        idleTimeoutMs: parseDuration(str(flags, "idle-timeout") ?? "5m"),
        maxPerClient: count(flags, "max-client-connections", DEFAULT_LIMITS.maxPerClient),
        maxConnections: count(flags, "max-connections", DEFAULT_LIMITS.maxConnections),
      };
      const dnsFlag = str(flags, "dns");
      const dns = dnsFlag ? parseListen("--dns", dnsFlag) : undefined;
      const retention = parseDuration(str(flags, "audit-retention") ?? "7d");
      const auditPath = str(flags, "audit-log");
      let auditFile: Deno.FsFile | undefined;
      if (auditPath) {
        try {
          auditFile = await Deno.open(auditPath, { append: true, create: true, mode: 0o600 });
        } catch (err) {
          throw new VeilError(`Cannot open --audit-log ${auditPath}: ${(err as Error).message}`);
        }
      }
      const store = await openStore(flags);
      try {
        await checkPrivate(store.dir);
      } catch (err) {
        store.close();
        throw err;
      }
      let proxy;
      try {
        proxy = await startProxy({
          store,
          listen,
          listenTls,
          tlsNames: list(flags, "tls-name"),
          upstreamCaPems,
          connectTo,
          dns: dns && { ipAddr: dns.hostname, port: dns.port },
          auditFile,
          auditStdout: !flags.quiet,
          auditRetentionMs: retention,
          limits,
        });
      } catch (err) {
        store.close();
        if (err instanceof Deno.errors.AddrInUse) {
          throw new VeilError(`Cannot listen: ${(err as Error).message}`);
        }
        throw err;
      }
      const parts = [];
      if (proxy.addrs.plain) parts.push(`plain=${formatAddr(proxy.addrs.plain)}`);
      if (proxy.addrs.tls) parts.push(`tls=${formatAddr(proxy.addrs.tls)}`);
      console.error(`veil: listening ${parts.join(" ")} state=${store.dir}`);
      const { promise: stopped, resolve } = Promise.withResolvers<void>();
      const stop = () => resolve();
      Deno.addSignalListener("SIGINT", stop);
      Deno.addSignalListener("SIGTERM", stop);
      await stopped;
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      console.error("veil: stopping");
      await proxy.close();
      auditFile?.close();
      store.close();
      return 0;
    },
  },
];
