/**
 * Removing a claim-checked object once every worker group listed in its
 * reference has acknowledged the message.
 *
 * Each group that acknowledges writes a marker next to the payload
 * (`acks/{generation}/{group}`), then lists the markers of that
 * generation. The one that finds every listed group there removes the
 * payload and the markers.
 *
 * Why one of two racing last acknowledgers always sees the other: say
 * groups A and B are the last two, A writes marker a then lists, B writes
 * marker b then lists. On a store whose writes and listings are strongly
 * consistent (S3 since December 2020, a JetStream stream, SQLite, the
 * memory provider), a listing shows every write that completed before it
 * started. If neither listing showed the other's marker, A's listing
 * would have started before b was written, and B's before a was written:
 * write(a) < list(A) < write(b) < list(B) < write(a), a cycle. So at least
 * one of them lists both markers and removes the object; when both do,
 * the second removal finds nothing, which is harmless. A store that only
 * lists eventually could let both miss: the object then stays until the
 * expiry rule.
 *
 * The payload is removed only when its metadata still holds the
 * generation of the reference, and on its etag: a publish sent again
 * with the same id since then owns the object now and keeps it.
 */
import { ConflictError, NotFoundError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ObjectStore } from '../core/provider.ts';
import {
  type ClaimCheckReference,
  GENERATION_METADATA,
  markerFolder,
  markerKey,
} from './claim-check-reference.ts';
import { errorFields } from './errors.ts';

const utf8 = new TextEncoder();

/** What became of an acknowledgement, for logs and tests. */
export type ReleaseOutcome =
  /** The reference lists no groups: the object waits for the expiry. */
  | 'expiry'
  /** The group is not among those listed: nothing recorded. */
  | 'unlisted'
  /** Recorded; other groups have yet to acknowledge. */
  | 'recorded'
  /** Every group acknowledged: the object and markers are removed. */
  | 'removed';

/**
 * Records that `group` acknowledged the message of `reference` and, when
 * every group listed there has, removes the object and the markers.
 * Throws what the store throws; the caller logs it, and the object then
 * stays until the expiry rule.
 */
export async function releaseObject(
  store: ObjectStore,
  reference: ClaimCheckReference,
  group: string,
  logger: Logger,
): Promise<ReleaseOutcome> {
  const { groups } = reference;
  if (groups === null) return 'expiry';
  if (!groups.includes(group)) return 'unlisted';

  await store.put(
    markerKey(reference, group),
    utf8.encode(JSON.stringify({ group, acknowledgedAt: Date.now() })),
    { contentType: 'application/json' },
  );
  const folder = markerFolder(reference);
  const markers: string[] = [];
  for await (const info of store.list(folder)) markers.push(info.name);
  const acknowledged = new Set(markers.map((m) => m.slice(folder.length)));
  if (!groups.every((g) => acknowledged.has(g))) return 'recorded';

  await removePayload(store, reference, logger);
  for (const marker of markers) await store.delete(marker);
  logger.debug('claim-check object removed', {
    bucket: reference.bucket,
    key: reference.key,
  });

  return 'removed';
}

/** Removes the payload if it is still the one `reference` was made for. */
async function removePayload(
  store: ObjectStore,
  reference: ClaimCheckReference,
  logger: Logger,
): Promise<void> {
  const info = await store.head(reference.key);
  if (info === undefined) return;
  if (info.metadata[GENERATION_METADATA] !== reference.generation) {
    logger.debug('claim-check object kept: a later publish replaced it', {
      key: reference.key,
    });
    return;
  }
  try {
    await store.delete(reference.key, { ifEtag: info.etag });
  } catch (error) {
    // Replaced or removed since the head: the newer state wins.
    if (error instanceof ConflictError || error instanceof NotFoundError) {
      logger.debug('claim-check object changed before removal', {
        key: reference.key,
        ...errorFields(error),
      });
      return;
    }
    throw error;
  }
}
