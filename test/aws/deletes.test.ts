/**
 * Acknowledgements of one turn go to SQS as one batched delete, and an
 * entry SQS refuses fails alone.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SwitchyardError } from '../../src/core/errors.ts';
import { BatchedDeletes } from '../../src/providers/aws/deletes.ts';
import { plainClients } from './channel-fixtures.ts';
import { type MotoServer, startMotoServer } from './moto.ts';

let moto: MotoServer;

beforeAll(async () => {
  moto = await startMotoServer();
}, 30_000);

afterAll(() => moto?.stop());

it('a batched delete fails the entry SQS refuses and deletes the others', async () => {
  const { sqs } = plainClients(moto);
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: 'acks' }),
  );
  for (const body of ['a', 'b']) {
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
  }
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }),
  );
  const deletes = new BatchedDeletes(sqs, QueueUrl!);

  const results = await Promise.allSettled([
    deletes.delete(Messages[0]!.ReceiptHandle!, 'a'),
    deletes.delete('not-a-receipt-handle', 'stale'),
    deletes.delete(Messages[1]!.ReceiptHandle!, 'b'),
  ]);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
      ],
    }),
  );

  expect(results.map((r) => r.status)).toEqual([
    'fulfilled',
    'rejected',
    'fulfilled',
  ]);
  const failure = (results[1] as PromiseRejectedResult).reason;
  expect(failure).toBeInstanceOf(SwitchyardError);
  expect(failure.details.providerCode).toBe('ReceiptHandleIsInvalid');
  expect(failure.message).toContain("message 'stale'");
  expect(Attributes?.ApproximateNumberOfMessages).toBe('0');
  expect(Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('0');
});
