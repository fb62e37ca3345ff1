/** One audited event: a request, a tunnel, or a denial. Never holds a value or token. */
export interface AuditRecord {
  time: string;
  msg: "allow" | "deny" | "error";
  client?: string;
  method: string;
  host?: string;
  port?: number;
  /** Path without the query string. */
  path?: string;
  status: number;
  reason?: string;
  /** The secret's name, when one was injected. */
  inject?: string;
  bytes_up: number;
  bytes_down: number;
  duration_ms: number;
  remote?: string;
}

const ORDER: (keyof AuditRecord)[] = [
  "time",
  "msg",
  "client",
  "method",
  "host",
  "port",
  "path",
  "inject",
  "status",
  "reason",
  "bytes_up",
  "bytes_down",
  "duration_ms",
  "remote",
];

function logfmtValue(value: unknown): string {
  const text = String(value);
  return /^[^\s"=\\]+$/.test(text) ? text : JSON.stringify(text);
}

/** `time=... msg=allow client=sbox-1 method=POST host=... status=200 ...` */
export function toLogfmt(record: AuditRecord): string {
  const parts: string[] = [];
  for (const key of ORDER) {
    const value = record[key];
    if (value === undefined || value === "") continue;
    parts.push(`${key}=${logfmtValue(value)}`);
  }
  return parts.join(" ");
}
