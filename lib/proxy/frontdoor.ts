import type { AuditRecord } from "../audit/record.ts";
import type { AuditSink } from "../audit/sink.ts";
import { decide } from "../policy/decide.ts";
import { isIpLiteral } from "../policy/address.ts";
import { proxyToken } from "./auth.ts";
import { readClientHello } from "./client_hello.ts";
import { DestinationError, type Destinations, type Dial } from "./destinations.ts";
import { headerOf, HeadError, readHead, type RequestHead } from "./head.ts";
import type { Interceptors } from "./interceptors.ts";
import { Counter, type Limits } from "./limits.ts";
import { closeQuietly, pipeBoth, writeAll } from "./pipe.ts";
import { rawDenial, statusFor } from "./reasons.ts";
import type { Snapshot } from "./snapshot.ts";
import { formatAddr, parseAuthority } from "./target.ts";
import { addressOf, type AuthThrottle } from "./throttle.ts";
import type { TunnelRegistry } from "./tunnels.ts";
import type { ReleaseAfterBurst } from "./memory.ts";

export interface FrontDoorContext {
  snapshot: Snapshot;
  audit: AuditSink;
  interceptors: Interceptors;
  tunnels: TunnelRegistry;
  destinations: Destinations;
  throttle: AuthThrottle;
  /** The internal plain-HTTP server that handles absolute-form requests. */
  plainPort: () => number;
  limits: Limits;
  /** Told of every connection, to give memory back after a burst. */
  connections: ReleaseAfterBurst;
}

const ESTABLISHED = new TextEncoder().encode("HTTP/1.1 200 Connection Established\r\n\r\n");

/** Small writes (a 200, a response head) must not wait for an ACK. */
function noDelay(conn: Deno.Conn): void {
  try {
    (conn as Deno.TcpConn).setNoDelay?.(true);
  } catch { /* not a TCP connection */ }
}

function remoteOf(conn: Deno.Conn): string {
  return formatAddr(conn.remoteAddr as Deno.NetAddr);
}

/** Accepts connections until the listener closes, within the connection limits. */
export async function serveFrontDoor(ctx: FrontDoorContext, listener: Deno.Listener): Promise<void> {
  const pending = new Counter(ctx.limits.maxPendingPerAddress);
  const perClient = new Counter(ctx.limits.maxPerClient);
  let open = 0;
  try {
    for await (const conn of listener) {
      if (open >= ctx.limits.maxConnections) {
        closeQuietly(conn);
        continue;
      }
      open++;
      ctx.connections.opened();
      noDelay(conn);
      handleConnection(ctx, conn, pending, perClient).finally(() => {
        open--;
        ctx.connections.closed();
      });
    }
  } catch {
    // the listener was closed
  }
}

/**
 * Checks the framing of a request head that is forwarded as it is: conflicting or
 * malformed lengths are how requests get smuggled.
 */
function framingProblem(head: RequestHead): string | undefined {
  const lengths = head.headers.filter(([n]) => n === "content-length").map(([, v]) => v);
  const encodings = head.headers.filter(([n]) => n === "transfer-encoding").map(([, v]) => v.toLowerCase());
  if (lengths.length && encodings.length) return "conflicting-framing";
  if (lengths.some((v) => !/^\d{1,15}$/.test(v)) || new Set(lengths).size > 1) return "bad-content-length";
  if (encodings.length > 1 || (encodings.length === 1 && encodings[0] !== "chunked")) {
    return "bad-transfer-encoding";
  }
  return undefined;
}

/** Host, port and path (no query) of an absolute-form target, for the audit. */
function absoluteTarget(target: string): Partial<AuditRecord> {
  try {
    const url = new URL(target);
    return { host: url.hostname, port: Number(url.port) || 80, path: url.pathname };
  } catch {
    return {};
  }
}

async function handleConnection(
  ctx: FrontDoorContext,
  conn: Deno.Conn,
  pending: Counter,
  perClient: Counter,
): Promise<void> {
  const started = performance.now();
  const remote = remoteOf(conn);
  const address = addressOf(remote);
  const deny = async (reason: string, fields: Partial<AuditRecord>, extra: Record<string, string> = {}) => {
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
    if (statusFor(reason) === 407) {
      const delay = ctx.throttle.fail(address);
      if (delay) await new Promise((r) => setTimeout(r, delay));
    }
    await writeAll(conn, rawDenial(reason, statusFor(reason), extra)).catch(() => {});
    closeQuietly(conn);
  };

  if (!pending.take(address)) return closeQuietly(conn);
  let head: RequestHead | null;
  try {
    head = await readHead(conn, ctx.limits.maxHeadBytes, ctx.limits.headTimeoutMs);
  } catch (err) {
    pending.release(address);
    if (err instanceof HeadError) return await deny(err.reason, {});
    closeQuietly(conn);
    return;
  }
  pending.release(address);
  if (head === null) return closeQuietly(conn);

  const token = proxyToken(headerOf(head, "proxy-authorization"));
  const client = token ? ctx.snapshot.authenticate(token) : undefined;
  const authFailure = token ? "proxy-auth-invalid" : "proxy-auth-required";

  if (head.method !== "CONNECT") {
    const fields: Partial<AuditRecord> = {
      method: head.method,
      client: client?.name,
      ...absoluteTarget(head.target),
    };
    if (!/^http:\/\//i.test(head.target)) return await deny("bad-target", fields);
    const problem = framingProblem(head);
    if (problem) return await deny(problem, fields);
    if (!client) return await deny(authFailure, fields);
    if (!perClient.take(client.name)) {
      return await deny("too-many-connections", fields, { "retry-after": "1" });
    }
    try {
      return await forwardPlain(ctx, conn, head, remote);
    } finally {
      perClient.release(client.name);
    }
  }

  const target = parseAuthority(head.target);
  if (!target) return await deny("bad-target", { method: "CONNECT" });
  const fields = { method: "CONNECT", host: target.host, port: target.port };
  if (!client) return await deny(authFailure, fields);
  const who = { ...fields, client: client.name };
  const decision = decide(ctx.snapshot.rules(client.name), { ...target, now: Date.now() });
  if (!decision.allow) return await deny(decision.reason, who);
  let dial: Dial;
  try {
    dial = await ctx.destinations.pick(target.host, target.port, decision.rule.record.allowPrivate);
  } catch (err) {
    return await deny(err instanceof DestinationError ? err.reason : "upstream-connect-failed", who);
  }
  if (!perClient.take(client.name)) return await deny("too-many-connections", who, { "retry-after": "1" });
  try {
    await tunnel(
      ctx,
      conn,
      head,
      { client: client.name, host: target.host, port: target.port, remote, dial },
      (r) => deny(r, who),
    );
  } finally {
    perClient.release(client.name);
  }
}

/** Answers 200, checks that what follows is TLS for the CONNECT host, then pipes it to an interception server. */
async function tunnel(
  ctx: FrontDoorContext,
  conn: Deno.Conn,
  head: RequestHead,
  t: { client: string; host: string; port: number; remote: string; dial: Dial },
  deny: (reason: string) => Promise<void>,
): Promise<void> {
  try {
    await writeAll(conn, ESTABLISHED);
  } catch {
    return closeQuietly(conn);
  }
  const { hello, bytes } = await readClientHello(conn, head.rest, ctx.limits.headTimeoutMs);
  if (hello.kind !== "tls") return await deny("not-tls");
  const sni = hello.sni?.replace(/\.$/, "");
  if (sni ? sni !== t.host : !isIpLiteral(t.host)) return await deny("sni-mismatch");

  let server: { port: number; release(): void };
  try {
    server = await ctx.interceptors.acquire(t.host);
  } catch {
    return closeQuietly(conn);
  }
  const serverPort = server.port;
  try {
    let inner: Deno.TcpConn;
    try {
      inner = await Deno.connect({ hostname: "127.0.0.1", port: serverPort });
      inner.setNoDelay(true);
    } catch {
      return closeQuietly(conn);
    }
    const localPort = (inner.localAddr as Deno.NetAddr).port;
    ctx.tunnels.add(serverPort, localPort, t);
    try {
      await pipeBoth(conn, inner, bytes, ctx.limits.idleTimeoutMs);
    } finally {
      ctx.tunnels.remove(serverPort, localPort);
    }
  } finally {
    server.release();
  }
}

/** Hands a plain absolute-form request (and the rest of its connection) to the internal HTTP server. */
async function forwardPlain(
  ctx: FrontDoorContext,
  conn: Deno.Conn,
  head: RequestHead,
  remote: string,
): Promise<void> {
  let inner: Deno.TcpConn;
  try {
    inner = await Deno.connect({ hostname: "127.0.0.1", port: ctx.plainPort() });
    inner.setNoDelay(true);
  } catch {
    closeQuietly(conn);
    return;
  }
  const first = new Uint8Array(head.raw.length + head.rest.length);
  first.set(head.raw);
  first.set(head.rest, head.raw.length);
  const localPort = (inner.localAddr as Deno.NetAddr).port;
  ctx.tunnels.addRemote(ctx.plainPort(), localPort, remote);
  try {
    await pipeBoth(conn, inner, first, ctx.limits.idleTimeoutMs);
  } finally {
    ctx.tunnels.remove(ctx.plainPort(), localPort);
  }
}
