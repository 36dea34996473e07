/**
 * Bytes the process has written to storage, where the operating system
 * counts them (`/proc/self/io` on Linux): the WAL frames and checkpoints
 * of SQLite show up here, so a figure per message shows how many bytes
 * of disk traffic one 256-byte message costs.
 */
import { readFileSync } from 'node:fs';

const FIELD = /^write_bytes: (\d+)$/m;

/** Bytes written to storage so far, or undefined where not counted. */
export function writtenBytes(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const match = FIELD.exec(readFileSync('/proc/self/io', 'utf8'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}
