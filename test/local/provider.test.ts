import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { ConfigurationError, ConflictError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createProvider } from '../../src/providers/local/index.ts';
import { eventually } from '../../src/testkit/helpers.ts';
import { CREW, Fixture } from './fixtures.ts';

const fixture = new Fixture();
afterEach(() => fixture.release());

const context = { logger: silentLogger, instanceId: 'test' };

describe('the local provider factory', () => {
  test.each([
    ['dataDir', 42],
    ['maxPayloadBytes', 0],
    ['dedupWindowMs', -1],
    ['synchronous', 'off'],
    ['pollIntervalMs', 'fast'],
    ['colour', 'blue'],
  ])('refuses option %s set to %j, naming both', async (field, value) => {
    const error = await createProvider({ [field]: value }, context).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe(field);
    expect((error as ConfigurationError).value).toBe(value);
    expect((error as Error).message).toContain(field);
  });

  test('declares its limits and every feature', async () => {
    const dataDir = await fixture.dataDir();

    const provider = await createProvider({ dataDir }, context);
    await provider.close();

    expect(provider.capabilities).toEqual({
      maxPayloadBytes: 1_048_576,
      maxBatchSize: 1000,
      dedupWindowMs: 120_000,
      native: { deadLetter: true, watch: true, requestReply: false },
      unsupported: {},
    });
  });

  test('refuses a data folder written by a newer schema', async () => {
    const dataDir = await fixture.dataDir();
    const provider = await fixture.provider(dataDir);
    await provider.close();
    const db = new Database(join(dataDir, 'switchyard.db'));
    db.pragma('user_version = 99');
    db.close();

    const error = await createProvider({ dataDir }, context).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe('dataDir');
  });
});

describe('local channels', () => {
  test('ignore a stale acknowledgement and refuse a stale extension once the message was delivered again', async () => {
    const { channels } = await fixture.tasks(1);
    const slow = await channels.consume({ ...CREW, leaseMs: 50 });
    const fast = await channels.consume(CREW);
    const [stale] = await slow.fetch(1, { waitMs: 0 });
    const [fresh] = await eventually(
      async () => {
        const batch = await fast.fetch(1, { waitMs: 100 });
        return batch.length > 0 && batch;
      },
      { timeoutMs: 5000 },
    );

    await stale!.ack();
    const extended = await stale!.extend(1000).catch((e: unknown) => e);

    expect(extended).toBeInstanceOf(ConflictError);
    expect(fresh!.attempt).toBe(2);
    expect((await channels.stats('tasks')).consumers.crew).toEqual({
      lag: 1,
      inFlight: 1,
    });
    await fresh!.ack();
    expect((await channels.stats('tasks')).consumers.crew?.lag).toBe(0);
  });

  test('replay a dead letter whose message was purged meanwhile', async () => {
    const { channels } = await fixture.tasks(2);
    const consumer = await channels.consume(CREW);
    const [first, second] = await consumer.fetch(2, { waitMs: 0 });
    await first!.deadLetter('malformed');
    await second!.ack();
    expect(await channels.purge('tasks', { acknowledged: true })).toBe(2);

    const replayed = await channels.replayDeadLetters('tasks');
    const [again] = await consumer.fetch(10, { waitMs: 0 });

    expect(replayed).toBe(1);
    expect(again?.message).toEqual(first!.message);
    expect(again?.attempt).toBe(1);
  });
});
