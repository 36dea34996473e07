/**
 * Requests and replies as SQS messages. The body is the payload in
 * base64, since SQS and SNS carry text only (`=` for an empty payload,
 * as SQS refuses an empty body); the routing travels in message
 * attributes:
 *
 * - `sy-correlation-id`: pairs a reply with its request;
 * - `sy-reply-to`: URL of the requester's reply queue;
 * - `sy-deadline`: when the requester stops waiting, in ms since the
 *   epoch, so that a server drops a request nobody waits for;
 * - `sy-error-name`, `sy-error-message`: on a reply whose handler
 *   rejected.
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SendMessageCommandInput,
} from '@aws-sdk/client-sqs';
import type { AwsContext } from './context.ts';
import { tooLarge } from './errors.ts';

export const CORRELATION_ID = 'sy-correlation-id';
export const REPLY_TO = 'sy-reply-to';
export const DEADLINE = 'sy-deadline';
export const ERROR_NAME = 'sy-error-name';
export const ERROR_MESSAGE = 'sy-error-message';

/**
 * The largest payload of a request or reply, in bytes: its base64 and
 * the attributes fit in SQS's 256 KiB message.
 */
export const MAX_PAYLOAD_BYTES = 190 * 1024;

/** How long one receive waits for a message, in seconds (SQS's most). */
export const WAIT_SECONDS = 20;

/** The pause after a failed receive before the next, in ms. */
const RETRY_PAUSE_MS = 1000;

/** Attributes of one outgoing message. */
export type Attributes = Record<string, MessageAttributeValue>;

/** `values` as SQS (or SNS) string message attributes. */
export function attributes(values: Record<string, string>): Attributes {
  const result: Attributes = {};
  for (const [name, value] of Object.entries(values)) {
    result[name] = { DataType: 'String', StringValue: value };
  }
  return result;
}

/** The string attribute `name` of a received message, if present. */
export function attribute(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

/**
 * The body of a message carrying `payload`. Throws a
 * PayloadTooLargeError over {@link MAX_PAYLOAD_BYTES}.
 */
export function encodeBody(payload: Uint8Array, what: string): string {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    throw tooLarge(payload.byteLength, MAX_PAYLOAD_BYTES, what);
  }
  return payload.byteLength === 0
    ? '='
    : Buffer.from(payload).toString('base64');
}

/** The payload a received message carries. */
export function decodeBody(message: Message): Uint8Array {
  return new Uint8Array(Buffer.from(message.Body ?? '', 'base64'));
}

/** Where the reply to a request goes, as its attributes say. */
export interface RequestRoute {
  /** URL of the requester's reply queue. */
  replyTo: string;
  correlationId: string;
  /** When the requester stops waiting, in ms since the epoch; NaN if unsaid. */
  deadline: number;
}

/**
 * The route of a received request; undefined when it carries no reply
 * queue or no correlation id, so that nobody can be answered.
 */
export function requestRoute(message: Message): RequestRoute | undefined {
  const replyTo = attribute(message, REPLY_TO);
  const correlationId = attribute(message, CORRELATION_ID);
  if (replyTo === undefined || correlationId === undefined) return undefined;

  return {
    replyTo,
    correlationId,
    deadline: Number(attribute(message, DEADLINE) ?? Number.NaN),
  };
}

/**
 * The SendMessage input of the reply on `route`: the payload `answer`
 * resolves with, or, when it rejects (a payload over
 * {@link MAX_PAYLOAD_BYTES} included), an empty body whose attributes
 * carry the error's name and message, which the requester turns into a
 * RemoteError.
 */
export async function replyInput(
  route: RequestRoute,
  answer: () => Promise<Uint8Array>,
): Promise<SendMessageCommandInput> {
  let body: string;
  let failure: Record<string, string> = {};
  try {
    body = encodeBody(await answer(), 'reply');
  } catch (error) {
    const cause = error instanceof Error ? error : new Error(String(error));
    body = '=';
    // SQS refuses an empty attribute value: an empty message is left out.
    failure = {
      [ERROR_NAME]: cause.name || 'Error',
      ...(cause.message !== '' && { [ERROR_MESSAGE]: cause.message }),
    };
  }

  return {
    QueueUrl: route.replyTo,
    MessageBody: body,
    MessageAttributes: attributes({
      [CORRELATION_ID]: route.correlationId,
      ...failure,
    }),
  };
}

/**
 * Receives up to ten messages of queue `url`, waiting up to
 * {@link WAIT_SECONDS} for the first; `signal` ends the wait early.
 */
export async function receive(
  context: AwsContext,
  url: string,
  signal: AbortSignal,
): Promise<Message[]> {
  const output = await context.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: WAIT_SECONDS,
      MessageAttributeNames: ['All'],
    }),
    // A long poll outlasts the provider's request timeout by design.
    { abortSignal: signal, requestTimeout: (WAIT_SECONDS + 10) * 1000 },
  );
  return output.Messages ?? [];
}

/**
 * Receives the messages of queue `url` until `signal` aborts, deletes
 * each batch at once (a request is answered at most once) and hands it
 * to `take`. A failed receive is logged and tried again after a pause.
 */
export async function pollQueue(
  context: AwsContext,
  url: string,
  signal: AbortSignal,
  take: (messages: Message[]) => void,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const messages = await receive(context, url, signal);
      if (messages.length === 0) continue;
      await context.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: messages.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
      take(messages);
    } catch (error) {
      if (signal.aborted) return;
      context.logger.warn('receiving from a request or reply queue failed', {
        queueUrl: url,
        errorName: error instanceof Error ? error.name : typeof error,
      });
      await pause(RETRY_PAUSE_MS, signal);
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
