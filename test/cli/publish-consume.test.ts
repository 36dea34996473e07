import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { CliFixture, jsonLines } from './fixture.ts';

const cli = new CliFixture();
afterEach(() => cli.release());

async function createOrders(): Promise<void> {
  const created = await cli.run([
    'channels',
    'create',
    'orders',
    '--group',
    'billing',
  ]);
  expect(created.code).toBe(0);
}

/** `consume orders --group billing --json` with `extra` options. */
function consume(...extra: string[]) {
  return cli.run([
    'consume',
    'orders',
    '--group',
    'billing',
    '--json',
    ...extra,
  ]);
}

describe('publish and consume', () => {
  test('a published message is consumed by its group with its id, attributes and data', async () => {
    await createOrders();

    const published = await cli.run([
      'publish',
      'orders',
      '{"sku":"apple","count":3}',
      '--attr',
      'origin=cli',
      '--id',
      'order-1',
      '--json',
    ]);
    const consumed = await consume('--count', '1');

    expect(published.code).toBe(0);
    expect(jsonLines(published.stdout)).toEqual([
      expect.objectContaining({
        channel: 'orders',
        id: 'order-1',
        duplicate: false,
      }),
    ]);
    expect(consumed.code).toBe(0);
    expect(jsonLines(consumed.stdout)).toEqual([
      expect.objectContaining({
        channel: 'orders',
        group: 'billing',
        id: 'order-1',
        attempt: 1,
        attributes: { origin: 'cli' },
        data: { sku: 'apple', count: 3 },
        acknowledged: true,
      }),
    ]);
  });

  test('an acknowledged message is not consumed again', async () => {
    await createOrders();
    await cli.run(['publish', 'orders', '1']);
    await consume('--count', '1');

    const again = await consume('--wait', '100');

    expect(again.code).toBe(0);
    expect(again.stdout).toBe('');
  });

  test('publishing from stdin publishes one message per line, in order', async () => {
    await createOrders();

    const published = await cli.run(['publish', 'orders', '-', '--json'], {
      input: '{"n":1}\n\n{"n":2}\n{"n":3}\n',
    });
    const consumed = await consume('--count', '3');

    expect(published.code).toBe(0);
    expect(jsonLines(published.stdout)).toHaveLength(3);
    expect(jsonLines(consumed.stdout).map((m) => m.data)).toEqual([
      { n: 1 },
      { n: 2 },
      { n: 3 },
    ]);
  });

  test('a file holding an array publishes each element', async () => {
    await createOrders();
    const file = join(await cli.folder(), 'orders.json');
    await writeFile(file, JSON.stringify([{ n: 1 }, { n: 2 }]));

    const published = await cli.run(['publish', 'orders', '--file', file]);
    const consumed = await consume('--count', '2');

    expect(published.code).toBe(0);
    expect(published.stdout).toMatch(/^published .+\npublished .+\n$/);
    expect(jsonLines(consumed.stdout).map((m) => m.data)).toEqual([
      { n: 1 },
      { n: 2 },
    ]);
  });

  test('a message published with msgpack is read back as the same value', async () => {
    await createOrders();

    await cli.run([
      'publish',
      'orders',
      '{"blocks":[1,2,3]}',
      '--codec',
      'msgpack',
    ]);
    const consumed = await consume('--count', '1');

    expect(jsonLines(consumed.stdout)).toEqual([
      expect.objectContaining({
        contentType: 'application/msgpack',
        data: { blocks: [1, 2, 3] },
      }),
    ]);
  });

  test('--count stops after that many messages and leaves the rest', async () => {
    await createOrders();
    await cli.run(['publish', 'orders', '-'], { input: '1\n2\n3\n' });

    const first = await consume('--count', '2');
    const rest = await consume('--count', '1');

    expect(jsonLines(first.stdout).map((m) => m.data)).toEqual([1, 2]);
    expect(jsonLines(rest.stdout).map((m) => m.data)).toEqual([3]);
  });

  test('--no-ack hands the messages back, so the next consume gets them at the next attempt', async () => {
    await createOrders();
    await cli.run(['publish', 'orders', '{"n":1}']);

    const peeked = await consume('--count', '1', '--no-ack');
    const taken = await consume('--count', '1');

    expect(jsonLines(peeked.stdout)).toEqual([
      expect.objectContaining({ attempt: 1, acknowledged: false }),
    ]);
    expect(jsonLines(taken.stdout)).toEqual([
      expect.objectContaining({ attempt: 2, acknowledged: true }),
    ]);
  });

  test('a consumer of a new group is told it only sees later messages', async () => {
    await createOrders();

    const consumed = await cli.run([
      'consume',
      'orders',
      '--group',
      'audit',
      '--wait',
      '50',
    ]);

    expect(consumed.code).toBe(0);
    expect(consumed.stderr).toContain("group 'audit' is new");
  });
});
