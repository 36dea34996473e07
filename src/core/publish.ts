/**
 * Building the {@link WireMessage} of a publish: validate the options and
 * the data, encode, check the size, then number it. Nothing is numbered
 * until everything else passed, so a publish refused here leaves no gap in
 * the publisher sequence; one the transport then fails to store does, and
 * a consumer that sees a gap knows only that a message was numbered, not
 * that it was stored.
 */
import { randomUUID } from 'node:crypto';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Codec } from './codec.ts';
import { encodeValue } from './codecs.ts';
import { PayloadTooLargeError, ValidationError } from './errors.ts';
import type { PublishOptions, PublishReceipt, WireMessage } from './message.ts';
import { assertAttributes, assertMessageId } from './names.ts';
import { validateSchema } from './schema.ts';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const MAX_ORDERING_KEY = 256;
const MAX_TRACESTATE = 512;

/** What a channel handle knows when it builds a message. */
export interface PublishContext<T> {
  channel: string;
  codec: Codec<T>;
  schema?: StandardSchemaV1<unknown, T>;
  /** Ordered channels require an ordering key. */
  ordered: boolean;
  /**
   * Largest body accepted, in bytes: the channels provider's limit, or
   * with a claim check the claim check's `maxBytes`.
   */
  maxPayloadBytes: number;
  /** Whether a claim check carries bodies over the provider's limit. */
  claimCheck?: boolean;
  publisherId: string;
  /** The next publisher sequence of the channel. */
  nextSequence(): number;
}

/**
 * The message to hand to the transport. Rejects with a `ValidationError`
 * (id, attributes, ordering key, trace context, schema, or data the codec
 * cannot encode) or a `PayloadTooLargeError` naming the body's size and
 * the limit. The data is encoded as given; consumers validate it again
 * and see the schema's output.
 */
export async function prepareMessage<T>(
  context: PublishContext<T>,
  data: T,
  options: PublishOptions = {},
): Promise<WireMessage> {
  const { channel } = context;
  const id =
    options.id === undefined ? randomUUID() : assertMessageId(options.id);
  const details = { channel, messageId: id };
  const attributes = { ...assertAttributes(options.attributes) };
  checkOrderingKey(options.orderingKey, context.ordered, channel);
  checkTraceContext(options);
  if (context.schema !== undefined) {
    await validateSchema(context.schema, data);
  }

  const body = encodeValue(context.codec, data);
  if (body.byteLength > context.maxPayloadBytes) {
    throw new PayloadTooLargeError(body.byteLength, context.maxPayloadBytes, {
      what: `message ${id} on channel '${channel}'`,
      hint:
        context.claimCheck === true
          ? 'the largest body the claim check takes (claimCheck.maxBytes)'
          : 'the channels provider carries no more; a claim check (the claimCheck setting: an object bucket) would carry it as an object',
      details,
    });
  }

  return {
    id,
    channel,
    body,
    contentType: context.codec.contentType,
    attributes,
    publishedAt: Date.now(),
    publisherId: context.publisherId,
    sequence: context.nextSequence(),
    ...(options.orderingKey !== undefined && {
      orderingKey: options.orderingKey,
    }),
    ...(options.traceparent !== undefined && {
      traceparent: options.traceparent,
    }),
    ...(options.tracestate !== undefined && {
      tracestate: options.tracestate,
    }),
  };
}

/**
 * The receipt of a message the transport (or, with `confirmedBy`
 * `outbox`, the outbox) accepted with `outcome`.
 */
export function receipt(
  message: WireMessage,
  outcome: { channelSequence?: number; duplicate: boolean },
  confirmedBy: PublishReceipt['confirmedBy'] = 'transport',
): PublishReceipt {
  return {
    id: message.id,
    sequence: message.sequence,
    ...(outcome.channelSequence !== undefined && {
      channelSequence: outcome.channelSequence,
    }),
    duplicate: outcome.duplicate,
    confirmedBy,
  };
}

function checkOrderingKey(
  key: unknown,
  ordered: boolean,
  channel: string,
): void {
  if (key === undefined) {
    if (ordered) {
      throw new ValidationError(
        `channel '${channel}' is ordered: every publish needs an orderingKey`,
        { field: 'orderingKey', details: { channel } },
      );
    }
    return;
  }
  if (
    typeof key !== 'string' ||
    key.length === 0 ||
    key.length > MAX_ORDERING_KEY
  ) {
    throw new ValidationError(
      `orderingKey must be a string of 1 to ${MAX_ORDERING_KEY} characters, got ${JSON.stringify(key)}`,
      { field: 'orderingKey', value: key },
    );
  }
}

function checkTraceContext(options: PublishOptions): void {
  const { traceparent, tracestate } = options;
  if (
    traceparent !== undefined &&
    (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent))
  ) {
    throw new ValidationError(
      `traceparent ${JSON.stringify(traceparent)} is not a W3C trace context: use version-traceid-parentid-flags in lowercase hex, e.g. 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`,
      { field: 'traceparent', value: traceparent },
    );
  }
  if (
    tracestate !== undefined &&
    (typeof tracestate !== 'string' || tracestate.length > MAX_TRACESTATE)
  ) {
    throw new ValidationError(
      `tracestate must be a string of at most ${MAX_TRACESTATE} characters`,
      { field: 'tracestate', value: tracestate },
    );
  }
}
