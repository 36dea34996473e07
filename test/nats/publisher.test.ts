import { headers } from '@nats-io/transport-node';
import { describe, expect, test } from 'vitest';
import {
  TimeoutError,
  TransportUnavailableError,
} from '../../src/core/errors.ts';
import { natsError } from '../../src/providers/nats/errors.ts';
import { StreamPublisher } from '../../src/providers/nats/publisher.ts';
import { bucketName, bytes, serverForFile } from './fixtures.ts';

const shared = serverForFile();

/** Headers carrying `Nats-Msg-Id: id`. */
function withId(id: string) {
  const h = headers();
  h.set('Nats-Msg-Id', id);
  return h;
}

/** A stream `{stem}-…` with subjects `{name}.*`; returns its name. */
async function stream(stem: string): Promise<string> {
  const name = bucketName(stem);
  await shared.ctx.jsm.streams.add({ name, subjects: [`${name}.*`] });
  return name;
}

describe('the stream publisher', () => {
  test('resolves with the stream sequence, and a re-sent id as a duplicate', async () => {
    const name = await stream('acks');
    const publisher = new StreamPublisher(shared.ctx.nc, 2_000);

    const first = await publisher.publish(
      `${name}.msg`,
      bytes('a'),
      withId('m1'),
    );
    const second = await publisher.publish(
      `${name}.msg`,
      bytes('b'),
      withId('m2'),
    );
    const again = await publisher.publish(
      `${name}.msg`,
      bytes('a'),
      withId('m1'),
    );
    publisher.close();

    expect(first).toEqual({ seq: 1, duplicate: false });
    expect(second).toEqual({ seq: 2, duplicate: false });
    expect(again).toEqual({ seq: 1, duplicate: true });
  });

  test('a subject no stream stores fails as no responders, mapped to TransportUnavailableError', async () => {
    const publisher = new StreamPublisher(shared.ctx.nc, 2_000);

    const failure = await publisher
      .publish(`${bucketName('nowhere')}.msg`, bytes('x'), withId('m1'))
      .catch((error: unknown) => error);
    publisher.close();

    expect(natsError(failure, 'publish')).toBeInstanceOf(
      TransportUnavailableError,
    );
  });

  test('a subject whose listener never answers fails with a timeout', async () => {
    const subject = `${bucketName('silent')}.msg`;
    const listener = shared.ctx.nc.subscribe(subject, { callback: () => {} });
    await shared.ctx.nc.flush();
    const publisher = new StreamPublisher(shared.ctx.nc, 300);

    const failure = await publisher
      .publish(subject, bytes('x'), withId('m1'))
      .catch((error: unknown) => error);
    listener.unsubscribe();
    publisher.close();

    expect(natsError(failure, 'publish', { timeoutMs: 300 })).toBeInstanceOf(
      TimeoutError,
    );
  });

  test('closing fails the publishes still waiting', async () => {
    const subject = `${bucketName('pending')}.msg`;
    const listener = shared.ctx.nc.subscribe(subject, { callback: () => {} });
    await shared.ctx.nc.flush();
    const publisher = new StreamPublisher(shared.ctx.nc, 10_000);

    const waiting = publisher
      .publish(subject, bytes('x'), withId('m1'))
      .catch((error: unknown) => error);
    publisher.close();
    const failure = await waiting;
    listener.unsubscribe();

    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).toBe('ClosedConnectionError');
  });
});
