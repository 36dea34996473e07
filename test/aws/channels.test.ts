/**
 * What the aws channels do that the conformance suite does not show: the
 * redrive policy, FIFO order per message group, the SNS size limit, and
 * messages exchanged with producers and consumers that use the SDK alone.
 */
import { CreateTopicCommand, PublishCommand } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError } from '../../src/core/errors.ts';
import { fromSqsBody } from '../../src/providers/aws/wire.ts';
import {
  channelsServer,
  dataOf,
  plainClients,
  wireMessage,
} from './channel-fixtures.ts';

const TIMEOUT_MS = 60_000;

const server = channelsServer();
const channels = () => server.channels();

/** The ARN of existing topic `name` (creating a topic again returns it). */
async function topicArn(name: string): Promise<string> {
  const { sns } = plainClients(server.moto);
  const created = await sns.send(new CreateTopicCommand({ Name: name }));
  return created.TopicArn!;
}

describe('aws channels', () => {
  it(
    'the redrive policy moves a message to the dead-letter queue after maxAttempts receives',
    async () => {
      const { transport } = await channels();
      await transport.ensure({ name: 'orders', ordered: false, groups: [] });
      const consumer = await transport.consume({
        channel: 'orders',
        mode: 'group',
        name: 'billing',
        leaseMs: 1_000,
        maxAttempts: 2,
      });

      await transport.publish('orders', [wireMessage('orders', 1)]);
      const attempts: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const [delivery] = await consumer.fetch(1, { waitMs: 3_000 });
        if (delivery !== undefined) attempts.push(delivery.attempt);
      }
      const [letter] = await transport.deadLetters('orders');
      await consumer.close();

      expect(attempts).toEqual([1, 2]);
      expect(letter?.message.id).toBe('message-1');
      expect(letter?.group).toBe('billing');
      expect(letter?.attempts).toBe(2);
      expect(letter?.reason).toContain('redrive policy');
    },
    TIMEOUT_MS,
  );

  it(
    'an ordered channel hands out the messages of one key in order, one at a time',
    async () => {
      const { transport } = await channels();
      await transport.ensure({
        name: 'steps',
        ordered: true,
        groups: ['runner'],
      });
      const messages = [0, 1, 2].flatMap((index) =>
        ['a', 'b'].map((key) =>
          wireMessage('steps', index * 2 + (key === 'a' ? 0 : 1), {
            id: `${key}-${index}`,
            orderingKey: key,
          }),
        ),
      );
      const consumer = await transport.consume({
        channel: 'steps',
        mode: 'group',
        name: 'runner',
        leaseMs: 5_000,
        maxAttempts: 5,
      });

      await transport.publish('steps', messages);
      const seen: string[] = [];
      const batches: string[][] = [];
      while (seen.length < messages.length) {
        const deliveries = await consumer.fetch(10, { waitMs: 2_000 });
        batches.push(deliveries.map((d) => d.message.id));
        for (const delivery of deliveries) {
          seen.push(delivery.message.id);
          await delivery.ack();
        }
      }
      await consumer.close();

      const of = (key: string) => seen.filter((id) => id.startsWith(key));
      expect(of('a')).toEqual(['a-0', 'a-1', 'a-2']);
      expect(of('b')).toEqual(['b-0', 'b-1', 'b-2']);
      for (const batch of batches) {
        const keys = batch.map((id) => id[0]);
        expect(new Set(keys).size).toBe(keys.length);
      }
    },
    TIMEOUT_MS,
  );

  it(
    'a message whose envelope is over 256 KiB is refused naming both sizes',
    async () => {
      const { transport } = await channels();
      await transport.ensure({ name: 'blobs', ordered: false, groups: [] });
      const big = wireMessage('blobs', 1, {
        body: new Uint8Array(200_000).fill(7),
        contentType: 'application/octet-stream',
      });

      const [outcome, small] = await transport.publish('blobs', [
        big,
        wireMessage('blobs', 2),
      ]);

      expect(small?.ok).toBe(true);
      expect(outcome?.ok).toBe(false);
      const error = outcome?.ok === false ? outcome.error : undefined;
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      const tooLarge = error as PayloadTooLargeError;
      expect(tooLarge.limit).toBe(262_144);
      expect(tooLarge.size).toBeGreaterThan(262_144);
      expect(tooLarge.message).toContain(String(tooLarge.size));
      expect(tooLarge.message).toContain('262144');
    },
    TIMEOUT_MS,
  );

  it(
    'a body from another producer that is not an envelope is dead-lettered with the reason',
    async () => {
      const { transport, prefix } = await channels();
      await transport.ensure({
        name: 'orders',
        ordered: false,
        groups: ['billing'],
      });
      const { sns } = plainClients(server.moto);
      const consumer = await transport.consume({
        channel: 'orders',
        mode: 'group',
        name: 'billing',
        leaseMs: 5_000,
        maxAttempts: 5,
      });

      await sns.send(
        new PublishCommand({
          TopicArn: await topicArn(`${prefix}orders`),
          Message: 'plain text, no envelope',
        }),
      );
      await transport.publish('orders', [wireMessage('orders', 2)]);
      const returned = [];
      for (let i = 0; i < 3 && returned.length === 0; i += 1) {
        returned.push(...(await consumer.fetch(10, { waitMs: 2_000 })));
      }
      for (const delivery of returned) await delivery.ack();
      const letters = await transport.deadLetters('orders');
      await consumer.close();

      expect(returned.map((d) => d.message.id)).toEqual(['message-2']);
      expect(letters).toHaveLength(1);
      expect(letters[0]?.reason).toContain('not a Switchyard envelope');
      expect(letters[0]?.reason).toContain('not valid JSON');
      expect(letters[0]?.group).toBe('billing');
      expect(new TextDecoder().decode(letters[0]?.message.body)).toBe(
        'plain text, no envelope',
      );
    },
    TIMEOUT_MS,
  );

  it(
    'a message published through Switchyard is read by a plain SQS receive',
    async () => {
      const { transport, prefix } = await channels();
      await transport.ensure({
        name: 'orders',
        ordered: false,
        groups: ['billing'],
      });
      const { sqs } = plainClients(server.moto);
      const { QueueUrl } = await sqs.send(
        new GetQueueUrlCommand({ QueueName: `${prefix}orders--billing` }),
      );

      await transport.publish('orders', [
        wireMessage('orders', 7, { attributes: { tenant: 'acme' } }),
      ]);
      const received = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2 }),
      );

      const event = JSON.parse(received.Messages?.[0]?.Body ?? '{}');
      expect(event).toMatchObject({
        specversion: '1.0',
        id: 'message-7',
        type: 'switchyard.channel.orders',
        datacontenttype: 'application/json',
        data: { n: 7 },
        tenant: 'acme',
      });
    },
    TIMEOUT_MS,
  );

  it(
    'a CloudEvent sent with a plain SNS publish is consumed',
    async () => {
      const { transport, prefix } = await channels();
      await transport.ensure({
        name: 'orders',
        ordered: false,
        groups: ['billing'],
      });
      const { sns } = plainClients(server.moto);
      const event = {
        specversion: '1.0',
        id: 'from-outside-1',
        source: '/billing/legacy',
        type: 'switchyard.channel.orders',
        time: '2024-05-01T12:00:00.000Z',
        datacontenttype: 'application/json',
        data: { n: 42 },
      };
      const consumer = await transport.consume({
        channel: 'orders',
        mode: 'group',
        name: 'billing',
        leaseMs: 5_000,
        maxAttempts: 5,
      });

      await sns.send(
        new PublishCommand({
          TopicArn: await topicArn(`${prefix}orders`),
          Message: JSON.stringify(event),
        }),
      );
      const [delivery] = await consumer.fetch(1, { waitMs: 5_000 });
      await delivery?.ack();
      await consumer.close();

      expect(delivery?.message.id).toBe('from-outside-1');
      expect(delivery?.message.channel).toBe('orders');
      expect(dataOf(delivery!.message)).toEqual({ n: 42 });
      expect(delivery?.message.publishedAt).toBe(
        Date.parse('2024-05-01T12:00:00.000Z'),
      );
    },
    TIMEOUT_MS,
  );

  it('fromSqsBody names the channel and the problem', () => {
    expect(() => fromSqsBody('{"hello":1}', 'orders')).toThrow(
      /channel 'orders' is not a Switchyard envelope: .*specversion/,
    );
  });
});
