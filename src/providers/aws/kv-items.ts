/**
 * How a key-value entry is kept as a DynamoDB item: `key` (S, the
 * partition key), `value` (B), `revision` (N), `updatedAt` (N, ms) and,
 * in a bucket with a TTL, `expiresAt` (N, seconds since the epoch, the
 * table's TTL attribute).
 *
 * A revision is a decimal of the write's time in microseconds with a
 * random part, raised past the revision it replaces where that is known,
 * so that the revisions of one key increase with every write and two
 * writes of a key never share one.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { RawKvEntry } from '../../core/provider.ts';

/** Attribute names of an entry's item. */
export const ATTRIBUTES = {
  key: 'key',
  value: 'value',
  revision: 'revision',
  updatedAt: 'updatedAt',
  expiresAt: 'expiresAt',
} as const;

/**
 * Largest item a bucket writes, attribute names and values together, in
 * bytes: DynamoDB's 400 KB, counted in thousands, which every
 * DynamoDB-compatible endpoint accepts.
 */
export const ITEM_LIMIT_BYTES = 400_000;

/** Bytes a number attribute may take at most (38 significant digits). */
const NUMBER_BYTES = 21;

/** Longest key the core allows, in characters (all ASCII). */
const LONGEST_KEY = 512;

/**
 * Largest value a bucket stores under any valid key, in bytes: the item
 * limit less the key and the other attributes.
 */
export const MAX_VALUE_BYTES = valueLimit(LONGEST_KEY);

/** A DynamoDB item. */
export type Item = Record<string, AttributeValue>;

/** The largest value that fits in one item with key `key`, in bytes. */
export function valueLimit(key: string | number): number {
  const keyBytes =
    typeof key === 'number' ? key : Buffer.byteLength(key, 'utf8');
  const names = Object.values(ATTRIBUTES).reduce(
    (sum, name) => sum + name.length,
    0,
  );
  return ITEM_LIMIT_BYTES - names - keyBytes - 3 * NUMBER_BYTES;
}

/**
 * A new revision: the time in microseconds with a random part, above
 * `after` when it is given.
 */
export function nextRevision(after?: string): string {
  const fresh = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  const floor = after === undefined ? 0 : Number(after) + 1;
  return String(Number.isSafeInteger(floor) ? Math.max(fresh, floor) : fresh);
}

/** Whether `revision` can be a revision this provider wrote. */
export function isRevision(revision: string): boolean {
  return /^[1-9][0-9]{0,15}$/.test(revision);
}

/** The item of an entry written at `now`. */
export function toItem(
  key: string,
  value: Uint8Array,
  revision: string,
  now: number,
  ttlMs: number | undefined,
): Item {
  const item: Item = {
    [ATTRIBUTES.key]: { S: key },
    [ATTRIBUTES.value]: { B: value },
    [ATTRIBUTES.revision]: { N: revision },
    [ATTRIBUTES.updatedAt]: { N: String(now) },
  };
  if (ttlMs !== undefined) {
    item[ATTRIBUTES.expiresAt] = { N: String(Math.ceil((now + ttlMs) / 1000)) };
  }
  return item;
}

/**
 * Whether `item` is still live at `now`. DynamoDB removes expired items
 * up to some days late, so a read checks the expiry itself.
 */
export function isLive(item: Item, now: number): boolean {
  const expiresAt = item[ATTRIBUTES.expiresAt]?.N;
  return expiresAt === undefined || Number(expiresAt) * 1000 > now;
}

/** The entry `item` holds, or undefined when it is expired or foreign. */
export function toEntry(
  item: Item | undefined,
  now: number,
): RawKvEntry | undefined {
  if (item === undefined || !isLive(item, now)) return undefined;
  const key = item[ATTRIBUTES.key]?.S;
  const value = item[ATTRIBUTES.value]?.B;
  const revision = item[ATTRIBUTES.revision]?.N;
  if (key === undefined || value === undefined || revision === undefined) {
    return undefined;
  }
  return {
    key,
    value,
    revision,
    updatedAt: Number(item[ATTRIBUTES.updatedAt]?.N ?? 0),
  };
}

/** The live revision of `item`, if it has one. */
export function liveRevision(
  item: Item | undefined,
  now: number,
): string | undefined {
  return item !== undefined && isLive(item, now)
    ? item[ATTRIBUTES.revision]?.N
    : undefined;
}

/** Orders entries or keys by key, as their bytes compare. */
export function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
