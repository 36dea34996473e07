/** How errors are written into dead-letter reasons and log fields. */

/**
 * `Name: message` for an Error, `thrown value: ...` for anything else,
 * so that a reason always says what was thrown.
 *
 * @example
 * describeError(new TypeError('bad hash')); // 'TypeError: bad hash'
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return `thrown value: ${String(error)}`;
}

/** Log fields for an error: its name and message, never its data. */
export function errorFields(error: unknown): Record<string, string> {
  if (error instanceof Error) {
    return { errorName: error.name, errorMessage: error.message };
  }
  return { errorName: typeof error, errorMessage: String(error) };
}
