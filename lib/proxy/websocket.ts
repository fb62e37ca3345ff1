import type { HeaderList } from "./header_list.ts";
import type { Scrubber } from "./scrub.ts";

const HANDSHAKE = new Set([
  "host",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
]);
const OPEN_TIMEOUT_MS = 30_000;

type Done = (status: number, reason: string | undefined, up: number, down: number) => void;

function size(data: unknown): number {
  if (typeof data === "string") return new TextEncoder().encode(data).length;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (data instanceof Blob) return data.size;
  return 0;
}

function sendableCode(code: number): number {
  return code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
}

/** Opens the upstream WebSocket first (so its subprotocol can be answered), then relays messages both ways. */
export async function relayWebSocket(
  client: Deno.HttpClient,
  req: Request,
  url: URL,
  to: { host: string; port: number; headers: HeaderList; scrubber: Scrubber },
  done: Done,
): Promise<Response> {
  const { host, port, headers, scrubber } = to;
  const protocols = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim())
    .filter(Boolean);
  const upstreamHeaders = new Headers();
  for (const [name, value] of headers.pairs) if (!HANDSHAKE.has(name)) upstreamHeaders.append(name, value);
  const scheme = url.protocol === "https:" ? "wss" : "ws";
  const target = `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}${url.pathname}${url.search}`;
  const upstream = new WebSocket(target, { protocols, headers: upstreamHeaders, client });
  upstream.binaryType = "arraybuffer";
  const opened = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), OPEN_TIMEOUT_MS);
    upstream.onopen = () => {
      clearTimeout(timer);
      resolve(true);
    };
    upstream.onerror = () => {
      clearTimeout(timer);
      resolve(false);
    };
  });
  if (!opened) {
    try {
      upstream.close();
    } catch { /* never opened */ }
    done(502, "upstream-connect-failed", 0, 0);
    return new Response("veil: failed: upstream-connect-failed\n", {
      status: 502,
      headers: { "x-veil-reason": "upstream-connect-failed" },
    });
  }
  const { socket, response } = Deno.upgradeWebSocket(req, {
    protocol: upstream.protocol || undefined,
    idleTimeout: 0,
  });
  socket.binaryType = "arraybuffer";
  let up = 0;
  let down = 0;
  let finished = false;
  const pending: (string | ArrayBuffer)[] = [];
  const finish = () => {
    if (finished) return;
    finished = true;
    done(101, undefined, up, down);
  };
  socket.onopen = () => {
    for (const m of pending.splice(0)) socket.send(m);
  };
  socket.onmessage = (e) => {
    up += size(e.data);
    if (upstream.readyState === WebSocket.OPEN) upstream.send(e.data);
  };
  upstream.onmessage = (e) => {
    down += size(e.data);
    const data = !scrubber.active
      ? e.data
      : typeof e.data === "string"
      ? scrubber.text(e.data)
      : scrubber.bytes(new Uint8Array(e.data)).slice().buffer;
    if (socket.readyState === WebSocket.OPEN) socket.send(data);
    else pending.push(data);
  };
  socket.onclose = (e) => {
    if (upstream.readyState <= WebSocket.OPEN) upstream.close(sendableCode(e.code), e.reason);
    finish();
  };
  upstream.onclose = (e) => {
    if (socket.readyState <= WebSocket.OPEN) socket.close(sendableCode(e.code), e.reason);
    finish();
  };
  socket.onerror = () => upstream.close();
  upstream.onerror = () => socket.readyState <= WebSocket.OPEN && socket.close(1011);
  return response;
}
