/** Every reason veil denies or fails a request for, and the status it answers with. */
const STATUS: Record<string, number> = {
  "proxy-auth-required": 407,
  "proxy-auth-invalid": 407,
  "host-not-allowed": 403,
  "port-not-allowed": 403,
  "path-not-allowed": 403,
  "method-not-allowed": 403,
  "rule-expired": 403,
  "secret-needs-tls": 403,
  "private-destination": 403,
  "dns-failed": 502,
  "host-mismatch": 421,
  "bad-request": 400,
  "bad-request-line": 400,
  "bad-header": 400,
  "bad-target": 400,
  "incomplete-request": 400,
  "head-too-large": 431,
  "conflicting-framing": 400,
  "bad-content-length": 400,
  "bad-transfer-encoding": 400,
  "not-tls": 400,
  "sni-mismatch": 421,
  "too-many-connections": 429,
  "secret-missing": 502,
  "intercept-failed": 502,
  "credential-refresh-failed": 502,
  "github-app-mint-failed": 502,
  "github-app-installation-not-found": 502,
  "github-app-installation-ambiguous": 502,
  "upstream-tls-error": 502,
  "upstream-connect-failed": 502,
  "upstream-error": 502,
};

const TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  407: "Proxy Authentication Required",
  421: "Misdirected Request",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  502: "Bad Gateway",
};

export function statusFor(reason: string): number {
  return STATUS[reason] ?? 502;
}

export function statusText(status: number): string {
  return TEXT[status] ?? "Error";
}

/** Headers veil puts on its own answers (never on relayed ones). */
export function denialHeaders(reason: string): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "text/plain; charset=utf-8",
    "x-veil-reason": reason,
  };
  if (statusFor(reason) === 407) headers["proxy-authenticate"] = 'Basic realm="veil"';
  return headers;
}

export function denialBody(reason: string): string {
  return `veil: ${statusFor(reason) === 502 ? "failed" : "denied"}: ${reason}\n`;
}

/** One whole HTTP/1.1 answer for the raw front door; the connection is closed after it. */
export function rawDenial(
  reason: string,
  status = statusFor(reason),
  extra: Record<string, string> = {},
): Uint8Array {
  const body = denialBody(reason);
  const headers = {
    ...denialHeaders(reason),
    ...extra,
    "content-length": String(body.length),
    connection: "close",
  };
  const lines = [
    `HTTP/1.1 ${status} ${statusText(status)}`,
    ...Object.entries(headers).map(([k, v]) => `${titleCase(k)}: ${v}`),
  ];
  return new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n" + body);
}

export function denialResponse(reason: string): Response {
  return new Response(denialBody(reason), { status: statusFor(reason), headers: denialHeaders(reason) });
}

function titleCase(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash, c) => dash + c.toUpperCase());
}
