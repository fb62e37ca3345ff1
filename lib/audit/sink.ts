import { keys } from "../state/store.ts";
import { type AuditRecord, toLogfmt } from "./record.ts";

const encoder = new TextEncoder();
/** Short, so that each flush is small: formatting a big batch at once stalls the requests behind it. */
const FLUSH_MS = 50;
/** Records go to KV many to an entry (a KV write per record cost more than the request did). */
const KV_ENTRY_RECORDS = 100;
/** Kept under KV's 64 KiB value limit; a longer path is cut short in KV only. */
const KV_ENTRY_BYTES = 48 * 1024;
const KV_PATH_MAX = 4096;

export interface AuditSinkOptions {
  kv: Deno.Kv;
  /** Where JSON lines go, if anywhere. */
  file?: Deno.FsFile;
  /** Write logfmt lines to stdout (the default). */
  stdout: boolean;
  retentionMs: number;
}

/**
 * Collects audit records off the hot path: requests only push to a queue,
 * and a timer writes stdout, the JSON log and KV in batches.
 */
export class AuditSink {
  private queue: AuditRecord[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private seq = 0;

  constructor(private readonly options: AuditSinkOptions) {}

  write(record: AuditRecord): void {
    this.queue.push(record);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Writes everything queued so far; resolves when it is on disk. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    this.flushing = this.flushing.then(() => this.writeBatch(batch)).catch((err) => {
      console.error(`veil: cannot write audit records: ${(err as Error).message}`);
    });
    return this.flushing;
  }

  private async writeBatch(batch: AuditRecord[]): Promise<void> {
    if (batch.length === 0) return;
    if (this.options.stdout) {
      await writeAll(Deno.stdout, batch.map((r) => toLogfmt(r) + "\n").join(""));
    }
    if (this.options.file) {
      await writeAll(this.options.file, batch.map((r) => JSON.stringify(r) + "\n").join(""));
    }
    const entries = kvEntries(batch);
    // The key's time is when the entry is written: every record in it started at or before then.
    const now = Date.now();
    for (let i = 0; i < entries.length; i += 10) {
      const op = this.options.kv.atomic();
      for (const entry of entries.slice(i, i + 10)) {
        op.set([...keys.audit, now, this.seq++, crypto.randomUUID().slice(0, 8)], entry, {
          expireIn: this.options.retentionMs,
        });
      }
      await op.commit();
    }
  }
}

/** Splits records into KV values of at most KV_ENTRY_RECORDS records and about KV_ENTRY_BYTES. */
function kvEntries(batch: AuditRecord[]): AuditRecord[][] {
  const entries: AuditRecord[][] = [];
  let current: AuditRecord[] = [];
  let size = 0;
  for (let record of batch) {
    if (record.path && record.path.length > KV_PATH_MAX) {
      record = { ...record, path: record.path.slice(0, KV_PATH_MAX) + "...(cut)" };
    }
    const estimate = 512 + (record.path?.length ?? 0);
    if (current.length === KV_ENTRY_RECORDS || (current.length && size + estimate > KV_ENTRY_BYTES)) {
      entries.push(current);
      current = [];
      size = 0;
    }
    current.push(record);
    size += estimate;
  }
  if (current.length) entries.push(current);
  return entries;
}

async function writeAll(w: { write(p: Uint8Array): Promise<number> }, text: string): Promise<void> {
  let data = encoder.encode(text);
  while (data.length) data = data.subarray(await w.write(data));
}
