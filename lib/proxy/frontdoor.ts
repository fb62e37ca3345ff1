import type { AuditRecord } from "../audit/record.ts";
import type { AuditSink } from "../audit/sink.ts";
import { decide } from "../policy/decide.ts";
import { type Dial, DestinationError, type Destinations } from "./destinations.ts";
import { proxyToken } from "./auth.ts";
import { headerOf, HeadError, readHead, type RequestHead } from "./head.ts";
import type { Interceptors } from "./interceptors.ts";
import { closeQuietly, pipeBoth, writeAll } from "./pipe.ts";
import { rawDenial, statusFor } from "./reasons.ts";
import type { Snapshot } from "./snapshot.ts";
import { parseAuthority } from "./target.ts";
import type { TunnelRegistry } from "./tunnels.ts";

export interface FrontDoorContext {
  snapshot: Snapshot;
  audit: AuditSink;
  interceptors: Interceptors;
  tunnels: TunnelRegistry;
  destinations: Destinations;
  /** The internal plain-HTTP server that handles absolute-form requests. */
  plainPort: () => number;
  maxHeadBytes: number;
  headTimeoutMs: number;
}

const ESTABLISHED = new TextEncoder().encode("HTTP/1.1 200 Connection Established\r\n\r\n");

function remoteOf(conn: Deno.Conn): string {
  const addr = conn.remoteAddr as Deno.NetAddr;
  return addr.hostname.includes(":") ? `[${addr.hostname}]:${addr.port}` : `${addr.hostname}:${addr.port}`;
}

/** Accepts connections until the listener closes. */
export async function serveFrontDoor(ctx: FrontDoorContext, listener: Deno.Listener): Promise<void> {
  try {
    for await (const conn of listener) handleConnection(ctx, conn);
  } catch {
    // the listener was closed
  }
}

async function handleConnection(ctx: FrontDoorContext, conn: Deno.Conn): Promise<void> {
  const started = performance.now();
  const remote = remoteOf(conn);
  const deny = async (reason: string, fields: Partial<AuditRecord>) => {
    ctx.audit.write({
      time: new Date().toISOString(),
      msg: "deny",
      method: "-",
      status: statusFor(reason),
      reason,
      bytes_up: 0,
      bytes_down: 0,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
      remote,
      ...fields,
    });
    await writeAll(conn, rawDenial(reason)).catch(() => {});
    closeQuietly(conn);
  };
  let head: RequestHead | null;
  try {
    head = await readHead(conn, ctx.maxHeadBytes, ctx.headTimeoutMs);
  } catch (err) {
    if (err instanceof HeadError) return await deny(err.reason, {});
    closeQuietly(conn);
    return;
  }
  if (head === null) return closeQuietly(conn);

  if (head.method !== "CONNECT") {
    if (!/^http:\/\//i.test(head.target)) return await deny("bad-target", { method: head.method });
    return await forwardPlain(ctx, conn, head);
  }

  const target = parseAuthority(head.target);
  if (!target) return await deny("bad-target", { method: "CONNECT" });
  const fields = { method: "CONNECT", host: target.host, port: target.port };
  const token = proxyToken(headerOf(head, "proxy-authorization"));
  const client = token ? ctx.snapshot.authenticate(token) : undefined;
  if (!client) return await deny(token ? "proxy-auth-invalid" : "proxy-auth-required", fields);
  const decision = decide(ctx.snapshot.rules(client.name), { ...target, now: Date.now() });
  if (!decision.allow) return await deny(decision.reason, { ...fields, client: client.name });
  let dial: Dial;
  try {
    dial = await ctx.destinations.pick(target.host, target.port, decision.rule.record.allowPrivate);
  } catch (err) {
    const reason = err instanceof DestinationError ? err.reason : "upstream-connect-failed";
    return await deny(reason, { ...fields, client: client.name });
  }

  let inner: Deno.TcpConn;
  let serverPort: number;
  try {
    serverPort = await ctx.interceptors.port(target.host);
    inner = await Deno.connect({ hostname: "127.0.0.1", port: serverPort });
  } catch {
    return await deny("intercept-failed", { ...fields, client: client.name });
  }
  const localPort = (inner.localAddr as Deno.NetAddr).port;
  ctx.tunnels.add(serverPort, localPort, {
    client: client.name,
    host: target.host,
    port: target.port,
    remote,
    dial,
  });
  try {
    await writeAll(conn, ESTABLISHED);
    await pipeBoth(conn, inner, head.rest);
  } catch {
    closeQuietly(conn);
    closeQuietly(inner);
  } finally {
    ctx.tunnels.remove(serverPort, localPort);
  }
}

/** Hands a plain absolute-form request (and the rest of its connection) to the internal HTTP server. */
async function forwardPlain(ctx: FrontDoorContext, conn: Deno.Conn, head: RequestHead): Promise<void> {
  let inner: Deno.TcpConn;
  try {
    inner = await Deno.connect({ hostname: "127.0.0.1", port: ctx.plainPort() });
  } catch {
    closeQuietly(conn);
    return;
  }
  const first = new Uint8Array(head.raw.length + head.rest.length);
  first.set(head.raw);
  first.set(head.rest, head.raw.length);
  ctx.tunnels.add(ctx.plainPort(), (inner.localAddr as Deno.NetAddr).port, {
    client: "",
    host: "",
    port: 0,
    remote: remoteOf(conn),
    dial: { host: "", port: 0, trusted: false },
  });
  try {
    await pipeBoth(conn, inner, first);
  } finally {
    ctx.tunnels.remove(ctx.plainPort(), (inner.localAddr as Deno.NetAddr).port);
  }
}
