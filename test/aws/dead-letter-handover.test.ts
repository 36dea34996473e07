/**
 * Dead letters handed to the aws channel transport outside a consumer,
 * as the Lambda adapter hands over the records of an event source
 * mapping: stored in the group's dead-letter queue, listed, replayed.
 */
import {
  DeleteQueueCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/core/errors.ts';
import { createAwsProvider } from '../../src/providers/aws/index.ts';
import {
  channelsServer,
  plainClients,
  wireMessage,
} from './channel-fixtures.ts';

const TIMEOUT_MS = 60_000;

const utf8 = new TextEncoder();

const server = channelsServer();
const channels = () => server.channels();

/** Receives what queue `name` holds now, with its message group. */
async function receive(name: string) {
  const { sqs } = plainClients(server.moto);
  const { QueueUrl } = await sqs.send(
    new GetQueueUrlCommand({ QueueName: name }),
  );
  const answer = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ['MessageGroupId'],
    }),
  );
  return answer.Messages ?? [];
}

describe('aws deadLetter', () => {
  it(
    'stores a message in its group dead-letter queue, listed with reason, attempts and group, and replayed to the group',
    async () => {
      const { transport } = await channels();
      await transport.ensure({
        name: 'orders',
        ordered: false,
        groups: ['billing'],
      });
      const message = wireMessage('orders', 1);

      await transport.deadLetter!('orders', {
        message,
        group: 'billing',
        reason: 'handler failed on attempt 3 of 3: Error: card declined',
        attempts: 3,
      });
      const letters = await transport.deadLetters('orders');
      const replayed = await transport.replayDeadLetters('orders');
      const consumer = await transport.consume({
        channel: 'orders',
        mode: 'group',
        name: 'billing',
        leaseMs: 5_000,
        maxAttempts: 3,
      });
      const deliveries = await consumer.fetch(10, { waitMs: 2_000 });
      for (const delivery of deliveries) await delivery.ack();
      await consumer.close();

      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({
        group: 'billing',
        reason: 'handler failed on attempt 3 of 3: Error: card declined',
        attempts: 3,
      });
      expect(letters[0]!.message).toEqual(message);
      expect(replayed).toBe(1);
      expect(deliveries.map((d) => [d.message.id, d.attempt])).toEqual([
        ['message-1', 1],
      ]);
      expect(await transport.deadLetters('orders')).toEqual([]);
    },
    TIMEOUT_MS,
  );

  it(
    'on an ordered channel, stores and replays the message in the message group of its key',
    async () => {
      const { transport, prefix } = await channels();
      await transport.ensure({ name: 'steps', ordered: true, groups: ['run'] });
      const message = wireMessage('steps', 1, { orderingKey: 'worker-7' });

      await transport.deadLetter!('steps', {
        message,
        group: 'run',
        reason: 'over the limit',
        attempts: 6,
      });
      const [letter] = await transport.deadLetters('steps');
      const replayed = await transport.replayDeadLetters('steps');
      const [back] = await receive(`${prefix}steps--run.fifo`);

      expect(letter?.message.orderingKey).toBe('worker-7');
      expect(letter?.attempts).toBe(6);
      expect(replayed).toBe(1);
      expect(back?.Attributes?.MessageGroupId).toBe('worker-7');
    },
    TIMEOUT_MS,
  );

  it(
    'stores the bytes as received of a letter that carries them, and replays them unchanged',
    async () => {
      const { transport, prefix } = await channels();
      await transport.ensure({ name: 'raw', ordered: false, groups: ['w'] });
      const body = '{"orderId":42}';
      const message = wireMessage('raw', 0, {
        id: 'sqs-message-9',
        body: utf8.encode(body),
        contentType: 'application/octet-stream',
      });

      await transport.deadLetter!('raw', {
        message,
        group: 'w',
        reason: 'not a Switchyard envelope',
        attempts: 1,
        body: utf8.encode(body),
      });
      const [letter] = await transport.deadLetters('raw');
      await transport.replayDeadLetters('raw');
      const [back] = await receive(`${prefix}raw--w`);

      expect(new TextDecoder().decode(letter!.message.body)).toBe(body);
      expect(letter?.reason).toBe('not a Switchyard envelope');
      expect(letter?.group).toBe('w');
      expect(back?.Body).toBe(body);
    },
    TIMEOUT_MS,
  );

  it(
    'refuses a group without a queue, naming it',
    async () => {
      const { transport } = await channels();
      await transport.ensure({ name: 'lonely', ordered: false, groups: [] });

      const stored = transport.deadLetter!('lonely', {
        message: wireMessage('lonely', 1),
        group: 'nobody',
        reason: 'failed',
        attempts: 1,
      });

      const error = await stored.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ kind: 'consumer', resource: 'nobody' });
      expect((error as Error).message).toContain("group 'nobody'");
    },
    TIMEOUT_MS,
  );

  it(
    'refuses a group whose dead-letter queue is gone, naming the queue',
    async () => {
      const { transport, prefix } = await channels();
      await transport.ensure({ name: 'gone', ordered: false, groups: ['g'] });
      const { sqs } = plainClients(server.moto);
      const dlq = `${prefix}gone--g-dlq`;
      const { QueueUrl } = await sqs.send(
        new GetQueueUrlCommand({ QueueName: dlq }),
      );
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      // Another instance, which has looked up no queue yet.
      const other = await createAwsProvider({
        endpoint: server.moto.endpoint,
        prefix,
      });
      afterAll(() => other.close());
      const letter = {
        message: wireMessage('gone', 1),
        group: 'g',
        reason: 'failed',
        attempts: 1,
      };

      const errors = await Promise.all(
        [other.channels!, transport].map((t) =>
          t.deadLetter!('gone', letter).catch((e: unknown) => e),
        ),
      );

      for (const error of errors) {
        expect(error).toBeInstanceOf(NotFoundError);
        expect(error).toMatchObject({ kind: 'dead-letter', resource: dlq });
      }
    },
    TIMEOUT_MS,
  );

  it(
    'refuses a channel that does not exist',
    async () => {
      const { transport } = await channels();

      const error = await transport.deadLetter!('nowhere', {
        message: wireMessage('nowhere', 1),
        group: 'g',
        reason: 'failed',
        attempts: 1,
      }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ kind: 'channel', resource: 'nowhere' });
    },
    TIMEOUT_MS,
  );
});
