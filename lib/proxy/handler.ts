import type { AuditRecord } from "../audit/record.ts";
import type { AuditSink } from "../audit/sink.ts";
import { type Credential, CredentialError } from "../credentials/credential.ts";
import { decide } from "../policy/decide.ts";
import { hostMatches, normalizeHost } from "../policy/host.ts";
import { proxyToken } from "./auth.ts";
import { DestinationError, type Destinations, type Dial } from "./destinations.ts";
import type { Dialer } from "./dialer.ts";
import { HeaderList } from "./header_list.ts";
import { scrubberFor } from "./scrub.ts";
import { addressOf, type AuthThrottle } from "./throttle.ts";
import { denialResponse, statusFor } from "./reasons.ts";
import type { Snapshot } from "./snapshot.ts";
import type { Tunnel } from "./tunnels.ts";
import { HOP_BY_HOP, readAll, relayBody, relayedHeaders, type Upstream, UpstreamError } from "./upstream.ts";
import { relayWebSocket } from "./websocket.ts";

export interface HandlerContext {
  snapshot: Snapshot;
  audit: AuditSink;
  upstream: Upstream;
  destinations: Destinations;
  /** Dials like the upstream does, for WebSockets. */
  dialer: Dialer;
  throttle: AuthThrottle;
}

/** Where a request came from: an intercepted tunnel, or a plain absolute-form request. */
export type Scope = { scheme: "https"; tunnel: Tunnel } | { scheme: "http"; remote: string };

/** Request headers to send upstream: the client's, minus hop-by-hop and proxy headers. */
function forwardedHeaders(req: Request): HeaderList {
  const connection = req.headers.get("connection");
  if (!connection) return HeaderList.from(req.headers, (name) => HOP_BY_HOP.has(name));
  const listed = new Set(connection.toLowerCase().split(",").map((s) => s.trim()));
  return HeaderList.from(req.headers, (name) => HOP_BY_HOP.has(name) || listed.has(name));
}

/** Decides, injects, forwards and audits one request from inside a tunnel or a plain proxy request. */
export async function handleRequest(ctx: HandlerContext, req: Request, scope: Scope): Promise<Response> {
  const started = performance.now();
  const url = new URL(req.url);
  const record: AuditRecord = {
    time: new Date().toISOString(),
    msg: "deny",
    method: req.method,
    path: url.pathname,
    status: 0,
    bytes_up: 0,
    bytes_down: 0,
    duration_ms: 0,
  };
  const finish = (status: number, msg: AuditRecord["msg"], reason?: string) => {
    record.status = status;
    record.msg = msg;
    record.reason = reason;
    record.duration_ms = Math.round((performance.now() - started) * 10) / 10;
    ctx.audit.write(record);
  };
  const deny = (reason: string) => {
    finish(statusFor(reason), statusFor(reason) >= 500 ? "error" : "deny", reason);
    return denialResponse(reason);
  };

  let client: string;
  let host: string;
  let port: number;
  if (scope.scheme === "https") {
    ({ client, host, port } = scope.tunnel);
    record.client = client;
    record.host = host;
    record.port = port;
    record.remote = scope.tunnel.remote;
    if (normalizeHost(url.hostname) !== host) return deny("host-mismatch");
  } else {
    record.remote = scope.remote;
    const token = proxyToken(req.headers.get("proxy-authorization"));
    const found = token ? ctx.snapshot.authenticate(token) : undefined;
    if (url.protocol !== "http:") return deny("bad-target");
    host = normalizeHost(url.hostname);
    port = Number(url.port) || 80;
    record.host = host;
    record.port = port;
    if (!found) {
      const delay = ctx.throttle.fail(addressOf(scope.remote));
      if (delay) await new Promise((r) => setTimeout(r, delay));
      return deny(token ? "proxy-auth-invalid" : "proxy-auth-required");
    }
    client = found.name;
    record.client = client;
  }

  const decision = decide(ctx.snapshot.rules(client), {
    host,
    port,
    method: req.method,
    path: url.pathname,
    now: Date.now(),
  });
  if (!decision.allow) return deny(decision.reason);

  let credential: Credential | undefined;
  const secretName = decision.rule.record.secret;
  if (secretName) {
    credential = ctx.snapshot.credential(secretName);
    if (!credential) return deny("secret-missing");
    if (!hostMatches(credential.host, host)) credential = undefined;
    else if (scope.scheme === "http") return deny("secret-needs-tls");
  }

  let dial: Dial;
  if (scope.scheme === "https") {
    dial = scope.tunnel.dial;
  } else {
    try {
      dial = await ctx.destinations.pick(host, port, decision.rule.record.allowPrivate);
    } catch (err) {
      return deny(err instanceof DestinationError ? err.reason : "upstream-connect-failed");
    }
  }

  const headers = forwardedHeaders(req);
  if (!headers.has("host")) headers.set("host", url.host);
  if (credential) {
    try {
      await credential.apply(headers, url);
    } catch (err) {
      return deny(err instanceof CredentialError ? err.reason : "credential-refresh-failed");
    }
    record.inject = credential.name;
  }

  if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
    const unpin = ctx.dialer.pin(host, port, dial);
    try {
      const scrubber = scrubberFor(credential?.sensitiveValues() ?? []);
      return await relayWebSocket(
        ctx.dialer.client,
        req,
        url,
        { host, port, headers, scrubber },
        (status, reason, up, down) => {
          record.bytes_up = up;
          record.bytes_down = down;
          finish(status, reason ? "error" : "allow", reason);
        },
      );
    } finally {
      unpin();
    }
  }

  const up = { bytes: 0 };
  // Small bodies with a length are read whole: one write each way costs less than a stream.
  // (req.bytes() before anything touches req.body: the getter builds a stream that bytes() must then drain.)
  let body: Uint8Array | ReadableStream<Uint8Array> | null;
  if (smallLength(req.headers.get("content-length"))) {
    body = await req.bytes();
    up.bytes = body.length;
  } else {
    body = req.body;
  }
  let upstreamRes;
  try {
    upstreamRes = await ctx.upstream.request({
      scheme: scope.scheme,
      host,
      port,
      dial,
      method: req.method,
      path: url.pathname + url.search,
      headers: headers.pairs,
      body,
      sent: up,
    });
  } catch (err) {
    record.bytes_up = up.bytes;
    return deny(err instanceof UpstreamError ? err.reason : "upstream-error");
  }
  const status = upstreamRes.status;
  if (status < 200 || status > 599) {
    upstreamRes.body?.cancel();
    return deny("upstream-error");
  }
  // An upstream that echoes the injected secret back (an echo server, a debug page) gets it scrubbed.
  const scrubber = credential ? scrubberFor(credential.sensitiveValues()) : undefined;
  const relayed = relayedHeaders(upstreamRes.headers);
  const resHeaders = scrubber?.active ? scrubber.headers(relayed) : relayed;
  const length = relayed.find(([n]) => n === "content-length")?.[1];
  // No statusText: the server veil answers with sends the standard reason phrase whatever it is given.
  const init = { status, headers: resHeaders };
  const done = (bytes: number, error?: unknown) => {
    record.bytes_up = up.bytes;
    record.bytes_down = bytes;
    finish(status, error ? "error" : "allow", error ? "stream-interrupted" : undefined);
  };
  if (upstreamRes.body === null) {
    done(0);
    return new Response(null, init);
  }
  if (smallLength(length)) {
    let whole: Uint8Array<ArrayBuffer>;
    try {
      whole = await readAll(upstreamRes.body);
    } catch (err) {
      done(0, err);
      return deny("upstream-error");
    }
    if (scrubber?.active) scrubber.inPlace(whole);
    done(whole.length);
    return new Response(whole, init);
  }
  return new Response(
    relayBody(upstreamRes.body, done, scrubber?.active ? scrubber.streaming() : undefined),
    init,
  );
}

const SMALL_BODY = 64 * 1024;

function smallLength(header: string | null | undefined): boolean {
  return header !== null && header !== undefined && /^\d{1,6}$/.test(header) && Number(header) <= SMALL_BODY;
}
