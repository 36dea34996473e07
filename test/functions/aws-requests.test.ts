import {
  CreateTopicCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
} from 'vitest';
import {
  gatherRecord,
  requestMessage,
  requestRecord,
} from '../../events/aws/request-samples.ts';
import { s3Record } from '../../events/aws/samples.ts';
import { createRouterPipeline } from '../../functions/pipeline.ts';
import { STATS_SUBJECT } from '../../functions/router-event.ts';
import type { RouterStats } from '../../functions/router-stats.ts';
import { createSwitchyard } from '../../src/core/client.ts';
import { jsonCodec } from '../../src/core/codecs.ts';
import { RemoteError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { Provider } from '../../src/core/provider.ts';
import { decodeReply } from '../../src/core/request-envelope.ts';
import type { Switchyard } from '../../src/core/switchyard.ts';
import {
  gatherTopicName,
  LambdaEventError,
  requestQueueName,
  toLambda,
} from '../../src/functions/aws/index.ts';
import { defineFunction } from '../../src/functions/define-function.ts';
import { onRequest } from '../../src/functions/triggers.ts';
import { AwsContext } from '../../src/providers/aws/context.ts';
import { createAwsProvider } from '../../src/providers/aws/index.ts';
import { resolveAwsOptions } from '../../src/providers/aws/options.ts';
import {
  gatherTopicName as providerGatherTopicName,
  requestQueueName as providerRequestQueueName,
} from '../../src/providers/aws/request-names.ts';
import { REQUEST_QUEUE_ATTRIBUTES } from '../../src/providers/aws/request-server.ts';
import {
  attribute,
  CORRELATION_ID,
  decodeBody,
} from '../../src/providers/aws/request-wire.ts';
import { uniqueName } from '../../src/testkit/helpers.ts';
import { type MotoServer, startMotoServer } from '../aws/moto.ts';
import { lambdaContext, memoryProvider, sampleEvent } from './aws-fixtures.ts';
import { recordingLogger } from './fixtures.ts';

let moto: MotoServer;
let sqs: SQSClient;
let sns: SNSClient;

beforeAll(async () => {
  moto = await startMotoServer();
  // A client the adapter builds itself finds the emulator this way.
  process.env.AWS_ENDPOINT_URL_SQS = moto.endpoint;
  sqs = new SQSClient({ endpoint: moto.endpoint });
  sns = new SNSClient({ endpoint: moto.endpoint });
});

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_SQS;
  sqs?.destroy();
  sns?.destroy();
  await moto?.stop();
});

/** The resources a deployed request function has, on the emulator. */
interface Deployed {
  prefix: string;
  requestUrl: string;
  requestArn: string;
  /** Stands in for the function's subscription to the gather topic. */
  gatherUrl: string;
}

/**
 * Declares what the stack declares for a function serving `subject`:
 * its request queue, and its subscription to the gather topic, which
 * tells requesters that somebody serves the subject.
 */
async function deploy(subject: string): Promise<Deployed> {
  const prefix = `${uniqueName('t')}-`;
  const requestUrl = await createQueue(
    requestQueueName(subject, { prefix }),
    REQUEST_QUEUE_ATTRIBUTES,
  );
  const gatherUrl = await createQueue(`${prefix}gathers`);
  const { TopicArn } = await sns.send(
    new CreateTopicCommand({ Name: gatherTopicName(subject, { prefix }) }),
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: await queueArn(gatherUrl),
    }),
  );

  return {
    prefix,
    requestUrl,
    requestArn: await queueArn(requestUrl),
    gatherUrl,
  };
}

async function createQueue(
  name: string,
  attributes: Record<string, string> = {},
): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  return QueueUrl!;
}

async function queueArn(url: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['QueueArn'],
    }),
  );
  return Attributes!.QueueArn!;
}

/** Waits for the next `count` messages of queue `url`. */
async function receive(url: string, count = 1): Promise<Message[]> {
  const messages: Message[] = [];
  while (messages.length < count) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: count - messages.length,
        WaitTimeSeconds: 5,
        MessageAttributeNames: ['All'],
      }),
    );
    messages.push(...Messages);
  }
  return messages;
}

/** The messages queue `url` holds now. */
async function held(url: string): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 0 }),
  );
  return Messages;
}

/** A request function on `subject` that answers `answer(request)`. */
function server(subject: string, answer: (request: unknown) => unknown) {
  return defineFunction({
    name: 'server',
    trigger: onRequest(subject),
    handler: (request: unknown) => answer(request),
  });
}

let provider: Provider;
let requester: Provider;
let client: Switchyard;
let deployed: Deployed;

beforeEach(async () => {
  provider = await memoryProvider();
  deployed = await deploy(STATS_SUBJECT);
  requester = await createAwsProvider({
    endpoint: moto.endpoint,
    prefix: deployed.prefix,
  });
  client = createSwitchyard({ provider: requester });
});

afterEach(async () => {
  await client?.close();
  await requester?.close();
});

describe('a request function on Lambda', () => {
  it('answers an aws requester through its reply queue', async () => {
    const pipeline = createRouterPipeline({ count: 10, workers: 1 });
    const stats = pipeline.functions.find((f) => f.name === 'stats')!;
    const handler = toLambda(stats, { provider, pipeline, sqs });
    const pending = client.request<unknown, RouterStats>(
      STATS_SUBJECT,
      {},
      { timeoutMs: 30_000 },
    );
    const [request] = await receive(deployed.requestUrl);

    const response = await handler(
      { Records: [requestRecord(request!, deployed.requestArn)] },
      lambdaContext(),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    await expect(pending).resolves.toMatchObject({
      eventsApplied: 0,
      workers: 0,
      blocks: 0,
    });
  });

  it('gives the requester a RemoteError naming the error its handler threw', async () => {
    const fn = server(STATS_SUBJECT, () => {
      throw new RangeError('no index yet');
    });
    const handler = toLambda(fn, { provider, sqs });
    const pending = client.request(STATS_SUBJECT, {}, { timeoutMs: 30_000 });
    pending.catch(() => {});
    const [request] = await receive(deployed.requestUrl);

    const response = await handler(
      { Records: [requestRecord(request!, deployed.requestArn)] },
      lambdaContext(),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({
      remoteName: 'RangeError',
      message: "server of 'router.stats' failed: RangeError: no index yet",
    });
  });

  it("answers a gather from its topic as the subject's one server", async () => {
    const fn = server(STATS_SUBJECT, (request) => ({ echo: request }));
    const handler = toLambda(fn, { provider, sqs });
    const pending = client.gather(
      STATS_SUBJECT,
      { round: 1 },
      { timeoutMs: 30_000 },
    );
    const [notification] = await receive(deployed.gatherUrl);

    const response = await handler(
      { Records: [gatherRecord(notification!.Body!)] },
      lambdaContext(),
    );

    expect(response).toBeUndefined();
    await expect(pending).resolves.toEqual([
      { ok: true, data: { echo: { round: 1 } } },
    ]);
  });

  it('answers the sample requests with a client of its own, in the requester format', async () => {
    const replyUrl = await createQueue(`${deployed.prefix}sy-reply-sample`);
    const event = await sampleEvent<SQSEvent>('sqs-requests.json');
    for (const record of event.Records) {
      record.messageAttributes['sy-reply-to']!.stringValue = replyUrl;
    }
    const fn = server(STATS_SUBJECT, (request) => ({ got: request }));
    const handler = toLambda(fn, { provider });

    const response = await handler(event, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    const replies = await receive(replyUrl, 2);
    const decoded = replies
      .map((reply) => ({
        correlationId: attribute(reply, CORRELATION_ID),
        data: decodeReply(decodeBody(reply), jsonCodec, STATS_SUBJECT),
      }))
      .sort((a, b) =>
        String(a.correlationId).localeCompare(String(b.correlationId)),
      );
    expect(decoded).toEqual([
      { correlationId: 'correlation-request-1', data: { got: {} } },
      {
        correlationId: 'correlation-request-2',
        data: { got: { verbose: true } },
      },
    ]);
  });
});

describe('replies that cannot be sent', () => {
  it('returns the request in batchItemFailures when SQS refuses its reply', async () => {
    // A FIFO queue refuses a message without a group: a refusal that a
    // later attempt may not meet, unlike a queue that is gone.
    const fifoUrl = await createQueue(`${deployed.prefix}refusing.fifo`, {
      FifoQueue: 'true',
    });
    const handler = toLambda(
      server(STATS_SUBJECT, () => 'ok'),
      { provider, sqs },
    );
    const record = requestRecord(
      requestMessage({}, { replyTo: fifoUrl }, 'refused-1'),
    );

    const response = await handler({ Records: [record] }, lambdaContext());

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'refused-1' }],
    });
  });

  it('drops a request whose reply queue is gone: nobody waits for it', async () => {
    const goneUrl = await createQueue(`${deployed.prefix}sy-reply-gone`);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: goneUrl }));
    const answered: unknown[] = [];
    const handler = toLambda(
      server(STATS_SUBJECT, (request) => answered.push(request)),
      { provider, sqs },
    );
    const record = requestRecord(
      requestMessage({ n: 1 }, { replyTo: goneUrl }, 'gone-1'),
    );

    const response = await handler({ Records: [record] }, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(answered).toEqual([{ n: 1 }]);
  });

  it('drops a request whose requester stopped waiting, without running it', async () => {
    const replyUrl = await createQueue(`${deployed.prefix}sy-reply-late`);
    const answered: unknown[] = [];
    const handler = toLambda(
      server(STATS_SUBJECT, (request) => answered.push(request)),
      { provider, sqs },
    );
    const late = requestMessage(
      {},
      { replyTo: replyUrl, deadline: Date.now() - 1_000 },
      'late-1',
    );

    const response = await handler(
      { Records: [requestRecord(late)] },
      lambdaContext(),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(answered).toEqual([]);
    expect(await held(replyUrl)).toEqual([]);
  });
});

describe('bad events for a request function', () => {
  it('refuses an S3 event with a LambdaEventError', async () => {
    const handler = toLambda(
      server(STATS_SUBJECT, () => 'ok'),
      { provider, sqs },
    );
    const event = {
      Records: [s3Record('ObjectCreated:Put', 'router-snapshots', 'a.json')],
    };

    const run = handler(event, lambdaContext());

    await expect(run).rejects.toBeInstanceOf(LambdaEventError);
    await expect(run).rejects.toThrow(
      /function 'server' takes SQS or SNS events, got records of event source "aws:s3"/,
    );
  });

  it('refuses an event without records with a LambdaEventError', async () => {
    const handler = toLambda(
      server(STATS_SUBJECT, () => 'ok'),
      { provider, sqs },
    );
    const event = await sampleEvent('bad-event.json');

    const run = handler(event, lambdaContext());

    await expect(run).rejects.toBeInstanceOf(LambdaEventError);
  });

  it('drops a record that carries no reply queue, with a warning', async () => {
    const logger = recordingLogger();
    const answered: unknown[] = [];
    const handler = toLambda(
      server(STATS_SUBJECT, (request) => answered.push(request)),
      { provider, sqs, logger },
    );
    const record = requestRecord(requestMessage({}, {}, 'no-route'));
    record.messageAttributes = {};

    const response = await handler({ Records: [record] }, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(answered).toEqual([]);
    expect(logger.at('warn')).toMatchObject([
      {
        message: 'a request without a reply queue or correlation id is dropped',
        fields: { messageId: 'no-route' },
      },
    ]);
  });
});

describe('requestQueueName', () => {
  it('names the queue and topic as the aws provider does', async () => {
    const context = new AwsContext(
      resolveAwsOptions({ endpoint: moto.endpoint, prefix: 'prod-' }),
      silentLogger,
    );

    const names = [
      requestQueueName(STATS_SUBJECT, { prefix: 'prod-' }),
      gatherTopicName(STATS_SUBJECT, { prefix: 'prod-' }),
    ];

    expect(names).toEqual([
      providerRequestQueueName(context, STATS_SUBJECT),
      providerGatherTopicName(context, STATS_SUBJECT),
    ]);
    expect(names[0]).toMatch(/^prod-sy-req-router_stats-[0-9a-f]{8}$/);
    await context.close();
  });

  it('refuses a subject that is not valid', () => {
    expect(() => requestQueueName('router stats')).toThrow(
      /subject "router stats" is not valid/,
    );
  });
});
