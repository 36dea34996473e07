/**
 * One server of a subject. It long-polls two queues:
 *
 * - the subject's request queue, shared by every server of the subject
 *   (competing consumers: each request goes to one server);
 * - a queue of its own, subscribed with raw delivery to the subject's
 *   gather topic, so that every live server receives each gather.
 *
 * The subscription is also how requesters know that somebody serves the
 * subject, so it is made last when serving starts and removed first when
 * it stops. A request is deleted from its queue when received, then
 * answered at most once; one whose requester stopped waiting is dropped.
 *
 * A server that crashes leaves its queue and subscription behind: its
 * queue keeps messages 60 seconds at most, but until they are removed,
 * requests to a subject with no other server time out instead of
 * failing at once, and gathers wait for their whole timeout.
 */
import { randomBytes } from 'node:crypto';
import { SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  SendMessageCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import type { RawRequestHandler } from '../../core/provider.ts';
import type { AwsContext } from './context.ts';
import { awsError } from './errors.ts';
import { requestQueueName, serverQueueName } from './request-names.ts';
import {
  decodeBody,
  pollQueue,
  replyInput,
  requestRoute,
} from './request-wire.ts';

/** How long closing a server waits for the replies still being made. */
const CLOSE_GRACE_MS = 2000;

/**
 * Attributes of every request queue. SQS refuses to create a queue
 * that exists with other attributes, so they never change. A request
 * lost by a receive cut short by a closing server is visible again
 * after 5 seconds.
 */
export const REQUEST_QUEUE_ATTRIBUTES = {
  MessageRetentionPeriod: '60',
  VisibilityTimeout: '5',
};

/** A running server. */
export interface RequestServer {
  close(): Promise<void>;
}

/** Creates (if absent) the request queue of `subject`; its URL. */
export async function createRequestQueue(
  context: AwsContext,
  subject: string,
): Promise<string> {
  return createQueue(
    context,
    requestQueueName(context, subject),
    REQUEST_QUEUE_ATTRIBUTES,
  );
}

/**
 * Starts serving `subject` with `handler`, taking gathers from topic
 * `topicArn`. Resolves once both queues exist and the server is
 * subscribed.
 */
export async function startServer(
  context: AwsContext,
  subject: string,
  topicArn: string,
  handler: RawRequestHandler,
): Promise<RequestServer> {
  const serverId = randomBytes(4).toString('hex');
  const requestUrl = await createRequestQueue(context, subject);
  const ownName = serverQueueName(context, subject, serverId);
  const ownUrl = await createQueue(context, ownName, {
    MessageRetentionPeriod: '60',
  });
  const subscriptionArn = await subscribe(context, ownUrl, topicArn);

  const abort = new AbortController();
  const running = new Set<Promise<void>>();
  const take = (messages: Message[]) => {
    for (const message of messages) {
      const reply = answer(context, handler, message);
      running.add(reply);
      reply.finally(() => running.delete(reply));
    }
  };
  const polls = [requestUrl, ownUrl].map((url) =>
    pollQueue(context, url, abort.signal, take),
  );

  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        await context.sns
          .send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn }))
          .catch((error) => warn(context, 'unsubscribing a server', error));
        abort.abort();
        await Promise.allSettled(polls);
        await settledWithin([...running], CLOSE_GRACE_MS);
        await context.sqs
          .send(new DeleteQueueCommand({ QueueUrl: ownUrl }))
          .catch((error) => warn(context, 'deleting a server queue', error));
      })();
      return closing;
    },
  };
}

/** Runs `handler` on one request and sends its reply or its failure. */
async function answer(
  context: AwsContext,
  handler: RawRequestHandler,
  message: Message,
): Promise<void> {
  const route = requestRoute(message);
  if (route === undefined || route.deadline < Date.now()) return;

  const reply = await replyInput(route, async () =>
    handler(decodeBody(message)),
  );
  try {
    await context.sqs.send(new SendMessageCommand(reply));
  } catch (error) {
    // The requester's queue is gone (it closed): nobody waits.
    context.logger.debug('a reply could not be sent', {
      queueUrl: route.replyTo,
      errorName: error instanceof Error ? error.name : typeof error,
    });
  }
}

async function createQueue(
  context: AwsContext,
  name: string,
  queueAttributes: Record<string, string>,
): Promise<string> {
  try {
    const output = await context.sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: queueAttributes }),
    );
    if (output.QueueUrl === undefined) {
      throw new Error('CreateQueue returned no URL');
    }
    return output.QueueUrl;
  } catch (error) {
    throw awsError(error, `create queue '${name}'`, {
      details: { queue: name },
    });
  }
}

/**
 * Subscribes queue `url` to `topicArn` with raw delivery, after letting
 * the topic send to it. Returns the subscription's ARN.
 */
async function subscribe(
  context: AwsContext,
  url: string,
  topicArn: string,
): Promise<string> {
  try {
    const queue = await context.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['QueueArn'],
      }),
    );
    const queueArn = queue.Attributes?.QueueArn ?? '';
    await context.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: url,
        Attributes: { Policy: topicPolicy(queueArn, topicArn) },
      }),
    );
    const subscription = await context.sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: queueArn,
        Attributes: { RawMessageDelivery: 'true' },
        ReturnSubscriptionArn: true,
      }),
    );
    return subscription.SubscriptionArn ?? '';
  } catch (error) {
    throw awsError(error, `subscribe a server queue to '${topicArn}'`);
  }
}

/** The queue policy that lets topic `topicArn` send to `queueArn`. */
function topicPolicy(queueArn: string, topicArn: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
      },
    ],
  });
}

/** Waits for `work` to settle, or for `ms`, whichever comes first. */
async function settledWithin(work: Promise<void>[], ms: number) {
  if (work.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  await Promise.race([Promise.allSettled(work), grace]);
  clearTimeout(timer);
}

function warn(context: AwsContext, what: string, error: unknown): void {
  context.logger.warn(`${what} failed`, {
    errorName: error instanceof Error ? error.name : typeof error,
  });
}
