/**
 * Where a command writes: results to stdout (text for people, or one JSON
 * object per line with `--json`), notes for people to stderr.
 */
import { formatTable, toJsonValue } from './format.ts';

/** Streams an {@link Output} writes to; the process's by default. */
export interface OutputStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** A command's output. */
export interface Output {
  /** Whether results are written as JSON lines. */
  readonly json: boolean;
  /** Writes one line of text to stdout. */
  line(text: string): void;
  /** Writes `value` as one JSON object on its own line to stdout. */
  record(value: unknown): void;
  /** Writes a table to stdout, or a note when it has no rows. */
  table(
    headers: readonly string[],
    rows: readonly (readonly string[])[],
    empty: string,
  ): void;
  /**
   * Writes a note for people to stderr: what happened besides the result.
   * Left out with `--json`, where stdout says it all.
   */
  note(text: string): void;
  /**
   * Writes a warning to stderr as `switchyard: warning: ...`, with
   * `--json` too: something a script should see but that is no failure.
   */
  warn(text: string): void;
  /** Writes bytes to stdout as they are, waiting when it is full. */
  bytes(chunk: Uint8Array): Promise<void>;
}

/** The output of a command, JSON lines when `json` is true. */
export function createOutput(
  json: boolean,
  streams: OutputStreams = process,
): Output {
  const { stdout, stderr } = streams;

  return {
    json,
    line: (text) => {
      stdout.write(`${text}\n`);
    },
    record: (value) => {
      stdout.write(`${JSON.stringify(toJsonValue(value))}\n`);
    },
    table: (headers, rows, empty) => {
      if (rows.length === 0) {
        if (!json) stderr.write(`${empty}\n`);
        return;
      }
      stdout.write(`${formatTable(headers, rows).join('\n')}\n`);
    },
    note: (text) => {
      if (!json) stderr.write(`${text}\n`);
    },
    warn: (text) => {
      stderr.write(`switchyard: warning: ${text}\n`);
    },
    bytes: (chunk) =>
      new Promise<void>((resolve, reject) => {
        stdout.write(chunk, (error) => (error ? reject(error) : resolve()));
      }),
  };
}
