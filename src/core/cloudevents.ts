/**
 * The mapping between a message and a CloudEvents 1.0 event, so that a
 * consumer written with the official CloudEvents SDK reads what Switchyard
 * publishes, and the other way round.
 *
 * | message | event |
 * | --- | --- |
 * | `id` | `id` |
 * | `publisherId` | `source` = `/switchyard/{publisherId}` (URI-encoded), and extension `publisherid` |
 * | `channel` | `type` = `switchyard.channel.{channel}`, and extension `channel` |
 * | `publishedAt` | `time`, ISO 8601 in UTC |
 * | `contentType` | `datacontenttype` |
 * | body | `data` when the content type is JSON (`application/json` or `+json`) or text (`text/*`) and the body parses (JSON without a number it cannot write back, such as `1e400`); `data_base64` otherwise |
 * | `sequence` | extension `sequence`: the integer as 16 zero-padded decimal digits, since the Sequence extension asks for a lexicographically ordered string |
 * | `orderingKey` | extension `orderingkey` |
 * | `traceparent`, `tracestate` | the Distributed Tracing extension |
 * | each attribute | an extension of the same name |
 *
 * Reading an event that Switchyard did not write: the channel is the
 * `channel` extension, else `type` without the `switchyard.channel.`
 * prefix; the publisher is the `publisherid` extension, else `source`
 * without the `/switchyard/` prefix; `sequence` is 0 when absent; `time`
 * defaults to the moment of reading, `datacontenttype` to
 * `application/json`; any other extension becomes an attribute (as a
 * string), and `subject` and `dataschema` are not kept.
 */
import type { Codec } from './codec.ts';
import { codecForContentType, encodeValue, mediaType } from './codecs.ts';
import { DecodeError } from './errors.ts';
import { type Message, toMessage, type WireMessage } from './message.ts';

/** The CloudEvents version written and read. */
export const CLOUDEVENTS_SPEC_VERSION = '1.0';
/** Prefix of `source`, followed by the URI-encoded publisher id. */
export const SOURCE_PREFIX = '/switchyard/';
/** Prefix of `type`, followed by the channel name. */
export const TYPE_PREFIX = 'switchyard.channel.';

/** Digits of the `sequence` extension: enough for any safe integer. */
const SEQUENCE_DIGITS = 16;

/** A CloudEvents 1.0 event in its JSON form (structured mode). */
export interface CloudEventJson {
  specversion: string;
  id: string;
  source: string;
  type: string;
  time?: string;
  datacontenttype?: string;
  /** The data as JSON (JSON content) or text (`text/*` content). */
  data?: unknown;
  /** The data as base64, for any other content. */
  data_base64?: string;
  /** Extensions: strings, integers or booleans. */
  [extension: string]: unknown;
}

/** Event attributes the mapping reads itself; the rest are attributes. */
const KNOWN = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'datacontenttype',
  'dataschema',
  'subject',
  'data',
  'data_base64',
  'sequence',
  'publisherid',
  'channel',
  'orderingkey',
  'traceparent',
  'tracestate',
]);

const utf8 = new TextEncoder();
// A leading byte-order mark is part of the body: it is kept, not eaten.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The CloudEvents event of a wire message (see the table above).
 *
 * @example
 * const event = toCloudEvent(wire);
 * event.type; // 'switchyard.channel.kv-events'
 */
export function toCloudEvent(message: WireMessage): CloudEventJson {
  const event: CloudEventJson = {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: message.id,
    source: `${SOURCE_PREFIX}${encodeURIComponent(message.publisherId)}`,
    type: `${TYPE_PREFIX}${message.channel}`,
    time: new Date(message.publishedAt).toISOString(),
    datacontenttype: message.contentType,
    ...dataOf(message.body, message.contentType),
    sequence: String(message.sequence).padStart(SEQUENCE_DIGITS, '0'),
    publisherid: message.publisherId,
    channel: message.channel,
  };
  if (message.orderingKey !== undefined) {
    event.orderingkey = message.orderingKey;
  }
  if (message.traceparent !== undefined) {
    event.traceparent = message.traceparent;
  }
  if (message.tracestate !== undefined) event.tracestate = message.tracestate;
  for (const [name, value] of Object.entries(message.attributes)) {
    event[name] = value;
  }

  return event;
}

/**
 * The wire message of a CloudEvents event in JSON form. Throws a
 * `DecodeError` that says what is wrong when the value is not an event:
 * not an object, `specversion` other than 1.0, a missing `id`, `source` or
 * `type`, an unreadable `time`, `sequence` or `data_base64`, or JSON
 * `data` holding a number that JSON cannot write back (Infinity, NaN,
 * -0). `decodeStructured` reads such numbers from the text as they were
 * written instead.
 *
 * @example
 * const wire = fromCloudEvent(JSON.parse(text));
 */
export function fromCloudEvent(event: unknown): WireMessage {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw malformed(`expected a JSON object, got ${kindOf(event)}`);
  }
  const fields = event as Record<string, unknown>;
  if (fields.specversion !== CLOUDEVENTS_SPEC_VERSION) {
    throw malformed(
      `specversion must be "1.0", got ${JSON.stringify(fields.specversion)}`,
    );
  }
  const id = requiredString(fields, 'id');
  const source = requiredString(fields, 'source');
  const type = requiredString(fields, 'type');
  const contentType =
    optionalString(fields, 'datacontenttype') ?? 'application/json';

  const message: WireMessage = {
    id,
    channel: optionalString(fields, 'channel') ?? channelOf(type),
    body: bodyOf(fields, contentType),
    contentType,
    attributes: attributesOf(fields),
    publishedAt: timeOf(fields.time),
    publisherId: optionalString(fields, 'publisherid') ?? publisherOf(source),
    sequence: sequenceOf(fields.sequence),
  };
  const orderingKey = optionalString(fields, 'orderingkey');
  if (orderingKey !== undefined) message.orderingKey = orderingKey;
  const traceparent = optionalString(fields, 'traceparent');
  if (traceparent !== undefined) message.traceparent = traceparent;
  const tracestate = optionalString(fields, 'tracestate');
  if (tracestate !== undefined) message.tracestate = tracestate;

  return message;
}

/**
 * The event of a decoded message: its data is encoded with `codec`, or
 * with the built-in codec of its content type when none is given.
 */
export function messageToCloudEvent<T>(
  message: Message<T>,
  codec?: Codec<T>,
): CloudEventJson {
  const chosen = codec ?? codecForContentType<T>(message.contentType);
  return toCloudEvent({
    id: message.id,
    channel: message.channel,
    body: encodeValue(chosen, message.data),
    contentType: message.contentType,
    attributes: { ...message.attributes },
    publishedAt: message.publishedAt.getTime(),
    publisherId: message.publisherId,
    sequence: message.sequence,
    ...(message.orderingKey !== undefined && {
      orderingKey: message.orderingKey,
    }),
    ...(message.traceparent !== undefined && {
      traceparent: message.traceparent,
    }),
    ...(message.tracestate !== undefined && {
      tracestate: message.tracestate,
    }),
  });
}

/**
 * The decoded message of an event: its data is decoded with `codec` when
 * that reads the event's content type, otherwise with the built-in codec
 * of the content type (a `DecodeError` when there is none).
 */
export function cloudEventToMessage<T = unknown>(
  event: unknown,
  codec?: Codec<T>,
): Message<T> {
  const wire = fromCloudEvent(event);
  const data = codecForContentType(wire.contentType, codec).decode(wire.body);

  return toMessage(wire, data);
}

/** Whether data of `contentType` is carried as JSON in the event. */
export function isJsonContentType(contentType: string): boolean {
  const type = mediaType(contentType);
  return type === 'application/json' || type.endsWith('+json');
}

/** Whether data of `contentType` is carried as text in the event. */
export function isTextContentType(contentType: string): boolean {
  return mediaType(contentType).startsWith('text/');
}

/**
 * Whether `value` holds a number that JSON text does not give back as it
 * was read: one past the range of a double, which `JSON.parse` reads as
 * ±Infinity and `JSON.stringify` writes as `null` (`1e400`), or -0, which
 * it writes as `0`.
 *
 * @example
 * holdsUnwritableNumber(JSON.parse('{"total":1e400}')); // true
 */
export function holdsUnwritableNumber(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'number') {
      if (!Number.isFinite(item) || Object.is(item, -0)) return true;
    } else if (typeof item === 'object' && item !== null) {
      pending.push(...(Array.isArray(item) ? item : Object.values(item)));
    }
  }
  return false;
}

function dataOf(
  body: Uint8Array,
  contentType: string,
): { data: unknown } | { data_base64: string } {
  if (isJsonContentType(contentType) || isTextContentType(contentType)) {
    try {
      const text = strictUtf8.decode(body);
      if (isTextContentType(contentType)) return { data: text };
      const data = JSON.parse(text);
      // Written back, such a number would change (1e400 becomes null):
      // the bytes are carried as they are instead.
      if (!holdsUnwritableNumber(data)) return { data };
    } catch {
      // Not what the content type says: carry the bytes as they are.
    }
  }
  return { data_base64: Buffer.from(body).toString('base64') };
}

function bodyOf(
  fields: Record<string, unknown>,
  contentType: string,
): Uint8Array {
  const base64 = fields.data_base64;
  if (base64 !== undefined) {
    if (typeof base64 !== 'string' || !BASE64.test(base64)) {
      throw malformed('data_base64 must be a base64 string');
    }
    return new Uint8Array(Buffer.from(base64, 'base64'));
  }

  const { data } = fields;
  if (data === undefined) return new Uint8Array(0);
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string' && !isJsonContentType(contentType)) {
    return utf8.encode(data);
  }
  if (holdsUnwritableNumber(data)) {
    throw malformed(
      'data holds a number JSON cannot carry as it is (Infinity, NaN or -0, which would arrive as null or 0); send such data as data_base64',
    );
  }
  return utf8.encode(JSON.stringify(data));
}

function attributesOf(fields: Record<string, unknown>): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (KNOWN.has(name) || value === undefined || value === null) continue;
    attributes[name] = typeof value === 'string' ? value : String(value);
  }
  return attributes;
}

function timeOf(time: unknown): number {
  if (time === undefined) return Date.now();
  const parsed =
    typeof time === 'string'
      ? Date.parse(time)
      : time instanceof Date
        ? time.getTime()
        : Number.NaN;
  if (Number.isNaN(parsed)) {
    throw malformed(
      `time must be an RFC 3339 timestamp, got ${JSON.stringify(time)}`,
    );
  }
  return parsed;
}

function sequenceOf(sequence: unknown): number {
  if (sequence === undefined) return 0;
  // Our own events carry a padded string; other producers may send an
  // integer.
  const parsed =
    typeof sequence === 'string' && /^\d+$/.test(sequence)
      ? Number(sequence)
      : sequence;
  if (!Number.isSafeInteger(parsed) || (parsed as number) < 0) {
    throw malformed(
      `sequence must be a non-negative integer, got ${JSON.stringify(sequence)}`,
    );
  }
  return parsed as number;
}

function channelOf(type: string): string {
  return type.startsWith(TYPE_PREFIX) ? type.slice(TYPE_PREFIX.length) : type;
}

function publisherOf(source: string): string {
  if (!source.startsWith(SOURCE_PREFIX)) return source;
  try {
    return decodeURIComponent(source.slice(SOURCE_PREFIX.length));
  } catch {
    return source;
  }
}

function requiredString(fields: Record<string, unknown>, name: string): string {
  const value = fields[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw malformed(`${name} must be a non-empty string, got ${kindOf(value)}`);
  }
  return value;
}

function optionalString(
  fields: Record<string, unknown>,
  name: string,
): string | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw malformed(`${name} must be a string, got ${kindOf(value)}`);
  }
  return value;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function malformed(problem: string): DecodeError {
  return new DecodeError(`not a CloudEvents event: ${problem}`, {
    field: 'event',
  });
}
