import type { headers, Msg } from '@nats-io/transport-node';
import { describe, expect, test } from 'vitest';
import type { WireMessage } from '../../src/core/message.ts';
import {
  fromNats,
  headersOf,
  pairsOf,
  parseHeaderBlock,
  toHeaders,
} from '../../src/providers/nats/messages.ts';
import { bucketName, bytes, serverForFile } from './fixtures.ts';

const shared = serverForFile();

/** Sends `body` with `hdrs` to a subject of its own and returns it received. */
async function roundTrip(
  body: Uint8Array,
  hdrs?: ReturnType<typeof headers>,
): Promise<Msg> {
  const subject = `${bucketName('echo')}.msg`;
  const received = new Promise<Msg>((resolve) => {
    const sub = shared.ctx.nc.subscribe(subject, {
      max: 1,
      callback: (_error, msg) => resolve(msg),
    });
    void sub;
  });
  await shared.ctx.nc.flush();
  shared.ctx.nc.publish(
    subject,
    body,
    hdrs === undefined ? {} : { headers: hdrs },
  );
  return received;
}

const wire: WireMessage = {
  id: 'evt-1',
  channel: 'orders',
  body: bytes('{"n":1}'),
  contentType: 'application/json',
  attributes: { region: 'eu west', tenant: 'ac%me' },
  publishedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  publisherId: 'billing-1',
  sequence: 42,
  orderingKey: 'customer-7',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
};

describe('headers of a received message', () => {
  test('read from the header block, they are those the client parses', async () => {
    const msg = await roundTrip(wire.body, toHeaders(wire));

    expect(headersOf(msg)).toEqual([...pairsOf(msg.headers)]);
  });

  test('a message without headers has none', async () => {
    const msg = await roundTrip(bytes('plain'));

    expect(headersOf(msg)).toEqual([]);
  });

  test('a received message maps back to the message that was sent', async () => {
    const msg = await roundTrip(wire.body, toHeaders(wire));

    const read = fromNats('orders', headersOf(msg), msg.data, {
      seq: 9,
      storedAt: 0,
    });

    expect({ ...read, body: new Uint8Array(read.body) }).toEqual(wire);
  });

  test('a block skips lines without a colon and keeps values with one', () => {
    const block = bytes(
      'NATS/1.0\r\nNats-Msg-Id: m1\r\nbroken line\r\nce-time: 12:30\r\n\r\n',
    );

    expect(parseHeaderBlock(block)).toEqual([
      ['Nats-Msg-Id', 'm1'],
      ['ce-time', '12:30'],
    ]);
  });
});
