// After a burst of connections ends, veil hands the memory back. Left alone, V8 keeps its grown
// heap and the garbage the burst left (with the native buffers it holds), and glibc keeps freed
// blocks: 1,000 tunnels opened and closed left RSS about twice its idle size for as long as we
// watched. A full collection (where `--v8-flags=--expose-gc` allows it) and malloc_trim return it.
import { libc } from "./libc.ts";

/** What deno.json's tasks pass veil (keep them alike): gc() for releaseMemory, a small young generation. */
export const V8_FLAGS = "--v8-flags=--expose-gc,--max-semi-space-size=2";

/**
 * Collects garbage and trims the C heap, what is available of the two. V8's "last resort"
 * collection also frees the backing stores of dead ArrayBuffers at once (a plain one left them, and
 * the memory they hold, for later). Twice, a moment apart: finalizers that run after the first pass
 * free more native memory.
 */
export function releaseMemory(): void {
  const gc = (globalThis as { gc?: (options?: { type: string; flavor: string }) => void }).gc;
  const pass = () => {
    gc?.({ type: "major", flavor: "last-resort" });
    try {
      libc()?.symbols.malloc_trim(0);
    } catch { /* not glibc */ }
  };
  pass();
  const again = setTimeout(pass, 500);
  Deno.unrefTimer(again);
}

/**
 * Counts open connections and calls `release` once they have fallen to a quarter of a peak of at
 * least `minPeak`, and stayed there for `quietMs`.
 */
export class ReleaseAfterBurst {
  private open = 0;
  private peak = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly release: () => void = releaseMemory,
    private readonly minPeak = 64,
    private readonly quietMs = 2000,
  ) {}

  opened(): void {
    this.open++;
    if (this.open > this.peak) this.peak = this.open;
  }

  closed(): void {
    this.open--;
    if (this.peak < this.minPeak || this.open > this.peak / 4 || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.open > this.peak / 4) return;
      this.peak = this.open;
      this.release();
    }, this.quietMs);
    Deno.unrefTimer(this.timer);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
