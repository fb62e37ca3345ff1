import { hostMatches } from "../policy/host.ts";
import { keys } from "../state/store.ts";
import type { AuditRecord } from "./record.ts";

export interface AuditFilter {
  client?: string;
  /** Exact host or `*.example.com`. */
  host?: string;
  sinceMs?: number;
}

export function matches(record: AuditRecord, filter: AuditFilter): boolean {
  if (filter.client && record.client !== filter.client) return false;
  if (filter.host && !(record.host && hostMatches(filter.host, record.host))) return false;
  return true;
}

/**
 * Audit records from `start` (epoch ms) on, oldest first, with the key to continue after.
 * Entries hold many records each, keyed by when they were written (see sink.ts).
 */
export async function readAudit(
  kv: Deno.Kv,
  start: number,
  after?: Deno.KvKey,
): Promise<{ records: AuditRecord[]; last?: Deno.KvKey }> {
  const records: AuditRecord[] = [];
  let last = after;
  const end = [...keys.audit, Number.MAX_SAFE_INTEGER] as Deno.KvKey;
  const selector = after
    ? { start: [...after, ""] as Deno.KvKey, end }
    : { start: [...keys.audit, start], end };
  for await (const entry of kv.list<AuditRecord[] | AuditRecord>(selector)) {
    // State written before records were batched holds one record an entry.
    const batch = Array.isArray(entry.value) ? entry.value : [entry.value];
    for (const record of batch) if (Date.parse(record.time) >= start) records.push(record);
    last = entry.key;
  }
  records.sort((a, b) => a.time < b.time ? -1 : a.time > b.time ? 1 : 0);
  return { records, last };
}
