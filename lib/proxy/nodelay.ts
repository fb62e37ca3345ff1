// Deno gives no way to set TCP_NODELAY on the sockets Deno.serve and Deno.listenTls accept, and
// with Nagle's algorithm on, a response head and its body leave as two writes, the second held
// until the peer's delayed ACK (40 ms on Linux). On Linux, accepted sockets inherit TCP_NODELAY
// from their listening socket, so veil sets it there, through libc, when it may (--allow-ffi).

import { type Libc, libc } from "./libc.ts";

const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;

const SOL_SOCKET = 1;
const SO_ACCEPTCONN = 30;
const AF_INET = 2;
const AF_INET6 = 10;

/** The local port of a socket fd, when it is a listening TCP socket. */
function listeningPort(lib: Libc, fd: number): number | undefined {
  const addr = new Uint8Array(128);
  const len = new Uint8Array(new Uint32Array([128]).buffer);
  if (lib.symbols.getsockname(fd, addr, len) !== 0) return undefined;
  const family = addr[0] | (addr[1] << 8);
  if (family !== AF_INET && family !== AF_INET6) return undefined;
  const flag = new Uint8Array(4);
  const flagLen = new Uint8Array(new Uint32Array([4]).buffer);
  if (lib.symbols.getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, flag, flagLen) !== 0 || flag[0] !== 1) {
    return undefined;
  }
  return (addr[2] << 8) | addr[3];
}

/** Sets TCP_NODELAY on the listening socket bound to this port; false where it cannot. */
export function setListenerNoDelay(port: number): boolean {
  const lib = libc();
  if (!lib) return false;
  try {
    const one = new Uint8Array(new Int32Array([1]).buffer);
    let done = false;
    for (const entry of Deno.readDirSync("/proc/self/fd")) {
      const fd = Number(entry.name);
      if (listeningPort(lib, fd) !== port) continue;
      done = lib.symbols.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4) === 0 || done;
    }
    return done;
  } catch {
    return false;
  }
}
