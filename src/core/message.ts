/**
 * The message: what a consumer receives, and what travels on the wire.
 *
 * A {@link Message} maps one-to-one onto a CloudEvents 1.0 event (see
 * `cloudevents.ts`): `id` is the event id, `publisherId` the source,
 * `channel` the type, `publishedAt` the time, `contentType` the
 * datacontenttype, and attributes, sequence and trace context extensions.
 */

/** A message as a consumer sees it, with its data decoded. */
export interface Message<T = unknown> {
  /** Unique, producer-assigned, stable across retries and re-publishes. */
  readonly id: string;
  /** Channel the message was published on. */
  readonly channel: string;
  readonly data: T;
  /** String attributes, a valid CloudEvents extension name each. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly publishedAt: Date;
  /** Identifies the publishing client instance. */
  readonly publisherId: string;
  /**
   * Position of this message among those `publisherId` published on this
   * channel, from 1, so a consumer can detect gaps and drop duplicates.
   */
  readonly sequence: number;
  /** Media type of the encoded data, e.g. `application/json`. */
  readonly contentType: string;
  /** Messages with the same key are delivered in order on ordered channels. */
  readonly orderingKey?: string;
  /** W3C trace context. */
  readonly traceparent?: string;
  readonly tracestate?: string;
}

/**
 * A message as a provider stores and carries it: the data encoded by the
 * channel's codec, everything else as plain fields. Providers map these
 * fields onto their own headers or attributes, or carry the whole envelope
 * in structured mode (`envelope.ts`).
 */
export interface WireMessage {
  id: string;
  channel: string;
  /** The data, encoded by the codec named by `contentType`. */
  body: Uint8Array;
  contentType: string;
  attributes: Record<string, string>;
  /** Milliseconds since the epoch. */
  publishedAt: number;
  publisherId: string;
  sequence: number;
  orderingKey?: string;
  traceparent?: string;
  tracestate?: string;
}

/** Options of one publish. */
export interface PublishOptions {
  /**
   * Message id. Defaults to a new random id. Give your own to make a
   * re-publish of the same logical message a duplicate that providers with
   * a dedup window drop and exactly-once consumers skip.
   */
  id?: string;
  attributes?: Record<string, string>;
  /** Ordering key; required by ordered channels. */
  orderingKey?: string;
  traceparent?: string;
  tracestate?: string;
}

/** What a successful publish returns. */
export interface PublishReceipt {
  id: string;
  /** The per-publisher sequence given to the message. */
  sequence: number;
  /**
   * Position in the channel, where the transport numbers messages (stream
   * sequence, row id). Absent on transports that do not.
   */
  channelSequence?: number;
  /**
   * True when the transport recognised the id as already published.
   * Always false under `confirmedBy: 'outbox'`: the transport has not
   * seen the message yet.
   */
  duplicate: boolean;
  /**
   * Where the publish was confirmed: `transport`, the transport stored the
   * message; `outbox`, the message is durable in the local outbox and
   * will be relayed (the transport has not answered yet, so there is no
   * `channelSequence`).
   */
  confirmedBy: 'transport' | 'outbox';
}

/** One entry of a batch publish. */
export interface BatchEntry<T> extends PublishOptions {
  data: T;
}

/** The result of one entry of a batch publish, in the order given. */
export type BatchResult =
  | ({ ok: true } & PublishReceipt)
  | { ok: false; id: string; error: Error };

/**
 * The message a consumer sees of `wire`, with `data` (the decoded body)
 * in place of the body. Its attributes are a copy of the wire's.
 */
export function toMessage<T>(wire: WireMessage, data: T): Message<T> {
  return {
    id: wire.id,
    channel: wire.channel,
    data,
    attributes: { ...wire.attributes },
    publishedAt: new Date(wire.publishedAt),
    publisherId: wire.publisherId,
    sequence: wire.sequence,
    contentType: wire.contentType,
    ...(wire.orderingKey !== undefined && { orderingKey: wire.orderingKey }),
    ...(wire.traceparent !== undefined && { traceparent: wire.traceparent }),
    ...(wire.tracestate !== undefined && { tracestate: wire.tracestate }),
  };
}
