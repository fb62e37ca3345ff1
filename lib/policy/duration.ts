import { VeilError } from "../errors.ts";

const UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 };

/** Parses `90s`, `15m`, `1h30m`, `7d` into milliseconds. */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+)([smhdw])/g)];
  const joined = parts.map((p) => p[0]).join("");
  if (parts.length === 0 || joined !== text) {
    throw new VeilError(`Invalid duration ${text}: use a number and a unit, like 30s, 15m, 2h or 7d`);
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]], 0);
  if (ms <= 0) throw new VeilError(`Invalid duration ${text}: it must be more than zero`);
  return ms;
}
