/**
 * The Lambda adapter with a claim check: a record whose message carries
 * a claim-check reference reaches the handler with the original data,
 * read from the bucket, and one whose object is gone or altered is
 * dead-lettered with the reason.
 *
 * On moto: bodies are published through a client with a claim check on
 * the aws provider, and, as moto runs no event source mapping, each test
 * receives from the group's queue, hands the messages to the handler as
 * the SQSEvent Lambda builds, and deletes those the batch response does
 * not list as failed. A read that fails for now, and an SNS event, are
 * unit cases on the memory provider (whose store is made to fail in the
 * first).
 */
import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { snsRecord, sqsRecord } from '../../events/aws/samples.ts';
import { createSwitchyard } from '../../src/core/client.ts';
import {
  ConfigurationError,
  TransportUnavailableError,
} from '../../src/core/errors.ts';
import type { Message, WireMessage } from '../../src/core/message.ts';
import type { ObjectStore, Provider } from '../../src/core/provider.ts';
import {
  referenceMessage,
  sha256,
} from '../../src/delivery/claim-check-reference.ts';
import { toLambda } from '../../src/functions/aws/index.ts';
import { defineFunction } from '../../src/functions/define-function.ts';
import { onBroadcast, onChannel } from '../../src/functions/triggers.ts';
import type { FunctionContext } from '../../src/functions/types.ts';
import { createAwsProvider } from '../../src/providers/aws/index.ts';
import { toSqsBody } from '../../src/providers/aws/wire.ts';
import { TEST_REGION } from '../aws/moto.ts';
import { sqsEvent } from '../infra/sqs-event-source.ts';
import {
  type GroupQueue,
  groupQueue,
  lambdaContext,
  motoForFile,
  providerWithDeadLetters,
  receiveSome,
  settle,
} from './aws-fixtures.ts';

const TIMEOUT_MS = 60_000;

const CHANNEL = 'orders';
const GROUP = 'billing';
const BUCKET = 'claims';
const PREFIX = 'claim-check/';
const CLAIM_CHECK_TYPE = 'application/vnd.switchyard.claim-check+json';

/** What the aws provider carries of a message's data. */
const AWS_LIMIT = 193_536;

/** Data whose JSON body is over the aws provider's limit. */
const large = (tag: string) => ({ tag, text: 'x'.repeat(AWS_LIMIT + 1_000) });

const moto = motoForFile();

type Handle = (message: Message, context: FunctionContext) => unknown;

/** A queue of the group `billing` of `orders`, on a prefix of its own. */
const newQueue = () => groupQueue(moto, CHANNEL, GROUP);

/** Publishes `data` as `id` through a client with the claim check. */
async function publish(queue: GroupQueue, data: unknown, id: string) {
  const client = createSwitchyard({
    provider: await createAwsProvider({
      endpoint: moto.endpoint,
      prefix: queue.prefix,
    }),
    claimCheck: { bucket: BUCKET, prefix: PREFIX },
  });
  try {
    await client.channel(CHANNEL).publish(data, { id });
  } finally {
    await client.close();
  }
}

/** Waits until the queue hands out a message, and returns what it gave. */
const receive = (queue: GroupQueue) => receiveSome(moto.sqs, queue.url);

/** The `datacontenttype` of the envelope a received message carries. */
function contentTypeOf(message: SqsMessage): unknown {
  return (JSON.parse(message.Body!) as { datacontenttype?: unknown })
    .datacontenttype;
}

/**
 * Runs `handle`, the function `billing` of `orders`, on `messages` as
 * the event source mapping would, and deletes what it does not report
 * failed.
 */
async function invoke(
  queue: GroupQueue,
  messages: readonly SqsMessage[],
  handle: Handle,
): Promise<SQSBatchResponse> {
  const fn = defineFunction({
    name: GROUP,
    trigger: onChannel(CHANNEL, { group: GROUP }),
    handler: handle,
  });
  const handler = toLambda(fn, {
    provider: queue.provider,
    claimCheck: { bucket: BUCKET, prefix: PREFIX },
  });

  const response = (await handler(
    sqsEvent(messages, queue.arn, TEST_REGION),
    lambdaContext(),
  )) as SQSBatchResponse;
  await settle(moto.sqs, queue.url, messages, response);

  return response;
}

/**
 * Waits for the queue's messages and runs the function on them with a
 * handler that only records the messages it is handed; returns what was
 * received, the batch response, the messages the handler saw and the
 * dead letters of `orders` afterwards.
 */
async function deliver(queue: GroupQueue) {
  const received = await receive(queue);
  const seen: Message[] = [];

  const response = await invoke(queue, received, (message) => {
    seen.push(message);
  });
  const letters = await queue.provider.channels!.deadLetters(CHANNEL);

  return { received, response, seen, letters };
}

/** The claim-check bucket of the test's prefix, which must exist. */
function bucketOf(queue: GroupQueue): Promise<ObjectStore> {
  return queue.provider.objects!.open(BUCKET, { create: false });
}

const payloadKey = (id: string) => `${PREFIX}${CHANNEL}/${id}/payload`;

describe('toLambda with a claim check, on moto', () => {
  it(
    'hands the handler the original data of a claim-checked record, reports nothing failed, and leaves the object for the expiry rule',
    async () => {
      const queue = await newQueue();
      const data = large('big-1');
      await publish(queue, data, 'big-1');

      const { received, response, seen } = await deliver(queue);
      const object = await (await bucketOf(queue)).head(payloadKey('big-1'));

      expect(received.map(contentTypeOf)).toEqual([CLAIM_CHECK_TYPE]);
      expect(response.batchItemFailures).toEqual([]);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.id).toBe('big-1');
      expect(seen[0]!.data).toEqual(data);
      expect(object?.size).toBeGreaterThan(AWS_LIMIT);
    },
    TIMEOUT_MS,
  );

  it(
    'dead-letters a record whose object was deleted, with a reason naming the bucket and key, as the reference it came as',
    async () => {
      const queue = await newQueue();
      await publish(queue, large('gone-1'), 'gone-1');
      await (await bucketOf(queue)).delete(payloadKey('gone-1'));

      const { response, seen, letters } = await deliver(queue);

      expect(response.batchItemFailures).toEqual([]);
      expect(seen).toEqual([]);
      expect(letters).toHaveLength(1);
      expect(letters[0]!.group).toBe(GROUP);
      expect(letters[0]!.reason).toBe(
        `claim-check object '${payloadKey('gone-1')}' of bucket '${BUCKET}' is missing: removed, expired or never written`,
      );
      expect(letters[0]!.message.id).toBe('gone-1');
      expect(letters[0]!.message.contentType).toBe(CLAIM_CHECK_TYPE);
    },
    TIMEOUT_MS,
  );

  it(
    'dead-letters a record whose object was altered as corrupt',
    async () => {
      const queue = await newQueue();
      await publish(queue, large('bent-1'), 'bent-1');
      await (await bucketOf(queue)).put(
        payloadKey('bent-1'),
        new TextEncoder().encode('{"tag":"bent-1"}'),
        { contentType: 'application/json' },
      );

      const { response, seen, letters } = await deliver(queue);

      expect(response.batchItemFailures).toEqual([]);
      expect(seen).toEqual([]);
      expect(letters.map((l) => l.reason)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^claim-check object '${payloadKey('bent-1')}' of bucket '${BUCKET}' is corrupt: 16 bytes, the reference says \\d+$`,
          ),
        ),
      ]);
    },
    TIMEOUT_MS,
  );

  it(
    'leaves a small body as it is: no object, and the handler sees its data',
    async () => {
      const queue = await newQueue();
      await publish(queue, { tag: 'small-1' }, 'small-1');

      const { received, response, seen } = await deliver(queue);
      const buckets = await queue.provider.objects!.list();

      expect(received.map(contentTypeOf)).toEqual(['application/json']);
      expect(response.batchItemFailures).toEqual([]);
      expect(seen.map((m) => m.data)).toEqual([{ tag: 'small-1' }]);
      // No bucket either: nothing was written, and nothing opened it.
      expect(buckets).not.toContain(BUCKET);
    },
    TIMEOUT_MS,
  );
});

describe('toLambda configured from the environment, as the stack deploys it, on moto', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(process.env)) {
      if (!(name in saved)) delete process.env[name];
    }
    Object.assign(process.env, saved);
  });

  it(
    'resolves the record with the claim check of SWITCHYARD_CLAIM_CHECK_BUCKET, and the handler publishes a large body through it',
    async () => {
      const queue = await newQueue();
      const data = large('env-1');
      await publish(queue, data, 'env-1');
      const received = await receive(queue);
      Object.assign(process.env, {
        SWITCHYARD_PROVIDER: 'aws',
        SWITCHYARD_AWS_ENDPOINT: moto.endpoint,
        SWITCHYARD_AWS_PREFIX: queue.prefix,
        SWITCHYARD_CLAIM_CHECK_BUCKET: BUCKET,
        SWITCHYARD_CLAIM_CHECK_PREFIX: PREFIX,
      });
      const fn = defineFunction({
        name: GROUP,
        trigger: onChannel(CHANNEL, { group: GROUP }),
        handler: async (message: Message, context: FunctionContext) => {
          await context.switchyard
            .channel('receipts')
            .publish(message.data, { id: `receipt-${message.id}` });
        },
      });

      const response = (await toLambda(fn)(
        sqsEvent(received, queue.arn, TEST_REGION),
        lambdaContext(),
      )) as SQSBatchResponse;
      await settle(moto.sqs, queue.url, received, response);
      const receipt = await (await bucketOf(queue)).get(
        `${PREFIX}receipts/receipt-env-1/payload`,
      );

      expect(response.batchItemFailures).toEqual([]);
      expect(receipt?.info.size).toBe(JSON.stringify(data).length);
    },
    TIMEOUT_MS,
  );
});

describe('toLambda with a claim check whose store fails for now', () => {
  /**
   * A reference record on a memory provider with dead letters, whose
   * claim-check store fails every read with a TransportUnavailableError.
   */
  async function failingReads(attempt: number) {
    const { provider, letters } = await providerWithDeadLetters();
    afterAll(() => provider.close());
    const objects = provider.objects!;
    await objects.open(BUCKET, { create: true });
    const failing: Provider = {
      ...provider,
      objects: {
        list: () => objects.list(),
        delete: (bucket) => objects.delete(bucket),
        async open(bucket, options) {
          const store = await objects.open(bucket, options);
          return {
            put: (name, body, putOptions) => store.put(name, body, putOptions),
            list: (prefix) => store.list(prefix),
            head: (name) => store.head(name),
            delete: (name, deleteOptions) => store.delete(name, deleteOptions),
            get: async () => {
              throw new TransportUnavailableError('store unreachable');
            },
          };
        },
      },
    };
    const record = sqsRecord(toSqsBody(referenceTo('big-1').reference), {
      messageId: 'record-1',
      attempt,
    });
    const seen: string[] = [];
    const fn = defineFunction({
      name: GROUP,
      trigger: onChannel(CHANNEL, { group: GROUP }),
      maxAttempts: 3,
      handler: (message: Message) => {
        seen.push(message.id);
      },
    });
    const handler = toLambda(fn, {
      provider: failing,
      claimCheck: { bucket: BUCKET, prefix: PREFIX },
    });

    return { handler, record, letters, seen };
  }

  it('reports the record failed, for the queue to deliver it again, while attempts are left', async () => {
    const { handler, record, letters, seen } = await failingReads(1);

    const response = await handler({ Records: [record] }, lambdaContext());

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'record-1' }],
    });
    expect(letters).toEqual([]);
    expect(seen).toEqual([]);
  });

  it('dead-letters it with the reason on its last attempt', async () => {
    const { handler, record, letters, seen } = await failingReads(3);

    const response = await handler({ Records: [record] }, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([]);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.reason).toBe(
      `claim-check object '${payloadKey('big-1')}' of bucket '${BUCKET}' could not be read: TransportUnavailableError: store unreachable (attempt 3 of 3)`,
    );
    expect(letters[0]!.message.contentType).toBe(CLAIM_CHECK_TYPE);
  });
});

describe('the claimCheck option of toLambda', () => {
  it('refuses a bucket that is no bucket name at once, naming the field and the value', async () => {
    const { provider } = await providerWithDeadLetters();
    afterAll(() => provider.close());
    const fn = defineFunction({
      name: GROUP,
      trigger: onChannel(CHANNEL, { group: GROUP }),
      handler: () => {},
    });

    const make = () =>
      toLambda(fn, { provider, claimCheck: { bucket: 'Large Bodies' } });

    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow(
      /^claimCheck\.bucket must be a bucket name.*got "Large Bodies"$/,
    );
  });
});

describe('toLambda with a claim check, on SNS', () => {
  it('hands a broadcast function the original data of a claim-checked notification', async () => {
    const { provider } = await providerWithDeadLetters();
    afterAll(() => provider.close());
    const { reference, body } = referenceTo('big-2');
    const bucket = await provider.objects!.open(BUCKET, { create: true });
    await bucket.put(payloadKey('big-2'), body, {
      contentType: 'application/json',
    });
    const seen: unknown[] = [];
    const fn = defineFunction({
      name: 'audit',
      trigger: onBroadcast(CHANNEL),
      handler: (message: Message) => {
        seen.push(message.data);
      },
    });
    const handler = toLambda(fn, {
      provider,
      claimCheck: { bucket: BUCKET, prefix: PREFIX },
    });

    const response = await handler(
      { Records: [snsRecord(reference)] },
      lambdaContext(),
    );

    expect(response).toBeUndefined();
    expect(seen).toEqual([large('big-2')]);
  });
});

/** The reference message of a large body published as message `id`. */
function referenceTo(id: string): { reference: WireMessage; body: Uint8Array } {
  const body = new TextEncoder().encode(JSON.stringify(large(id)));
  const message: WireMessage = {
    id,
    channel: CHANNEL,
    body,
    contentType: 'application/json',
    attributes: {},
    publishedAt: Date.now(),
    publisherId: 'test',
    sequence: 1,
  };
  const reference = referenceMessage(message, {
    v: 1,
    bucket: BUCKET,
    key: payloadKey(id),
    size: body.byteLength,
    sha256: sha256(body),
    contentType: message.contentType,
    generation: 'a1b2c3d4e5f60718',
    groups: [GROUP],
  });

  return { reference, body };
}
