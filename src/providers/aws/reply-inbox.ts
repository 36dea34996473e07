/**
 * The reply queue of one requester: an SQS queue of its own, made on the
 * first request, long-polled while requests wait, and deleted when the
 * provider instance closes. Replies are handed to whoever waits for
 * their correlation id; a reply nobody waits for any more (it came after
 * its timeout) is dropped.
 *
 * The queue keeps a message 60 seconds at most, so a reply queue left
 * behind by a process that crashed holds nothing for long.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import type { AwsContext } from './context.ts';
import { awsError, closed } from './errors.ts';
import { replyQueueName } from './request-names.ts';
import { attribute, CORRELATION_ID, pollQueue } from './request-wire.ts';

/** Receives the replies that match one correlation id. */
export type ReplyListener = (reply: Message) => void;

/** The reply queue of one provider instance. */
export class ReplyInbox {
  readonly #context: AwsContext;
  readonly #name: string;
  readonly #listeners = new Map<string, ReplyListener>();
  readonly #abort = new AbortController();
  #url: Promise<string> | undefined;
  #polling: Promise<void> | undefined;

  constructor(context: AwsContext) {
    this.#context = context;
    this.#name = replyQueueName(context, randomBytes(8).toString('hex'));
  }

  /**
   * The URL of the reply queue, made and polled on the first call.
   * ClosedError once the inbox is closed.
   */
  async url(): Promise<string> {
    if (this.#abort.signal.aborted) throw closed('wait for a reply');
    this.#url ??= this.#open();
    return this.#url;
  }

  /**
   * Hands the replies that carry `correlationId` to `listener` until
   * the returned function is called.
   */
  listen(correlationId: string, listener: ReplyListener): () => void {
    this.#listeners.set(correlationId, listener);
    return () => this.#listeners.delete(correlationId);
  }

  /** Stops polling and deletes the queue. Idempotent. */
  async close(): Promise<void> {
    this.#abort.abort();
    this.#listeners.clear();
    const url = await this.#url?.catch(() => undefined);
    await this.#polling;
    if (url === undefined || this.#polling === undefined) return;
    try {
      await this.#context.sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    } catch (error) {
      this.#context.logger.warn('deleting the reply queue failed', {
        queueUrl: url,
        errorName: error instanceof Error ? error.name : typeof error,
      });
    }
  }

  async #open(): Promise<string> {
    let url: string | undefined;
    try {
      const output = await this.#context.sqs.send(
        new CreateQueueCommand({
          QueueName: this.#name,
          Attributes: { MessageRetentionPeriod: '60' },
        }),
      );
      url = output.QueueUrl;
    } catch (error) {
      throw awsError(error, `create reply queue '${this.#name}'`);
    }
    if (url === undefined) {
      throw awsError(
        new Error('CreateQueue returned no URL'),
        `create reply queue '${this.#name}'`,
      );
    }

    if (this.#abort.signal.aborted) {
      // Closed while the queue was being made: it must not stay.
      await this.#context.sqs
        .send(new DeleteQueueCommand({ QueueUrl: url }))
        .catch(() => {});
      throw closed('wait for a reply');
    }
    this.#polling = pollQueue(this.#context, url, this.#abort.signal, (m) =>
      this.#deliver(m),
    );
    return url;
  }

  #deliver(messages: Message[]): void {
    for (const message of messages) {
      const id = attribute(message, CORRELATION_ID);
      if (id !== undefined) this.#listeners.get(id)?.(message);
    }
  }
}
