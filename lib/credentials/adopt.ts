import { VeilError } from "../errors.ts";
import { isLoopbackHttp } from "../proxy/outbound.ts";

/** Parses an adopted credentials file as a JSON object, or says why it is not one. */
export function parseJsonFile(type: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new VeilError(`Invalid ${type} file: not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new VeilError(`Invalid ${type} file: not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Reads a field by dotted path, requiring a non-empty string (or, with `kind`, another type). */
export function field(type: string, obj: Record<string, unknown>, path: string): string {
  const value = lookup(obj, path);
  if (typeof value !== "string" || value.length === 0) {
    throw new VeilError(`Invalid ${type} file: missing ${path}`);
  }
  return value;
}

export function optionalString(obj: Record<string, unknown>, path: string): string | undefined {
  const value = lookup(obj, path);
  return typeof value === "string" && value.length ? value : undefined;
}

export function optionalNumber(type: string, obj: Record<string, unknown>, path: string): number | undefined {
  const value = lookup(obj, path);
  if (value === undefined || value === null) return undefined;
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n)) {
    throw new VeilError(`Invalid ${type} file: ${path} is not a number`);
  }
  return n;
}

/** A time given as ISO text, epoch seconds or epoch ms, as epoch ms. */
export function optionalTime(type: string, obj: Record<string, unknown>, path: string): number | undefined {
  const value = lookup(obj, path);
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number") return value < 1e12 ? value * 1000 : value;
  if (typeof value === "string") {
    const parsed = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (Number.isFinite(parsed)) return parsed < 1e12 ? parsed * 1000 : parsed;
  }
  throw new VeilError(`Invalid ${type} file: ${path} is not a time`);
}

function lookup(obj: Record<string, unknown>, path: string): unknown {
  let value: unknown = obj;
  for (const part of path.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export function checkEndpoint(type: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new VeilError(`Invalid token endpoint for ${type}: ${url}`);
  }
  if (parsed.protocol !== "https:" && !isLoopbackHttp(parsed)) {
    throw new VeilError(
      `Invalid token endpoint for ${type}: ${url} must be https:// (http:// only to loopback)`,
    );
  }
  return parsed.href;
}
