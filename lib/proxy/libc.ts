// The few libc calls veil makes where Deno has no API: socket options on listening sockets
// (nodelay.ts) and handing freed memory back to the system (memory.ts). Linux with glibc and
// --allow-ffi only; elsewhere libc() is null and callers do without.

export type Libc = {
  symbols: {
    setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
    getsockopt(fd: number, level: number, name: number, value: Uint8Array, len: Uint8Array): number;
    getsockname(fd: number, addr: Uint8Array, len: Uint8Array): number;
    malloc_trim(pad: number | bigint): number;
  };
};
let loaded: Libc | null | undefined;

export function libc(): Libc | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  try {
    if (Deno.build.os !== "linux" || Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      return null;
    }
    loaded = Deno.dlopen("libc.so.6", {
      setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
      getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
      getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
      malloc_trim: { parameters: ["usize"], result: "i32" },
    }) as unknown as Libc;
  } catch {
    loaded = null;
  }
  return loaded;
}
