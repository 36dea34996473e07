/**
 * Reading the data a command is given: JSON text from an argument, a file
 * or stdin, with a parse failure that says where it is.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { CommandError, UsageError } from './errors.ts';

/** One line of text and its number, from 1. */
export interface NumberedLine {
  text: string;
  line: number;
}

/**
 * Parses JSON `text`. A failure is a UsageError that names `where` (the
 * data argument, a file, a line of stdin) and the line and column.
 *
 * @example
 * parseJson('{"a":', 'the data argument');
 * // UsageError: the data argument is not valid JSON: it ends too early
 */
export function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${where} is not valid JSON: ${jsonProblem(text, error)}`,
    );
  }
}

/** The whole content of `file`, or of stdin for `-`. */
export async function readBytes(file: string): Promise<Uint8Array> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));

    return Buffer.concat(chunks);
  }
  try {
    return await readFile(file);
  } catch (error) {
    throw fileError(file, error);
  }
}

/** The content of `file` (or stdin for `-`) as UTF-8 text. */
export async function readText(file: string): Promise<string> {
  return Buffer.from(await readBytes(file)).toString('utf8');
}

/** The lines of stdin that hold something, numbered from 1. */
export async function* stdinLines(): AsyncIterable<NumberedLine> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() !== '') yield { text, line };
  }
}

/**
 * A failure to open or read `file` as a one-line error: `cannot read
 * orders.json: no such file`.
 */
export function fileError(file: string, error: unknown): CommandError {
  const code = (error as { code?: string }).code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EISDIR: 'it is a folder',
    ENOTDIR: 'a part of the path is not a folder',
  };
  const reason =
    (code !== undefined ? reasons[code] : undefined) ??
    (error instanceof Error ? error.message : String(error));
  return new CommandError(`cannot read ${file}: ${reason}`, { cause: error });
}

function jsonProblem(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/end of JSON input/.test(message)) {
    return text.trim() === '' ? 'it is empty' : 'it ends too early';
  }

  const position = /at position (\d+)/.exec(message)?.[1];
  const reason = message
    .replace(/ in JSON at position.*$/, '')
    .replace(/ after JSON at position.*$/, ' after the value')
    .replace(/, ".*" is not valid JSON$/, '');
  const at =
    position === undefined
      ? locateToken(text, message)
      : lineAndColumn(text, Number(position));
  const hint =
    /^\s*[A-Za-z]/.test(text) && !/^\s*(true|false|null)\b/.test(text)
      ? ` (text must be quoted: '"${text.trim()}"')`
      : '';

  return `${lowerFirst(reason)}${at}${hint}`;
}

/** Where the unexpected token of a V8 message is, if it names one. */
function locateToken(text: string, message: string): string {
  const token = /^Unexpected token '(.)'/.exec(message)?.[1];
  if (token === undefined) return '';
  const index = firstSuspect(text, token);
  return index < 0 ? '' : lineAndColumn(text, index);
}

/**
 * The first place `token` can be the one the parser refused: outside a
 * string, or anywhere when that finds nothing.
 */
function firstSuspect(text: string, token: string): number {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === token) {
      return i;
    }
  }
  return text.indexOf(token);
}

function lineAndColumn(text: string, index: number): string {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  const column = index - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column}`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
