import { keys } from "../state/store.ts";
import { type AuditRecord, toLogfmt } from "./record.ts";

const encoder = new TextEncoder();
const FLUSH_MS = 200;
const KV_BATCH = 200;

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
    for (let i = 0; i < batch.length; i += KV_BATCH) {
      const op = this.options.kv.atomic();
      for (const record of batch.slice(i, i + KV_BATCH)) {
        const key = [...keys.audit, Date.parse(record.time), this.seq++, crypto.randomUUID().slice(0, 8)];
        op.set(key, record, { expireIn: this.options.retentionMs });
      }
      await op.commit();
    }
  }
}

async function writeAll(w: { write(p: Uint8Array): Promise<number> }, text: string): Promise<void> {
  let data = encoder.encode(text);
  while (data.length) data = data.subarray(await w.write(data));
}
