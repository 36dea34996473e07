import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { openOutbox } from '../../src/delivery/outbox.ts';
import { CliFixture, jsonLines, lines } from './fixture.ts';

const cli = new CliFixture();
afterEach(() => cli.release());

/**
 * An outbox file in the working folder holding `count` messages for
 * `orders` that no relay sent, as a producer that stopped while the
 * transport was down leaves it.
 */
async function waitingInOutbox(count: number): Promise<string> {
  const path = join(await cli.folder(), 'outbox.db');
  const outbox = openOutbox({
    path,
    send: async () => {
      throw new Error('the transport is not used here');
    },
  });
  outbox.hold();
  const messages = Array.from({ length: count }, (_, i) => ({
    id: `order-${i}`,
    channel: 'orders',
    body: new TextEncoder().encode(String(i)),
    contentType: 'application/json',
    attributes: {},
    publishedAt: Date.now(),
    publisherId: 'cli-test',
    sequence: i + 1,
  }));
  await outbox.publish('orders', messages);
  await outbox.close();
  return path;
}

describe('channels stats', () => {
  test('show the messages of the channel waiting in the outbox', async () => {
    await cli.run(['channels', 'create', 'orders']);
    const path = await waitingInOutbox(2);
    const env = { SWITCHYARD_OUTBOX_PATH: path };

    const json = await cli.run(['channels', 'stats', 'orders', '--json'], {
      env,
    });
    const text = await cli.run(['channels', 'stats', 'orders'], { env });

    expect(json.code).toBe(0);
    expect(jsonLines(json.stdout)[0]).toMatchObject({
      channel: 'orders',
      depth: 0,
      outbox: { depth: 2, failed: 0 },
    });
    expect(lines(text.stdout)).toContainEqual(
      expect.stringMatching(
        /^outbox {9}2 messages waiting, oldest \d+ ms old, 0 refused$/,
      ),
    );
  });

  test('show no outbox line when there is no outbox file', async () => {
    await cli.run(['channels', 'create', 'orders']);

    const text = await cli.run(['channels', 'stats', 'orders']);

    expect(text.code).toBe(0);
    expect(text.stdout).not.toContain('outbox');
  });
});
