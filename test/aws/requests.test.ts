import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ClosedError,
  NoRespondersError,
  PayloadTooLargeError,
  RemoteError,
  TimeoutError,
} from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { AwsContext } from '../../src/providers/aws/context.ts';
import { resolveAwsOptions } from '../../src/providers/aws/options.ts';
import { requestQueueName } from '../../src/providers/aws/request-names.ts';
import { AwsRequests } from '../../src/providers/aws/requests.ts';
import {
  createGate,
  expectError,
  uniqueName,
} from '../../src/testkit/helpers.ts';
import { type MotoServer, startMotoServer } from './moto.ts';

let moto: MotoServer;
let contexts: AwsContext[];
let requests: AwsRequests[];

function openContext(prefix = 'sy-'): AwsContext {
  return new AwsContext(
    resolveAwsOptions({ endpoint: moto.endpoint, prefix }),
    silentLogger,
  );
}

beforeAll(async () => {
  moto = await startMotoServer();
  contexts = [1, 2, 3].map(() => openContext());
  requests = contexts.map((context) => new AwsRequests(context));
});

afterAll(async () => {
  await Promise.all((contexts ?? []).map((context) => context.close()));
  await moto?.stop();
});

/** A subject unique to the test, with a `.` as subjects often have. */
function subjectName(stem: string): string {
  return `${uniqueName(stem)}.router`;
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function text(value: Uint8Array): string {
  return new TextDecoder().decode(value);
}

async function queueNames(context: AwsContext, prefix: string) {
  const { QueueUrls = [] } = await context.sqs.send(
    new ListQueuesCommand({ QueueNamePrefix: prefix }),
  );
  return QueueUrls.map((url) => url.slice(url.lastIndexOf('/') + 1));
}

describe('aws request/reply', () => {
  test('a request gets the reply of its server', async () => {
    const subject = subjectName('echo');
    await requests[0]!.serve(subject, async (body) =>
      bytes(`re:${text(body)}`),
    );

    const reply = await requests[1]!.request(subject, bytes('hi'), {
      timeoutMs: 10_000,
    });
    const empty = await requests[1]!.request(subject, new Uint8Array(0), {
      timeoutMs: 10_000,
    });

    expect(text(reply)).toBe('re:hi');
    expect(text(empty)).toBe('re:');
  });

  test('each request goes to one of the servers of its subject', async () => {
    const subject = subjectName('shared');
    const handled: number[] = [];
    for (const [index, transport] of requests.slice(0, 2).entries()) {
      await transport.serve(subject, async () => {
        handled.push(index);
        return bytes(String(index));
      });
    }

    for (let i = 0; i < 6; i += 1) {
      await requests[2]!.request(subject, bytes('x'), { timeoutMs: 10_000 });
    }

    expect(handled).toHaveLength(6);
  });

  test('a request nobody ever served is a no-responders error', async () => {
    const error = await expectError(
      () =>
        requests[0]!.request(subjectName('nobody'), bytes('x'), {
          timeoutMs: 10_000,
        }),
      NoRespondersError,
    );

    expect(error.details).toMatchObject({ provider: 'aws' });
  });

  test('a request after the last server closed is a no-responders error', async () => {
    const subject = subjectName('closing');
    const served = await requests[0]!.serve(subject, async () => bytes('a'));
    await requests[1]!.request(subject, bytes('x'), { timeoutMs: 10_000 });

    await served.close();

    await expectError(
      () => requests[1]!.request(subject, bytes('x'), { timeoutMs: 10_000 }),
      NoRespondersError,
    );
  });

  test('a request whose server does not answer in time is a timeout', async () => {
    const subject = subjectName('slow');
    const release = createGate();
    await requests[0]!.serve(subject, async () => {
      await release.opened;
      return bytes('late');
    });

    const error = await expectError(
      () => requests[1]!.request(subject, bytes('x'), { timeoutMs: 300 }),
      TimeoutError,
    );
    release.open();

    expect(error.timeoutMs).toBe(300);
  });

  test('a handler that rejects makes the request a remote error', async () => {
    const subject = subjectName('fails');
    await requests[0]!.serve(subject, async () => {
      throw new RangeError('worker index out of range');
    });

    const error = await expectError(
      () => requests[1]!.request(subject, bytes('x'), { timeoutMs: 10_000 }),
      RemoteError,
    );

    expect(error.remoteName).toBe('RangeError');
    expect(error.message).toBe('worker index out of range');
  });

  test('a gather collects one reply from each of two servers', async () => {
    const subject = subjectName('stats');
    for (const [index, transport] of requests.slice(0, 2).entries()) {
      await transport.serve(subject, async () => bytes(String(index)));
    }

    const replies = await requests[2]!.gather(subject, bytes('x'), {
      timeoutMs: 10_000,
    });

    expect(replies.map(text).sort()).toEqual(['0', '1']);
  });

  test('a gather with an expected count stops at that many replies', async () => {
    const subject = subjectName('first');
    const release = createGate();
    await requests[0]!.serve(subject, async () => bytes('fast'));
    await requests[1]!.serve(subject, async () => {
      await release.opened;
      return bytes('slow');
    });

    const replies = await requests[2]!.gather(subject, bytes('x'), {
      timeoutMs: 60_000,
      expected: 1,
    });

    expect(release.isOpen).toBe(false);
    expect(replies.map(text)).toEqual(['fast']);
    release.open();
  });

  test('a gather leaves out the reply of a handler that rejects', async () => {
    const subject = subjectName('mixed');
    await requests[0]!.serve(subject, async () => bytes('good'));
    await requests[1]!.serve(subject, async () => {
      throw new Error('stats unavailable');
    });

    const replies = await requests[2]!.gather(subject, bytes('x'), {
      timeoutMs: 10_000,
    });

    expect(replies.map(text)).toEqual(['good']);
  });

  test('a gather nobody serves returns no replies', async () => {
    const replies = await requests[0]!.gather(
      subjectName('empty'),
      bytes('x'),
      { timeoutMs: 10_000 },
    );

    expect(replies).toEqual([]);
  });

  test('a request over the payload limit is refused before it is sent', async () => {
    const subject = subjectName('big');
    await requests[0]!.serve(subject, async (body) => body);

    const error = await expectError(
      () =>
        requests[1]!.request(subject, new Uint8Array(300 * 1024), {
          timeoutMs: 10_000,
        }),
      PayloadTooLargeError,
    );

    expect(error.size).toBe(300 * 1024);
  });

  test('closing the provider removes its reply queue and server queues', async () => {
    const context = openContext('closed-');
    const transport = new AwsRequests(context);
    const subject = subjectName('own');
    await transport.serve(subject, async () => bytes('ok'));
    await transport.request(subject, bytes('x'), { timeoutMs: 10_000 });
    const before = await queueNames(context, 'closed-');

    await context.close();
    const after = await queueNames(contexts[0]!, 'closed-');

    expect(
      before.filter((name) => name.startsWith('closed-sy-reply-')),
    ).toHaveLength(1);
    expect(
      before.filter((name) => name.startsWith('closed-sy-srv-')),
    ).toHaveLength(1);
    // The request queue is shared by the subject's servers and stays.
    expect(after).toEqual([requestQueueName(context, subject)]);
    await expectError(
      () => transport.request(subject, bytes('x'), { timeoutMs: 1000 }),
      ClosedError,
    );
  });

  test('a request waiting when the provider closes ends with a closed error', async () => {
    const context = openContext();
    const transport = new AwsRequests(context);
    const subject = subjectName('pending');
    const entered = createGate();
    const release = createGate();
    await requests[0]!.serve(subject, async () => {
      entered.open();
      await release.opened;
      return bytes('late');
    });

    const waiting = transport.request(subject, bytes('x'), {
      timeoutMs: 60_000,
    });
    const outcome = expectError(() => waiting, ClosedError);
    await entered.opened;
    await context.close();

    await outcome;
    release.open();
  });
});
