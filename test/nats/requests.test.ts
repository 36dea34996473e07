import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  NoRespondersError,
  RemoteError,
  TimeoutError,
} from '../../src/core/errors.ts';
import type { NatsContext } from '../../src/providers/nats/connection.ts';
import { NatsRequests } from '../../src/providers/nats/requests.ts';
import { expectError } from '../../src/testkit/helpers.ts';
import {
  bucketName,
  bytes,
  closeNatsContext,
  openContext,
  text,
} from './fixtures.ts';
import { type NatsTestServer, startNatsServer } from './server.ts';

let server: NatsTestServer;
let contexts: NatsContext[];
let requests: NatsRequests[];

beforeAll(async () => {
  server = await startNatsServer();
  contexts = await Promise.all([1, 2, 3].map(() => openContext(server)));
  requests = contexts.map((context) => new NatsRequests(context));
});

afterAll(async () => {
  await Promise.all(contexts.map(closeNatsContext));
  await server.stop();
});

/** A subject unique to the test. */
function subjectName(stem: string): string {
  return bucketName(stem).replace('-', '.');
}

describe('nats request/reply', () => {
  test('a request gets the reply of its server', async () => {
    const subject = subjectName('echo');
    await requests[0]!.serve(subject, async (body) =>
      bytes(`re:${text(body)}`),
    );

    const reply = await requests[1]!.request(subject, bytes('hi'), {
      timeoutMs: 5000,
    });

    expect(text(reply)).toBe('re:hi');
  });

  test('each request goes to one of the servers of its subject', async () => {
    const subject = subjectName('shared');
    const handled: number[] = [];
    for (const [index, transport] of requests.entries()) {
      await transport.serve(subject, async () => {
        handled.push(index);
        return bytes(String(index));
      });
    }

    for (let i = 0; i < 12; i += 1) {
      await requests[0]!.request(subject, bytes('x'), { timeoutMs: 5000 });
    }

    expect(handled).toHaveLength(12);
  });

  test('a request nobody serves is a no-responders error', async () => {
    const error = await expectError(
      () =>
        requests[0]!.request(subjectName('nobody'), bytes('x'), {
          timeoutMs: 5000,
        }),
      NoRespondersError,
    );

    expect(error.details).toMatchObject({
      provider: 'nats',
      providerCode: '503',
    });
  });

  test('a request whose server does not answer in time is a timeout', async () => {
    const subject = subjectName('slow');
    await requests[0]!.serve(subject, () => new Promise<Uint8Array>(() => {}));

    const error = await expectError(
      () => requests[1]!.request(subject, bytes('x'), { timeoutMs: 200 }),
      TimeoutError,
    );

    expect(error.timeoutMs).toBe(200);
  });

  test('a handler that rejects makes the request a remote error', async () => {
    const subject = subjectName('fails');
    await requests[0]!.serve(subject, async () => {
      throw new RangeError('out of\nrange');
    });

    const error = await expectError(
      () => requests[1]!.request(subject, bytes('x'), { timeoutMs: 5000 }),
      RemoteError,
    );

    expect(error.remoteName).toBe('RangeError');
    expect(error.message).toBe('out of range');
  });

  test('a gather collects one reply from every server', async () => {
    const subject = subjectName('stats');
    for (const [index, transport] of requests.entries()) {
      await transport.serve(subject, async () => bytes(String(index)));
    }

    const replies = await requests[0]!.gather(subject, bytes('x'), {
      timeoutMs: 10_000,
      expected: 3,
    });

    expect(replies.map(text).sort()).toEqual(['0', '1', '2']);
  });

  test('a gather without an expected count returns what arrived by the timeout', async () => {
    const subject = subjectName('all');
    for (const transport of requests.slice(0, 2)) {
      await transport.serve(subject, async () => bytes('ok'));
    }

    const replies = await requests[2]!.gather(subject, bytes('x'), {
      timeoutMs: 500,
    });

    expect(replies.map(text)).toEqual(['ok', 'ok']);
  });

  test('a gather nobody serves returns no replies', async () => {
    const replies = await requests[0]!.gather(
      subjectName('empty'),
      bytes('x'),
      { timeoutMs: 5000 },
    );

    expect(replies).toEqual([]);
  });

  test('a closed server receives no more requests', async () => {
    const subject = subjectName('closing');
    const served = await requests[0]!.serve(subject, async () => bytes('a'));

    await served.close();

    await expectError(
      () => requests[1]!.request(subject, bytes('x'), { timeoutMs: 5000 }),
      NoRespondersError,
    );
  });
});
