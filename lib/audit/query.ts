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

/** Audit records from `start` (epoch ms) on, oldest first, with the key to continue after. */
export async function readAudit(
  kv: Deno.Kv,
  start: number,
  after?: Deno.KvKey,
): Promise<{ records: AuditRecord[]; last?: Deno.KvKey }> {
  const records: AuditRecord[] = [];
  let last = after;
  const selector = after
    ? { start: [...after, ""] as Deno.KvKey, end: [...keys.audit, Number.MAX_SAFE_INTEGER] as Deno.KvKey }
    : {
      start: [...keys.audit, start] as Deno.KvKey,
      end: [...keys.audit, Number.MAX_SAFE_INTEGER] as Deno.KvKey,
    };
  for await (const entry of kv.list<AuditRecord>(selector)) {
    records.push(entry.value);
    last = entry.key;
  }
  return { records, last };
}
