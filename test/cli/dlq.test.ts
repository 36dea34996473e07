import { afterEach, describe, expect, test } from 'vitest';
import { CliFixture, jsonLines } from './fixture.ts';

const cli = new CliFixture();
afterEach(() => cli.release());

/**
 * Publishes messages `ids` on `orders` and dead-letters them: a first
 * consume hands them back, a second one with `--max-attempts 1` finds
 * them over the limit.
 */
async function deadLetter(ids: readonly string[]): Promise<void> {
  await cli.run(['channels', 'create', 'orders', '--group', 'billing']);
  for (const id of ids) {
    await cli.run(['publish', 'orders', `{"id":"${id}"}`, '--id', id]);
  }
  const count = String(ids.length);
  await cli.run([
    'consume',
    'orders',
    '--group',
    'billing',
    '--count',
    count,
    '--no-ack',
  ]);
  await cli.run([
    'consume',
    'orders',
    '--group',
    'billing',
    '--max-attempts',
    '1',
    '--wait',
    '200',
  ]);
}

describe('dlq', () => {
  test('ls shows each dead letter with its group, reason, attempts and message id', async () => {
    await deadLetter(['order-1']);

    const listed = await cli.run(['dlq', 'ls', 'orders', '--json']);

    expect(listed.code).toBe(0);
    expect(jsonLines(listed.stdout)).toEqual([
      expect.objectContaining({
        channel: 'orders',
        group: 'billing',
        messageId: 'order-1',
        attempts: expect.any(Number),
        reason: expect.stringContaining('over the limit of 1 attempts'),
        data: { id: 'order-1' },
      }),
    ]);
  });

  test('replay of one id hands that message back to its group', async () => {
    await deadLetter(['order-1', 'order-2']);

    const replayed = await cli.run([
      'dlq',
      'replay',
      'orders',
      '--id',
      'order-2',
      '--json',
    ]);
    const consumed = await cli.run([
      'consume',
      'orders',
      '--group',
      'billing',
      '--count',
      '1',
      '--json',
    ]);
    const left = await cli.run(['dlq', 'ls', 'orders', '--json']);

    expect(jsonLines(replayed.stdout)).toEqual([
      { channel: 'orders', replayed: 1 },
    ]);
    expect(jsonLines(consumed.stdout)).toEqual([
      expect.objectContaining({ id: 'order-2', attempt: 1 }),
    ]);
    expect(jsonLines(left.stdout).map((d) => d.messageId)).toEqual(['order-1']);
  });

  test('purge removes the dead letters', async () => {
    await deadLetter(['order-1']);

    const purged = await cli.run(['dlq', 'purge', 'orders']);
    const listed = await cli.run(['dlq', 'ls', 'orders']);

    expect(purged.stdout).toBe('removed 1 dead letter\n');
    expect(listed.stdout).toBe('');
    expect(listed.stderr).toBe('no dead letters in orders\n');
  });
});
