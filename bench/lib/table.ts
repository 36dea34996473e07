/** Plain-text tables and number formats for the terminal. */

/** One line of the results table. */
export interface Row {
  scenario: string;
  /** What was measured: a provider, or the raw driver. */
  subject: string;
  /** How it was driven. */
  measure: string;
  /** The headline figure. */
  result: string;
  detail: string;
}

const HEADERS: Row = {
  scenario: 'scenario',
  subject: 'subject',
  measure: 'measure',
  result: 'result',
  detail: 'detail',
};

const COLUMNS = ['scenario', 'subject', 'measure', 'result', 'detail'] as const;

/**
 * `rows` as an aligned table under a header line; the result column is
 * aligned right, so that rates line up by their digits.
 */
export function formatTable(rows: readonly Row[]): string {
  const all = [HEADERS, ...rows];
  const widths = COLUMNS.map((column) =>
    Math.max(...all.map((row) => row[column].length)),
  );
  const line = (row: Row): string =>
    COLUMNS.map((column, index) => {
      const width = widths[index]!;
      return column === 'result'
        ? row[column].padStart(width)
        : row[column].padEnd(width);
    })
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');

  return [line(HEADERS), rule, ...rows.map(line)].join('\n');
}

/** `61,234 msg/s`. */
export function perSecond(rate: number): string {
  return `${grouped(rate)} msg/s`;
}

/** `1,000,000`. */
export function grouped(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** `0.84 ms`. */
export function ms(value: number): string {
  return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
}

/** `123.4 MiB`. */
export function mib(value: number): string {
  return `${value.toFixed(1)} MiB`;
}

/** `3.27 s`. */
export function seconds(value: number): string {
  return `${value.toFixed(2)} s`;
}

/**
 * `, 1,234 B written/msg` for a figure that counts the bytes written to
 * storage per message, nothing for one that does not.
 */
export function written(figure: { writtenBytesPerMessage?: number }): string {
  const bytes = figure.writtenBytesPerMessage;
  return bytes === undefined ? '' : `, ${grouped(bytes)} B written/msg`;
}
