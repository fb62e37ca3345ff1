import { AuditSink } from "../audit/sink.ts";
import type { Store } from "../state/store.ts";
import { loadCa } from "../tls/ca.ts";
import { LeafMinter } from "../tls/leaf.ts";
import { Destinations, type OwnAddresses, ownAddresses } from "./destinations.ts";
import { startDialer } from "./dialer.ts";
import { serveFrontDoor } from "./frontdoor.ts";
import { type HandlerContext, handleRequest } from "./handler.ts";
import { Interceptors } from "./interceptors.ts";
import { ReleaseAfterBurst } from "./memory.ts";
import { setListenerNoDelay } from "./nodelay.ts";
import type { Limits } from "./limits.ts";
import { AuthThrottle } from "./throttle.ts";
import { outboundFetch } from "./outbound.ts";
import { Snapshot } from "./snapshot.ts";
import { TunnelRegistry } from "./tunnels.ts";
import { type ConnectTo, Upstream } from "./upstream.ts";

export interface ProxyOptions {
  store: Store;
  listen?: { hostname: string; port: number };
  listenTls?: { hostname: string; port: number };
  tlsNames: string[];
  upstreamCaPems: string[];
  connectTo: Map<string, ConnectTo>;
  /** --dns ADDR:PORT; the system resolver when absent. */
  dns?: { ipAddr: string; port: number };
  auditFile?: Deno.FsFile;
  auditStdout: boolean;
  auditRetentionMs: number;
  limits: Limits;
}

export interface RunningProxy {
  addrs: { plain?: Deno.NetAddr; tls?: Deno.NetAddr };
  close(): Promise<void>;
}

function tlsListenerNames(hostname: string, extra: string[]): string[] {
  const names = new Set(["localhost", "127.0.0.1", "::1", ...extra]);
  if (hostname === "0.0.0.0" || hostname === "::") {
    for (const nic of Deno.networkInterfaces()) names.add(nic.address);
  } else {
    names.add(hostname);
  }
  try {
    names.add(Deno.hostname());
  } catch { /* no hostname */ }
  return [...names];
}

/** Starts the front doors, the interception servers and the state poller. */
export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const { store } = options;
  const ca = await loadCa(store);
  const minter = await LeafMinter.create(ca);
  const upstream = new Upstream({ extraCaPems: options.upstreamCaPems });
  // Filled in once the listeners are bound (their ports may be chosen by the system).
  const own: OwnAddresses = { sockets: new Set(), hosts: new Set() };
  const destinations = new Destinations({ connectTo: options.connectTo, dns: options.dns, own });
  const dialer = startDialer(destinations, upstream.extraCa);
  const snapshot = new Snapshot(store, {
    kv: store.kv,
    sealer: store.sealer,
    fetch: outboundFetch(dialer.client),
  });
  await snapshot.start();
  const audit = new AuditSink({
    kv: store.kv,
    file: options.auditFile,
    stdout: options.auditStdout,
    retentionMs: options.auditRetentionMs,
  });
  const tunnels = new TunnelRegistry();
  const throttle = new AuthThrottle();
  const ctx: HandlerContext = { snapshot, audit, upstream, destinations, dialer, throttle };

  const interceptors = new Interceptors(minter, (req, serverPort, remotePort) => {
    const tunnel = tunnels.get(serverPort, remotePort);
    if (!tunnel) return Promise.resolve(new Response("veil: unknown tunnel\n", { status: 500 }));
    return handleRequest(ctx, req, { scheme: "https", tunnel });
  });

  const plain: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    onError: () => new Response("veil: internal error\n", { status: 500 }),
  }, (req, info): Promise<Response> => {
    const remote: string = tunnels.remote(plain.addr.port, (info.remoteAddr as Deno.NetAddr).port);
    return handleRequest(ctx, req, { scheme: "http", remote });
  });

  const frontCtx = {
    snapshot,
    audit,
    interceptors,
    tunnels,
    destinations,
    throttle,
    plainPort: () => plain.addr.port,
    limits: options.limits,
    connections: new ReleaseAfterBurst(),
  };
  const listeners: Deno.Listener[] = [];
  const addrs: RunningProxy["addrs"] = {};
  if (options.listen) {
    const l = Deno.listen({ ...options.listen, transport: "tcp" });
    listeners.push(l);
    addrs.plain = l.addr as Deno.NetAddr;
  }
  if (options.listenTls) {
    const names = tlsListenerNames(options.listenTls.hostname, options.tlsNames);
    const leaf = await minter.mint(names);
    const l = Deno.listenTls({ ...options.listenTls, cert: leaf.certPem + ca.certPem, key: leaf.keyPem });
    listeners.push(l);
    addrs.tls = l.addr as Deno.NetAddr;
  }
  setListenerNoDelay(plain.addr.port);
  for (const l of listeners) setListenerNoDelay((l.addr as Deno.NetAddr).port);
  const bound = ownAddresses(listeners.map((l) => l.addr as Deno.NetAddr));
  bound.sockets.forEach((s) => own.sockets.add(s));
  bound.hosts.forEach((h) => own.hosts.add(h));
  const loops = listeners.map((l) => serveFrontDoor(frontCtx, l));

  return {
    addrs,
    async close() {
      for (const l of listeners) l.close();
      await Promise.allSettled(loops);
      await Promise.race([snapshot.stop(), new Promise((r) => setTimeout(r, 10_000))]);
      await Promise.race([
        Promise.allSettled([interceptors.close(), plain.shutdown()]),
        new Promise((r) => setTimeout(r, 2000)),
      ]);
      frontCtx.connections.stop();
      dialer.close();
      upstream.close();
      await audit.flush();
    },
  };
}
