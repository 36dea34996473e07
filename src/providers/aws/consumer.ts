/**
 * An open consumer of a channel: SQS long polling on the queue of a
 * worker group or of a broadcast consumer, and deliveries settled on
 * that queue.
 *
 * - fetch: `ReceiveMessage` waiting up to `waitMs` (20 s a call at most,
 *   repeated until `waitMs` has passed) for the first messages, then
 *   further calls that do not wait while SQS returns full batches of ten;
 *   the lease is the receive's visibility timeout, `leaseMs` rounded up to
 *   whole seconds; the attempt is `ApproximateReceiveCount`;
 * - ack: a delete, batched with the others of the same turn;
 * - nak and extend: `ChangeMessageVisibility`, in whole seconds, at most
 *   12 hours; on a receipt that no longer holds the message (another
 *   receipt deleted it, or its visibility lapsed) a nak does nothing and
 *   an extend is a ConflictError;
 * - deadLetter: a send to the dead-letter queue with the reason, then a
 *   delete (`dead-letters.ts`).
 *
 * A body that is not a Switchyard envelope is never returned: the
 * consumer dead-letters it with the DecodeError's message as reason. The
 * `prefetch` hint is not used: each fetch receives what it returns.
 *
 * On an ordered channel each receive asks for one message: SQS returns
 * several messages of one message group in a single receive, and the
 * next of a key must not be handed out before the one before it is
 * settled, while a receive of one leaves the rest of its group held back
 * by SQS until then.
 */
import {
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs';
import { ConflictError, DecodeError } from '../../core/errors.ts';
import type {
  ConsumerSpec,
  FetchOptions,
  TransportConsumer,
  TransportDelivery,
} from '../../core/provider.ts';
import type { AwsContext } from './context.ts';
import { sendDeadLetter } from './dead-letters.ts';
import { BatchedDeletes, SQS_BATCH_SIZE } from './deletes.ts';
import { awsCode, awsError, closed, PROVIDER } from './errors.ts';
import type { ChannelTopic } from './topics.ts';
import { fromSqsBody } from './wire.ts';

/** The longest wait of one `ReceiveMessage` call, in seconds. */
export const MAX_WAIT_SECONDS = 20;
/** The longest visibility timeout SQS allows, in seconds. */
export const MAX_VISIBILITY_SECONDS = 43_200;
/** Most deliveries one fetch returns. */
export const MAX_FETCH = 1000;

/**
 * SQS errors of a visibility change on a receipt that no longer holds
 * the message: deleted through another receipt, or no longer in flight.
 */
const LEASE_LOST = new Set(['ReceiptHandleIsInvalid', 'MessageNotInflight']);

/** The queues a consumer reads and dead-letters to. */
export interface ConsumerQueues {
  url: string;
  deadLetterUrl: string;
}

/** A consumer of one queue. `onClose` removes what it opened. */
export class SqsConsumer implements TransportConsumer {
  readonly spec: ConsumerSpec;
  readonly #ctx: AwsContext;
  readonly #topic: ChannelTopic;
  readonly #queues: ConsumerQueues;
  readonly #deletes: BatchedDeletes;
  readonly #stop = new AbortController();
  readonly #onClose: () => Promise<void>;
  #closing: Promise<void> | undefined;

  constructor(
    ctx: AwsContext,
    topic: ChannelTopic,
    spec: ConsumerSpec,
    queues: ConsumerQueues,
    onClose: () => Promise<void> = async () => {},
  ) {
    this.#ctx = ctx;
    this.#topic = topic;
    this.spec = spec;
    this.#queues = queues;
    this.#deletes = new BatchedDeletes(ctx.sqs, queues.url);
    this.#onClose = onClose;
  }

  async fetch(
    max: number,
    options: FetchOptions,
  ): Promise<TransportDelivery[]> {
    if (this.#closing !== undefined) {
      throw closed('fetch', `consumer '${this.spec.name}'`);
    }
    const limit = Math.max(1, Math.min(Math.floor(max) || 1, MAX_FETCH));
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.#stop.signal])
      : this.#stop.signal;
    const until = Date.now() + Math.max(0, options.waitMs);
    const deliveries: TransportDelivery[] = [];

    // Wait for the first messages, then take what is ready at once.
    let waiting = options.waitMs >= 1;
    for (;;) {
      const wanted = this.#topic.ordered
        ? 1
        : Math.min(SQS_BATCH_SIZE, limit - deliveries.length);
      const seconds = waiting ? waitSeconds(until - Date.now()) : 0;
      const received = await this.#receive(wanted, seconds, signal);
      deliveries.push(...(await this.#accept(received)));

      if (deliveries.length >= limit || signal.aborted) break;
      if (received.length > 0 && received.length < wanted) break;
      if (received.length === 0 && (!waiting || Date.now() >= until)) break;
      if (deliveries.length > 0) waiting = false;
    }

    return deliveries;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#stop.abort();
    await this.#deletes.drain();
    await this.#onClose();
  }

  async #receive(
    wanted: number,
    seconds: number,
    signal: AbortSignal,
  ): Promise<SqsMessage[]> {
    if (signal.aborted) return [];
    const { requestTimeoutMs } = this.#ctx.options;
    try {
      const answer = await this.#ctx.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.#queues.url,
          MaxNumberOfMessages: wanted,
          WaitTimeSeconds: seconds,
          VisibilityTimeout: visibilitySeconds(this.spec.leaseMs),
          MessageSystemAttributeNames: [
            'ApproximateReceiveCount',
            'SentTimestamp',
            'MessageGroupId',
          ],
        }),
        {
          abortSignal: signal,
          requestTimeout: seconds * 1000 + requestTimeoutMs,
        },
      );
      return answer.Messages ?? [];
    } catch (error) {
      if (signal.aborted) return [];
      throw awsError(error, `receive from ${this.#describe()}`, {
        details: { channel: this.spec.channel, group: this.spec.name },
        notFound: { kind: 'consumer', resource: this.spec.name },
      });
    }
  }

  /** The deliveries of `received`; bodies that are none are moved away. */
  async #accept(received: SqsMessage[]): Promise<TransportDelivery[]> {
    const deliveries: TransportDelivery[] = [];
    for (const message of received) {
      const body = message.Body ?? '';
      const attempt = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
      try {
        const wire = fromSqsBody(body, this.spec.channel);
        deliveries.push(this.#delivery(message, wire, attempt));
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        await this.#moveAway(message, error, attempt);
      }
    }

    return deliveries;
  }

  #delivery(
    message: SqsMessage,
    wire: ReturnType<typeof fromSqsBody>,
    attempt: number,
  ): TransportDelivery {
    const handle = message.ReceiptHandle ?? '';
    const settle = (seconds: number, operation: string) =>
      this.#changeVisibility(handle, seconds, wire.id, operation);

    return {
      message: wire,
      attempt,
      ack: () => this.#deletes.delete(handle, wire.id),
      nak: async (delayMs) => {
        try {
          await settle(visibilitySeconds(delayMs, 0), 'retry');
        } catch (error) {
          // No longer this receipt's to return: another receipt of the
          // message deleted it, or its visibility lapsed already.
          if (!(error instanceof ConflictError)) throw error;
        }
      },
      extend: (leaseMs) => settle(visibilitySeconds(leaseMs), 'extend'),
      deadLetter: async (reason) => {
        await this.#deadLetter(message, wire.id, reason, attempt);
      },
    };
  }

  /** Dead-letters a body that is not a Switchyard envelope. */
  async #moveAway(
    message: SqsMessage,
    error: DecodeError,
    attempt: number,
  ): Promise<void> {
    const id = message.MessageId ?? '';
    try {
      await this.#deadLetter(message, id, error.message, attempt);
      this.#ctx.logger.error(
        'dead-lettered a body that is not a Switchyard envelope',
        {
          channel: this.spec.channel,
          group: this.spec.name,
          sqsMessageId: id,
          reason: error.message,
        },
      );
    } catch (failure) {
      // It comes back when its lease lapses, and is moved then.
      this.#ctx.logger.warn(
        'could not dead-letter a body that is not a Switchyard envelope',
        {
          channel: this.spec.channel,
          group: this.spec.name,
          sqsMessageId: id,
          error: String(failure),
        },
      );
    }
  }

  async #deadLetter(
    message: SqsMessage,
    messageId: string,
    reason: string,
    attempts: number,
  ): Promise<void> {
    const messageGroupId = message.Attributes?.MessageGroupId;
    await sendDeadLetter(this.#ctx, {
      queueUrl: this.#queues.deadLetterUrl,
      ordered: this.#topic.ordered,
      body: message.Body ?? '',
      messageId,
      ...(messageGroupId !== undefined && { messageGroupId }),
      reason,
      attempts,
      group: this.spec.name,
    });
    await this.#deletes.delete(message.ReceiptHandle ?? '', messageId);
  }

  async #changeVisibility(
    handle: string,
    seconds: number,
    messageId: string,
    operation: string,
  ): Promise<void> {
    try {
      await this.#ctx.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.#queues.url,
          ReceiptHandle: handle,
          VisibilityTimeout: seconds,
        }),
      );
    } catch (error) {
      const details = {
        channel: this.spec.channel,
        group: this.spec.name,
        messageId,
      };
      const code = awsCode(error);
      if (code !== undefined && LEASE_LOST.has(code)) {
        throw new ConflictError(
          `cannot ${operation} message '${messageId}': its lease is no longer held (${code}): it was settled through another receipt, or its visibility lapsed`,
          { cause: error, details: { provider: PROVIDER, code, ...details } },
        );
      }
      throw awsError(error, `${operation} message '${messageId}'`, {
        details,
      });
    }
  }

  #describe(): string {
    return `${this.spec.mode} '${this.spec.name}' of channel '${this.spec.channel}'`;
  }
}

/** `ms` as a long-poll wait: whole seconds, rounded up, at most 20. */
function waitSeconds(ms: number): number {
  return Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.ceil(ms / 1000)));
}

/** `ms` as a visibility timeout: whole seconds, rounded up. */
function visibilitySeconds(ms: number, min = 1): number {
  const seconds = Math.ceil(Math.max(0, ms) / 1000);
  return Math.max(min, Math.min(MAX_VISIBILITY_SECONDS, seconds));
}
