/**
 * How a message travels on SNS and SQS: the body of the SNS message (and,
 * with raw message delivery, of the SQS message) is the CloudEvents
 * structured-mode JSON document of the message, as text. Nothing rides in
 * message attributes, so a message keeps its shape through a topic, a
 * queue, a redrive to a dead-letter queue and a Lambda event alike, and a
 * consumer written with the CloudEvents SDK can read it.
 */
import { decodeStructured, encodeStructured } from '../../core/envelope.ts';
import { DecodeError } from '../../core/errors.ts';
import type { WireMessage } from '../../core/message.ts';
import { PROVIDER } from './errors.ts';

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** The SNS or SQS message body of `wire`. */
export function toSqsBody(wire: WireMessage): string {
  return text.decode(encodeStructured(wire));
}

/**
 * The message of an SNS or SQS body received on `channel`. The message's
 * channel is the one it was received on. Throws a DecodeError that says
 * why when the body is not JSON or not a CloudEvents 1.0 event; its
 * `value` holds the body's first 200 characters.
 *
 * @example
 * const wire = fromSqsBody(record.body, 'orders');
 */
export function fromSqsBody(body: string, channel: string): WireMessage {
  let wire: WireMessage;
  try {
    wire = decodeStructured(utf8.encode(body));
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new DecodeError(
      `message of ${body.length} characters on channel '${channel}' is not a Switchyard envelope: ${why}`,
      {
        cause,
        field: 'body',
        value: body.slice(0, 200),
        details: { provider: PROVIDER, channel },
      },
    );
  }

  return { ...wire, channel };
}
