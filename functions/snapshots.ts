/**
 * Snapshots of the index in the object store: written with the channel
 * sequence they cover, so that the events they hold can be purged and a
 * starting router can load the newest one and replay only the rest.
 */
import { supports } from '../src/core/capabilities.ts';
import { ConflictError } from '../src/core/errors.ts';
import type { Logger } from '../src/core/logger.ts';
import type { Switchyard } from '../src/core/switchyard.ts';
import { type RouterIndex, workerKey } from './index-model.ts';
import { indexBucket, isIndexEmpty, readIndex } from './index-store.ts';
import {
  EVENTS_CHANNEL,
  INDEXER_GROUP,
  SNAPSHOT_BUCKET,
} from './router-event.ts';

/** Where snapshots are written in {@link SNAPSHOT_BUCKET}. */
export const SNAPSHOT_PREFIX = 'snapshots/';

/** A snapshot as stored, as JSON. */
export interface Snapshot {
  version: 1;
  channel: string;
  group: string;
  /**
   * Every event at or below this channel sequence is in the snapshot
   * (the indexer group's ack floor when it was taken); null where the
   * transport does not number messages.
   */
  upToSequence: number | null;
  takenAt: string;
  workers: RouterIndex;
}

/** What {@link takeSnapshot} did. */
export interface SnapshotReport {
  name: string;
  upToSequence: number | null;
  workers: number;
  /** Events purged from the channel. */
  purged: number;
}

/**
 * Writes the index to `snapshots/{ms since the epoch, zero-padded}.json`,
 * then purges the events every group has acknowledged up to the sequence
 * it covers, and deletes all but the newest `keep` snapshots.
 *
 * The ack floor is read before the index, so the snapshot holds at least
 * every event at or below it (some later ones too, which a replay skips
 * since applying an event twice changes nothing). Without selective
 * purges on the provider, nothing is purged.
 */
export async function takeSnapshot(
  switchyard: Switchyard,
  options: { keep?: number; logger?: Logger } = {},
): Promise<SnapshotReport> {
  const consumers = await switchyard.admin.consumers(EVENTS_CHANNEL);
  const indexer = consumers.find(
    (c) => c.mode === 'group' && c.name === INDEXER_GROUP,
  );
  const upToSequence = indexer?.ackFloor ?? null;
  const workers = await readIndex(indexBucket(switchyard));

  const bucket = switchyard.objects(SNAPSHOT_BUCKET);
  const name = `${SNAPSHOT_PREFIX}${String(Date.now()).padStart(15, '0')}.json`;
  const snapshot: Snapshot = {
    version: 1,
    channel: EVENTS_CHANNEL,
    group: INDEXER_GROUP,
    upToSequence,
    takenAt: new Date().toISOString(),
    workers,
  };
  await bucket.putValue(name, snapshot, { contentType: 'application/json' });

  let purged = 0;
  const canPurge = supports(
    switchyard.capabilities('channels'),
    'purgeAcknowledged',
  );
  if (canPurge && upToSequence !== null && upToSequence > 0) {
    purged = await switchyard.admin.purge(EVENTS_CHANNEL, {
      acknowledged: true,
      upToSequence,
    });
  }
  await pruneSnapshots(switchyard, options.keep ?? 3);

  const report = {
    name,
    upToSequence,
    workers: Object.keys(workers).length,
    purged,
  };
  options.logger?.info('index snapshot written', { ...report });
  return report;
}

/** The name of the newest snapshot, if any. */
export async function newestSnapshot(
  switchyard: Switchyard,
): Promise<string | undefined> {
  let newest: string | undefined;
  const bucket = switchyard.objects(SNAPSHOT_BUCKET);
  for await (const info of bucket.list(SNAPSHOT_PREFIX)) {
    if (newest === undefined || info.name > newest) newest = info.name;
  }
  return newest;
}

/**
 * Loads the newest snapshot into the index bucket when the bucket holds
 * no worker entry; returns the snapshot's name, or undefined when
 * nothing was loaded. An entry written meanwhile by someone else is kept.
 *
 * Run it before the indexer subscribes: the indexer group then delivers
 * what it has not acknowledged, which covers every event after the
 * snapshot as long as the snapshot was taken after the group's last
 * acknowledgement (the snapshot function takes one when it stops).
 */
export async function restoreSnapshot(
  switchyard: Switchyard,
  logger?: Logger,
): Promise<string | undefined> {
  const bucket = indexBucket(switchyard);
  if (!(await isIndexEmpty(bucket))) return undefined;
  const name = await newestSnapshot(switchyard);
  if (name === undefined) return undefined;

  const snapshot = await switchyard
    .objects(SNAPSHOT_BUCKET)
    .getValue<Snapshot>(name);
  for (const [workerId, entry] of Object.entries(snapshot.workers)) {
    try {
      await bucket.create(workerKey(workerId), entry);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }

  logger?.info('index restored from a snapshot', {
    snapshot: name,
    upToSequence: snapshot.upToSequence,
    workers: Object.keys(snapshot.workers).length,
  });
  return name;
}

async function pruneSnapshots(
  switchyard: Switchyard,
  keep: number,
): Promise<void> {
  const bucket = switchyard.objects(SNAPSHOT_BUCKET);
  const names: string[] = [];
  for await (const info of bucket.list(SNAPSHOT_PREFIX)) names.push(info.name);
  names.sort();
  for (const name of names.slice(0, Math.max(0, names.length - keep))) {
    await bucket.delete(name);
  }
}
