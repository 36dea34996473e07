/**
 * Watching a bucket's table through its DynamoDB stream (new and old
 * images). The watch takes an iterator at the latest record of every
 * open shard, then scans the table for the snapshot, then reads the
 * shards from those iterators. Writes made during the scan appear both
 * in the snapshot and in the stream; since the revisions of a key only
 * increase, a change at or below the revision the watch already gave
 * for its key is dropped, so nothing is missed and nothing repeated.
 *
 * DynamoDB keeps the changes of one key in order in one shard; changes
 * of keys in different shards are interleaved shard by shard, not in
 * the exact order they were written. An entry that expires is reported
 * deleted when DynamoDB removes it, which may be much later.
 */
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
  type Shard,
  type ShardIteratorType,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { CapabilityError } from '../../core/errors.ts';
import type { RawKvEntry, RawKvEvent } from '../../core/provider.ts';
import type { AwsContext } from './context.ts';
import { awsCode, awsError, httpStatus, PROVIDER } from './errors.ts';
import { ATTRIBUTES, type Item, toEntry } from './kv-items.ts';
import type { TableTarget } from './tables.ts';

/** How long a watch waits before it reads shards that had nothing. */
const POLL_MS = 500;

/** Records one GetRecords call returns at most. */
const RECORDS_PER_READ = 1000;

/** Error names of an endpoint that does not serve DynamoDB Streams. */
const NOT_SERVED = new Set([
  'UnknownOperationException',
  'UnrecognizedClientException',
  'InvalidAction',
  'NotImplemented',
  'UnsupportedOperation',
]);

/** What a watch needs. */
export interface TableWatchOptions {
  prefix: string;
  signal?: AbortSignal;
  target: TableTarget;
  /** The table's stream of new and old images; undefined when it has none. */
  streamArn: string | undefined;
  /** The live entries under `prefix`, sorted by key. */
  snapshot(): Promise<RawKvEntry[]>;
  /** Maps a failure of `operation` to the error the watch throws. */
  onError(error: unknown, operation: string): Error;
}

/** Where the watch is in one shard. */
interface Position {
  shardId: string;
  iterator: string | undefined;
  /** Sequence number of the last record read, to resume after it. */
  after?: string;
  /** Where the shard was entered, to begin again if nothing was read. */
  start: ShardIteratorType;
}

/**
 * Why DynamoDB Streams cannot be used at the provider's endpoint, or
 * undefined when they can. Asks the endpoint once (ListStreams); a
 * failure other than "not served" is thrown as the provider's error.
 */
export async function kvWatchUnsupported(
  context: AwsContext,
): Promise<string | undefined> {
  try {
    await context.dynamodbStreams.send(new ListStreamsCommand({ Limit: 1 }));
    return undefined;
  } catch (error) {
    const code = awsCode(error) ?? '';
    const status = httpStatus(error);
    if (NOT_SERVED.has(code) || status === 404 || status === 501) {
      return `the endpoint does not serve DynamoDB Streams (${code || `HTTP ${status}`}), which a key-value watch reads`;
    }
    throw awsError(error, 'check for DynamoDB Streams');
  }
}

/**
 * Yields a snapshot of the entries under `prefix`, then each put and
 * delete under it. Ends when `signal` aborts, when the iterator is
 * returned, or when the provider closes. CapabilityError when the table
 * has no stream of new and old images.
 */
export async function* watchTable(
  context: AwsContext,
  options: TableWatchOptions,
): AsyncGenerator<RawKvEvent> {
  const { prefix, signal, target } = options;
  if (signal?.aborted) return;
  const streamArn = options.streamArn;
  if (streamArn === undefined) {
    throw new CapabilityError(
      `bucket '${target.resource}' cannot be watched: table '${target.table}' has no stream of new and old images`,
      { feature: 'watch', details: { provider: PROVIDER, ...target.details } },
    );
  }

  const stop = new AbortController();
  const closer = { close: async () => stop.abort() };
  const abort = () => stop.abort();
  context.lifecycle.track(closer);
  signal?.addEventListener('abort', abort, { once: true });
  const reader = new ShardReader(context, streamArn, stop.signal, options);

  try {
    await reader.begin();
    const snapshot = await call(options, 'read the snapshot', () =>
      options.snapshot(),
    );
    if (stop.signal.aborted) return;
    const seen = new Map(snapshot.map((e) => [e.key, Number(e.revision)]));
    yield { type: 'snapshot', entries: snapshot };

    while (!stop.signal.aborted) {
      const records = await reader.next();
      if (records === undefined) return;
      for (const record of records) {
        const event = toEvent(record, prefix, seen);
        if (event !== undefined) yield event;
        if (stop.signal.aborted) return;
      }
      if (records.length === 0) await pause(POLL_MS, stop.signal);
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    context.lifecycle.untrack(closer);
    stop.abort();
  }
}

/**
 * The shards of one stream, read in turn: each open shard from the
 * latest record when the watch began, and the children of a shard that
 * closed from their first record.
 */
class ShardReader {
  readonly #context: AwsContext;
  readonly #streamArn: string;
  readonly #signal: AbortSignal;
  readonly #options: TableWatchOptions;
  #positions: Position[] = [];
  readonly #known = new Set<string>();

  constructor(
    context: AwsContext,
    streamArn: string,
    signal: AbortSignal,
    options: TableWatchOptions,
  ) {
    this.#context = context;
    this.#streamArn = streamArn;
    this.#signal = signal;
    this.#options = options;
  }

  /** Takes an iterator at the latest record of every open shard. */
  async begin(): Promise<void> {
    const shards = await this.#shards();
    for (const shard of shards) {
      const shardId = shard.ShardId ?? '';
      this.#known.add(shardId);
      if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) {
        continue;
      }
      this.#positions.push(await this.#enter(shardId, 'LATEST'));
    }
  }

  /**
   * The next records of every shard, in shard order; an empty list when
   * there were none; undefined once the watch was stopped.
   */
  async next(): Promise<StreamRecord[] | undefined> {
    const records: StreamRecord[] = [];
    let closed = false;
    for (const position of this.#positions) {
      const read = await this.#read(position);
      if (read === undefined) return undefined;
      records.push(...read);
      if (position.iterator === undefined) closed = true;
    }
    if (closed) await this.#followClosed();
    return records;
  }

  async #read(position: Position): Promise<StreamRecord[] | undefined> {
    if (position.iterator === undefined) return [];
    try {
      const page = await this.#context.dynamodbStreams.send(
        new GetRecordsCommand({
          ShardIterator: position.iterator,
          Limit: RECORDS_PER_READ,
        }),
        { abortSignal: this.#signal },
      );
      const records = page.Records ?? [];
      const last = records.at(-1)?.dynamodb?.SequenceNumber;
      if (last !== undefined) position.after = last;
      position.iterator = page.NextShardIterator;
      return records;
    } catch (error) {
      if (this.#signal.aborted) return undefined;
      if (awsCode(error) !== 'ExpiredIteratorException') {
        throw this.#options.onError(error, 'read the stream');
      }
      // An iterator lapses after 15 minutes unused: a slow reader of the
      // watch takes a new one where it stopped.
      const renewed = await this.#enter(
        position.shardId,
        position.after === undefined ? position.start : 'AFTER_SEQUENCE_NUMBER',
        position.after,
      );
      position.iterator = renewed.iterator;
      return [];
    }
  }

  /** Drops closed shards and enters their children from the start. */
  async #followClosed(): Promise<void> {
    const closed = new Set(
      this.#positions
        .filter((p) => p.iterator === undefined)
        .map((p) => p.shardId),
    );
    this.#positions = this.#positions.filter((p) => p.iterator !== undefined);

    for (const shard of await this.#shards()) {
      const shardId = shard.ShardId ?? '';
      if (this.#known.has(shardId)) continue;
      if (!closed.has(shard.ParentShardId ?? '')) continue;
      this.#known.add(shardId);
      this.#positions.push(await this.#enter(shardId, 'TRIM_HORIZON'));
    }
  }

  async #shards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    await call(this.#options, 'describe the stream', async () => {
      do {
        const { StreamDescription: stream } =
          await this.#context.dynamodbStreams.send(
            new DescribeStreamCommand({
              StreamArn: this.#streamArn,
              ExclusiveStartShardId: start,
            }),
          );
        shards.push(...(stream?.Shards ?? []));
        start = stream?.LastEvaluatedShardId;
      } while (start !== undefined);
    });
    return shards;
  }

  async #enter(
    shardId: string,
    type: ShardIteratorType,
    after?: string,
  ): Promise<Position> {
    const { ShardIterator } = await call(this.#options, 'open the stream', () =>
      this.#context.dynamodbStreams.send(
        new GetShardIteratorCommand({
          StreamArn: this.#streamArn,
          ShardId: shardId,
          ShardIteratorType: type,
          ...(after !== undefined && { SequenceNumber: after }),
        }),
      ),
    );
    return { shardId, iterator: ShardIterator, start: type };
  }
}

/**
 * The event of `record` under `prefix`, or undefined when it is outside
 * the prefix or older than what `seen` (key to revision given) holds.
 */
function toEvent(
  record: StreamRecord,
  prefix: string,
  seen: Map<string, number>,
): RawKvEvent | undefined {
  const change = record.dynamodb;
  const key = change?.Keys?.[ATTRIBUTES.key]?.S;
  if (key === undefined || !key.startsWith(prefix)) return undefined;
  const given = seen.get(key);

  if (record.eventName === 'REMOVE') {
    const removed = Number(change?.OldImage?.[ATTRIBUTES.revision]?.N ?? 0);
    if (given === undefined || removed < given) return undefined;
    seen.delete(key);
    return { type: 'delete', key };
  }

  // Expiry is not checked here: a write is reported as it was made.
  const entry = toEntry(change?.NewImage as Item | undefined, 0);
  if (entry === undefined) return undefined;
  const revision = Number(entry.revision);
  if (given !== undefined && revision <= given) return undefined;
  seen.set(key, revision);
  return { type: 'put', entry };
}

async function call<T>(
  options: TableWatchOptions,
  operation: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw options.onError(error, operation);
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
