// Small assertions (JSR's @std/assert is not reachable here); node:assert does the deep work.
import nodeAssert from "node:assert/strict";

export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, message);
}

export function assertMatch(actual: string, pattern: RegExp, message?: string): void {
  if (!pattern.test(actual)) {
    throw new Error(message ?? `${JSON.stringify(actual)} does not match ${pattern}`);
  }
}

export function assertStringIncludes(actual: string, expected: string, message?: string): void {
  if (!actual.includes(expected)) {
    throw new Error(
      message ?? `expected ${JSON.stringify(actual.slice(0, 500))} to include ${JSON.stringify(expected)}`,
    );
  }
}

export function assertNotIncludes(haystack: string | Uint8Array, needle: string, where: string): void {
  const text = typeof haystack === "string" ? haystack : new TextDecoder("latin1").decode(haystack);
  if (text.includes(needle)) throw new Error(`${where} contains a secret (${needle.slice(0, 4)}...)`);
}
