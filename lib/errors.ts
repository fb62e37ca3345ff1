/** An expected failure: printed as one line, never with a stack trace. */
export class VeilError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = "VeilError";
  }
}

/** Bad command-line input: exit code 2. */
export class UsageError extends VeilError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}

/** The message of any thrown value, on one line. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, " ").trim();
}
