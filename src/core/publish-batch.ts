/**
 * Batch publishing: every entry is prepared on its own, so one bad entry
 * fails alone, and the good ones are sent in order, in chunks of the
 * transport's `maxBatchSize`.
 */
import type { BatchEntry, BatchResult, WireMessage } from './message.ts';
import type { TransportPublishOutcome } from './provider.ts';
import { type PublishContext, prepareMessage, receipt } from './publish.ts';

/** What a batch is sent with. */
export interface BatchSetup<T> {
  context: PublishContext<T>;
  /** Largest number of messages per call to `send`. */
  maxBatchSize: number;
  /** Makes sure the channel exists, before any entry is numbered. */
  ensure(): Promise<void>;
  send(messages: readonly WireMessage[]): Promise<TransportPublishOutcome[]>;
  /** What the receipts say confirmed them. Default `transport`. */
  confirmedBy?: 'transport' | 'outbox';
}

interface Ready {
  index: number;
  message: WireMessage;
}

/**
 * Publishes `entries` and resolves with one result per entry, in order.
 * An entry that fails validation gets its error in place; a chunk the
 * transport refuses as a whole fails each of its entries. Only a failure
 * of `ensure` (e.g. a `NotFoundError` with `create: false`) rejects.
 *
 * @example
 * const results = await publishBatch(entries, { context, maxBatchSize: 10,
 *   ensure, send: (messages) => transport.publish('orders', messages) });
 */
export async function publishBatch<T>(
  entries: readonly BatchEntry<T>[],
  setup: BatchSetup<T>,
): Promise<BatchResult[]> {
  await setup.ensure();
  const results: BatchResult[] = new Array(entries.length);
  const ready: Ready[] = [];
  for (const [index, entry] of entries.entries()) {
    const { data, ...options } = entry;
    try {
      const message = await prepareMessage(setup.context, data, options);
      ready.push({ index, message });
    } catch (error) {
      results[index] = { ok: false, id: entryId(entry), error: asError(error) };
    }
  }

  const size = Math.max(1, setup.maxBatchSize);
  for (let start = 0; start < ready.length; start += size) {
    await sendChunk(ready.slice(start, start + size), setup, results);
  }

  return results;
}

async function sendChunk<T>(
  chunk: readonly Ready[],
  setup: BatchSetup<T>,
  results: BatchResult[],
): Promise<void> {
  let outcomes: TransportPublishOutcome[];
  try {
    outcomes = await setup.send(chunk.map((c) => c.message));
  } catch (error) {
    for (const { index, message } of chunk) {
      results[index] = { ok: false, id: message.id, error: asError(error) };
    }
    return;
  }

  for (const [position, { index, message }] of chunk.entries()) {
    const outcome = outcomes[position];
    if (outcome === undefined) {
      const error = new TypeError('the transport returned no outcome');
      results[index] = { ok: false, id: message.id, error };
    } else if (outcome.ok) {
      const confirmedBy = setup.confirmedBy ?? 'transport';
      results[index] = { ok: true, ...receipt(message, outcome, confirmedBy) };
    } else {
      results[index] = { ok: false, id: message.id, error: outcome.error };
    }
  }
}

function entryId<T>(entry: BatchEntry<T>): string {
  return typeof entry?.id === 'string' ? entry.id : '';
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
