import { afterEach, describe, expect, test } from 'vitest';
import { CliFixture, jsonLines } from './fixture.ts';

const cli = new CliFixture();
afterEach(() => cli.release());

async function ordersWithMessages(count: number): Promise<void> {
  await cli.run([
    'channels',
    'create',
    'orders',
    '--group',
    'billing',
    '--group',
    'audit',
  ]);
  const input = Array.from({ length: count }, (_, i) => `${i}\n`).join('');
  await cli.run(['publish', 'orders', '-'], { input });
}

function stats() {
  return cli
    .run(['channels', 'stats', 'orders', '--json'])
    .then((result) => jsonLines(result.stdout)[0]);
}

describe('channels', () => {
  test('ls lists the channels created', async () => {
    await cli.run(['channels', 'create', 'orders']);
    await cli.run(['channels', 'create', 'payments']);

    const listed = await cli.run(['channels', 'ls', '--json']);

    expect(jsonLines(listed.stdout).map((c) => c.channel)).toEqual([
      'orders',
      'payments',
    ]);
  });

  test('stats show the depth and the lag of each group', async () => {
    await ordersWithMessages(3);
    await cli.run(['consume', 'orders', '--group', 'billing', '--count', '2']);

    const shown = await stats();

    expect(shown).toMatchObject({
      channel: 'orders',
      depth: 3,
      inFlight: 0,
      deadLettered: 0,
      consumers: {
        billing: { lag: 1, inFlight: 0 },
        audit: { lag: 3, inFlight: 0 },
      },
    });
  });

  test('purge --acknowledged removes only what every group acknowledged', async () => {
    await ordersWithMessages(3);
    await cli.run(['consume', 'orders', '--group', 'billing', '--count', '3']);
    await cli.run(['consume', 'orders', '--group', 'audit', '--count', '2']);

    const purged = await cli.run([
      'channels',
      'purge',
      'orders',
      '--acknowledged',
      '--json',
    ]);

    expect(jsonLines(purged.stdout)).toEqual([
      { channel: 'orders', removed: 2 },
    ]);
    expect(await stats()).toMatchObject({ depth: 1 });
  });

  test('purge --up-to stops at that sequence', async () => {
    await ordersWithMessages(3);
    await cli.run(['consume', 'orders', '--group', 'billing', '--count', '3']);
    await cli.run(['consume', 'orders', '--group', 'audit', '--count', '3']);

    const purged = await cli.run([
      'channels',
      'purge',
      'orders',
      '--up-to',
      '1',
      '--json',
    ]);

    expect(jsonLines(purged.stdout)).toEqual([
      { channel: 'orders', removed: 1 },
    ]);
    expect(await stats()).toMatchObject({ depth: 2 });
  });

  test('purge without options removes every message', async () => {
    await ordersWithMessages(3);

    const purged = await cli.run(['channels', 'purge', 'orders']);

    expect(purged.stdout).toBe('removed 3 messages from orders\n');
    expect(await stats()).toMatchObject({ depth: 0 });
  });
});
