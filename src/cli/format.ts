/**
 * Turning values into text for people: tables, times, decoded data. Bytes
 * inside data are shown as `{"$bytes":"<base64>"}`, in JSON output too,
 * so that any value prints as JSON.
 */

/**
 * `value` made JSON-ready: every `Uint8Array` becomes `{ $bytes: base64 }`,
 * a `Map` an object, a BigInt its decimal text.
 */
export function toJsonValue(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    return { $bytes: Buffer.from(value).toString('base64') };
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Map) {
    return Object.fromEntries(
      [...value].map(([k, v]) => [String(k), toJsonValue(v)]),
    );
  }
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, toJsonValue(v)]),
    );
  }
  return value;
}

/** Data as compact JSON on one line. */
export function formatData(value: unknown): string {
  return JSON.stringify(toJsonValue(value)) ?? String(value);
}

/** A time (ms since the epoch, or a Date) as ISO 8601. */
export function formatTime(time: number | Date | undefined): string {
  if (time === undefined) return '-';
  return (time instanceof Date ? time : new Date(time)).toISOString();
}

/** Attributes as `k=v k=v`, or `-` when there are none. */
export function formatAttributes(attributes: Record<string, string>): string {
  const entries = Object.entries(attributes);
  if (entries.length === 0) return '-';
  return entries.map(([k, v]) => `${k}=${v}`).join(' ');
}

/**
 * `count` and the noun, plural when needed: `1 message`, `2 messages`,
 * or `nouns` for an irregular plural.
 */
export function plural(count: number, noun: string, nouns = `${noun}s`) {
  return `${count} ${count === 1 ? noun : nouns}`;
}

/**
 * Rows aligned in columns two spaces apart, headers first. The last column
 * is not padded, so a long reason does not widen the others.
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string[] {
  const all = [headers, ...rows];
  const widths = headers.map((_, column) =>
    Math.max(...all.map((row) => (row[column] ?? '').length)),
  );

  return all.map((row) =>
    row
      .map((cell, column) =>
        column === row.length - 1 ? cell : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd(),
  );
}
