/**
 * Request/reply over SQS, with SNS to reach every server of a subject.
 *
 * - A server of subject `s` long-polls the request queue
 *   `{prefix}sy-req-{s}-{hash}`, shared with the other servers of `s`,
 *   and a queue of its own subscribed to the topic
 *   `{prefix}sy-gather-{s}-{hash}` (see `request-server.ts`).
 * - A requester owns one reply queue per provider instance, made on
 *   its first request and deleted when the instance closes (see
 *   `reply-inbox.ts`).
 * - A request is one SendMessage to the request queue carrying the
 *   reply queue's URL and a correlation id in message attributes; the
 *   server answers with a SendMessage to that queue, and the requester
 *   matches the reply by its correlation id.
 * - A gather is one Publish to the topic, which SNS hands to the queue
 *   of every live server; the replies come back the same way.
 *
 * Somebody serves a subject while its topic has a subscription: a
 * request finds out with one ListSubscriptionsByTopic before it sends,
 * and throws NoRespondersError when the request queue does not exist or
 * nobody is subscribed. A gather ends early once every subscribed
 * server answered.
 *
 * A reply of a handler that rejects carries its error name and message
 * in attributes: the request rejects with a RemoteError, and a gather
 * leaves that reply out. Payloads are at most 190 KiB
 * (PayloadTooLargeError otherwise); a reply over that is answered as a
 * failure. Each round trip is a few SQS calls, so expect tens of
 * milliseconds per request on AWS, not the sub-millisecond of a broker.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateTopicCommand,
  ListSubscriptionsByTopicCommand,
  PublishCommand,
} from '@aws-sdk/client-sns';
import {
  GetQueueUrlCommand,
  type Message,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import {
  NoRespondersError,
  RemoteError,
  TimeoutError,
} from '../../core/errors.ts';
import type {
  RawRequestHandler,
  RequestTransport,
} from '../../core/provider.ts';
import type { AwsContext } from './context.ts';
import { awsCode, awsError, closed, isMissing, PROVIDER } from './errors.ts';
import { ReplyInbox } from './reply-inbox.ts';
import { gatherTopicName, requestQueueName } from './request-names.ts';
import { startServer } from './request-server.ts';
import {
  attribute,
  attributes,
  CORRELATION_ID,
  DEADLINE,
  decodeBody,
  ERROR_MESSAGE,
  ERROR_NAME,
  encodeBody,
  REPLY_TO,
} from './request-wire.ts';

/** What a wait for replies ends with. */
interface Wait {
  /** Called with each reply whose correlation id is the wait's. */
  onReply(reply: { body: Uint8Array; failure?: RemoteError }): void;
}

/** Request/reply of one provider instance. */
export class AwsRequests implements RequestTransport {
  readonly #context: AwsContext;
  readonly #inbox: ReplyInbox;
  readonly #queues = new Map<string, string>();
  readonly #topics = new Map<string, Promise<string>>();

  constructor(context: AwsContext) {
    this.#context = context;
    this.#inbox = new ReplyInbox(context);
    context.lifecycle.track(this.#inbox);
  }

  async serve(
    subject: string,
    handler: RawRequestHandler,
  ): Promise<{ close(): Promise<void> }> {
    const { lifecycle } = this.#context;
    lifecycle.check('serve a subject');
    const topicArn = await this.#topic(subject);

    const running = await startServer(
      this.#context,
      subject,
      topicArn,
      handler,
    );
    const server = {
      close: async () => {
        lifecycle.untrack(server);
        await running.close();
      },
    };
    lifecycle.track(server);
    return server;
  }

  async request(
    subject: string,
    body: Uint8Array,
    options: { timeoutMs: number },
  ): Promise<Uint8Array> {
    this.#context.lifecycle.check('send a request');
    const deadline = Date.now() + options.timeoutMs;
    const message = encodeBody(body, 'request');
    const details = { provider: PROVIDER, subject };

    const queueUrl = await this.#requestQueue(subject);
    const servers =
      queueUrl === undefined ? 0 : await this.#servers(subject, true);
    if (queueUrl === undefined || servers === 0) {
      throw new NoRespondersError(`no server answers subject '${subject}'`, {
        details: { ...details, providerCode: 'NoSubscribers' },
      });
    }

    const replies = this.#await(subject, deadline, 1, (correlationId, url) =>
      this.#context.sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: message,
          MessageAttributes: routing(correlationId, url, deadline),
        }),
      ),
    );
    const [reply] = await replies;
    if (reply === undefined && this.#context.lifecycle.closed) {
      throw closed('wait for a reply');
    }
    if (reply === undefined) {
      throw new TimeoutError(
        `request on subject '${subject}' got no reply within ${options.timeoutMs} ms`,
        options.timeoutMs,
        { details },
      );
    }
    if (reply.failure !== undefined) throw reply.failure;

    return reply.body;
  }

  async gather(
    subject: string,
    body: Uint8Array,
    options: { timeoutMs: number; expected?: number },
  ): Promise<Uint8Array[]> {
    this.#context.lifecycle.check('gather replies');
    const deadline = Date.now() + options.timeoutMs;
    const message = encodeBody(body, 'request');
    if (options.expected !== undefined && options.expected <= 0) return [];

    // No request queue: nobody ever served the subject.
    if ((await this.#requestQueue(subject)) === undefined) return [];
    const servers = await this.#servers(subject, false);
    if (servers === 0) return [];
    const topicArn = await this.#topic(subject);

    const replies = await this.#await(
      subject,
      deadline,
      servers,
      (correlationId, url) =>
        this.#context.sns.send(
          new PublishCommand({
            TopicArn: topicArn,
            Message: message,
            MessageAttributes: routing(correlationId, url, deadline),
          }),
        ),
      options.expected,
    );
    return replies.flatMap((reply) =>
      reply.failure === undefined ? [reply.body] : [],
    );
  }

  /**
   * Sends with `send` and collects the replies of its correlation id
   * until `deadline`, until `count` replies arrived, or until `wanted`
   * of them succeeded; closing the instance ends the wait with what
   * arrived.
   */
  async #await(
    subject: string,
    deadline: number,
    count: number,
    send: (correlationId: string, replyTo: string) => Promise<unknown>,
    wanted?: number,
  ): Promise<{ body: Uint8Array; failure?: RemoteError }[]> {
    const correlationId = randomUUID();
    const replies: { body: Uint8Array; failure?: RemoteError }[] = [];
    const { lifecycle } = this.#context;

    let finish: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const wait: Wait = {
      onReply(reply) {
        replies.push(reply);
        const succeeded = replies.filter((r) => r.failure === undefined);
        const full =
          replies.length >= count ||
          (wanted !== undefined && succeeded.length >= wanted);
        if (full) finish();
      },
    };
    const stop = this.#inbox.listen(correlationId, (message) =>
      wait.onReply(readReply(message, subject)),
    );
    const timer = setTimeout(finish, Math.max(0, deadline - Date.now()));
    timer.unref();
    const closer = { close: async () => finish() };
    lifecycle.track(closer);

    try {
      const replyTo = await this.#inbox.url();
      if (lifecycle.closed) return replies;
      await send(correlationId, replyTo);
      await done;
    } catch (error) {
      if (isMissing(error)) {
        this.#queues.delete(subject);
        throw new NoRespondersError(`no server answers subject '${subject}'`, {
          cause: error,
          details: {
            provider: PROVIDER,
            subject,
            providerCode: awsCode(error),
          },
        });
      }
      throw awsError(error, `send a request on subject '${subject}'`, {
        details: { subject },
      });
    } finally {
      clearTimeout(timer);
      stop();
      lifecycle.untrack(closer);
    }

    return replies;
  }

  /** The URL of the request queue of `subject`, if it exists. */
  async #requestQueue(subject: string): Promise<string | undefined> {
    const known = this.#queues.get(subject);
    if (known !== undefined) return known;
    try {
      const { QueueUrl } = await this.#context.sqs.send(
        new GetQueueUrlCommand({
          QueueName: requestQueueName(this.#context, subject),
        }),
      );
      if (QueueUrl !== undefined) this.#queues.set(subject, QueueUrl);
      return QueueUrl;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw awsError(error, `find the request queue of '${subject}'`, {
        details: { subject },
      });
    }
  }

  /**
   * How many servers are subscribed to the topic of `subject`; with
   * `any`, stops at the first page, enough to tell whether there is one.
   */
  async #servers(subject: string, any: boolean): Promise<number> {
    const topicArn = await this.#topic(subject);
    let count = 0;
    let token: string | undefined;
    try {
      do {
        const page = await this.#context.sns.send(
          new ListSubscriptionsByTopicCommand({
            TopicArn: topicArn,
            NextToken: token,
          }),
        );
        count += page.Subscriptions?.length ?? 0;
        token = page.NextToken;
      } while (token !== undefined && token !== '' && !(any && count > 0));
    } catch (error) {
      if (isMissing(error)) return 0;
      throw awsError(error, `list the servers of '${subject}'`, {
        details: { subject },
      });
    }
    return count;
  }

  /** The ARN of the gather topic of `subject`, made if absent. */
  #topic(subject: string): Promise<string> {
    let arn = this.#topics.get(subject);
    if (arn === undefined) {
      const name = gatherTopicName(this.#context, subject);
      arn = this.#context.sns
        .send(new CreateTopicCommand({ Name: name }))
        .then(({ TopicArn }) => TopicArn ?? '');
      arn.catch(() => this.#topics.delete(subject));
      this.#topics.set(subject, arn);
    }
    return arn.catch((error) => {
      throw awsError(error, `create the gather topic of '${subject}'`, {
        details: { subject },
      });
    });
  }
}

/** The attributes that route a request and its reply. */
function routing(correlationId: string, replyTo: string, deadline: number) {
  return attributes({
    [CORRELATION_ID]: correlationId,
    [REPLY_TO]: replyTo,
    [DEADLINE]: String(deadline),
  });
}

/** A received reply: its payload, or the failure its server reported. */
function readReply(
  message: Message,
  subject: string,
): { body: Uint8Array; failure?: RemoteError } {
  const name = attribute(message, ERROR_NAME);
  if (name === undefined) return { body: decodeBody(message) };
  const failure = new RemoteError(
    attribute(message, ERROR_MESSAGE) ?? '',
    name,
    { details: { provider: PROVIDER, subject } },
  );
  return { body: new Uint8Array(0), failure };
}
