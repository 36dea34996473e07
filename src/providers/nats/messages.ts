/**
 * Mapping of messages onto JetStream messages, in the binary mode of
 * CloudEvents: the body is the encoded data as it is, and every other
 * field is a header (`ce-id`, `ce-source`, `ce-type`, `ce-time`,
 * `ce-sequence`, `ce-orderingkey`, `ce-traceparent`, `ce-tracestate`,
 * one `ce-{name}` per attribute, and `content-type`), so that a consumer
 * written with the CloudEvents SDK, or any JetStream client, reads what
 * Switchyard publishes. `Nats-Msg-Id` carries the message id for the
 * stream's duplicate window.
 *
 * A message published by a plain JetStream client, without those headers,
 * is read with defaults: the id is its `Nats-Msg-Id`, else its stream
 * sequence; the content type its `content-type` header, else
 * `application/json`; `publishedAt` the time the stream stored it; the
 * publisher `nats`; the sequence its stream sequence. A message whose
 * headers declare a CloudEvent (a `ce-specversion` header) is not a
 * plain one: it must be a valid CloudEvents 1.0 event in binary mode, or
 * it is dead-lettered with what is wrong (`readNats`).
 */
import { type Msg, type MsgHdrs, MsgHdrsImpl } from '@nats-io/transport-node';
import type { WireMessage } from '../../core/message.ts';

/** Header of the id the stream's duplicate window compares. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';
/** Header of a replayed dead letter: the group it is replayed to. */
export const REPLAY_GROUP_HEADER = 'Switchyard-Replay-Group';
/** Headers of a dead letter, besides those of its message. */
export const DEAD_LETTER_HEADERS = {
  reason: 'Switchyard-Dead-Letter-Reason',
  attempts: 'Switchyard-Dead-Letter-Attempts',
  group: 'Switchyard-Dead-Letter-Group',
  sequence: 'Switchyard-Dead-Letter-Sequence',
} as const;

/** Publisher id of a message a plain JetStream client published. */
export const FOREIGN_PUBLISHER = 'nats';

const SOURCE_PREFIX = '/switchyard/';
const TYPE_PREFIX = 'switchyard.channel.';
const SEQUENCE_DIGITS = 16;
const DEFAULT_CONTENT_TYPE = 'application/json';
/** Printable ASCII but `"` and `%`: header values that need no encoding. */
const PLAIN = /^[\x21\x23-\x24\x26-\x7e]*$/;

/** Headers the mapping reads itself; other `ce-*` are attributes. */
const KNOWN = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'datacontenttype',
  'dataschema',
  'subject',
  'sequence',
  'publisherid',
  'channel',
  'orderingkey',
  'traceparent',
  'tracestate',
]);

/** Where a JetStream message sits, for the defaults of a plain message. */
export interface StoredPosition {
  /** Stream sequence. */
  seq: number;
  /** When the stream stored it, in ms since the epoch. */
  storedAt: number;
}

/**
 * The headers of `message` in binary mode, with `Nats-Msg-Id` set to
 * `msgId` (the message id unless given).
 *
 * @example
 * await js.publish(subject, wire.body, { headers: toHeaders(wire) });
 */
export function toHeaders(message: WireMessage, msgId = message.id): MsgHdrs {
  const h = new MsgHdrsImpl();
  // Values are built here to be valid header values, so they are stored
  // directly instead of through `set`, which scans every key per call.
  const put = (key: string, value: string) => h.headers.set(key, [value]);
  put(MSG_ID_HEADER, msgId);
  put('ce-specversion', '1.0');
  put('ce-id', encodeValue(message.id));
  put('ce-source', sourceOf(message.publisherId));
  put('ce-type', `${TYPE_PREFIX}${message.channel}`);
  put('ce-time', new Date(message.publishedAt).toISOString());
  put('ce-sequence', String(message.sequence).padStart(SEQUENCE_DIGITS, '0'));
  if (message.orderingKey !== undefined) {
    put('ce-orderingkey', encodeValue(message.orderingKey));
  }
  if (message.traceparent !== undefined) {
    put('ce-traceparent', encodeValue(message.traceparent));
  }
  if (message.tracestate !== undefined) {
    put('ce-tracestate', encodeValue(message.tracestate));
  }
  for (const name in message.attributes) {
    put(`ce-${name}`, encodeValue(message.attributes[name]!));
  }
  put('content-type', message.contentType);
  return h;
}

/** Header names and first values of a message, as they came. */
export type HeaderPairs = Iterable<readonly [name: string, value: string]>;

/** The first value of each header in `headers`. */
export function* pairsOf(
  headers: MsgHdrs | undefined,
): Generator<[string, string]> {
  if (headers === undefined) return;
  for (const [key, values] of headers) {
    const value = values[0];
    if (value !== undefined) yield [key, value];
  }
}

/** What the client keeps of a received message besides its API. */
interface ReceivedParts {
  _msg?: { hdr?: unknown };
  _rdata?: unknown;
}

const utf8 = new TextDecoder();

/**
 * The headers of a received message. The client's header object checks
 * and canonicalises every name, which costs more than the rest of a
 * delivery, so the header block is read here directly where the client
 * keeps it (its length and the raw bytes), and through `msg.headers`
 * where it does not.
 */
export function headersOf(msg: Msg): HeaderPairs {
  const { _msg: parsed, _rdata: data } = msg as unknown as ReceivedParts;
  const length = parsed?.hdr;
  if (typeof length !== 'number' || !(data instanceof Uint8Array)) {
    return [...pairsOf(msg.headers)];
  }
  if (length <= 0) return [];
  return parseHeaderBlock(data.subarray(0, length));
}

/**
 * The name/value pairs of a header block, `NATS/1.0\r\nName: value\r\n…
 * \r\n`, in order; a line without a colon is skipped.
 */
export function parseHeaderBlock(block: Uint8Array): [string, string][] {
  const text = utf8.decode(block);
  const pairs: [string, string][] = [];
  let at = text.indexOf('\r\n');
  if (at < 0) return pairs;
  at += 2;
  while (at < text.length) {
    const end = text.indexOf('\r\n', at);
    const stop = end < 0 ? text.length : end;
    if (stop === at) break;
    const colon = text.indexOf(':', at);
    if (colon > at && colon < stop) {
      pairs.push([
        text.slice(at, colon).trim(),
        text.slice(colon + 1, stop).trim(),
      ]);
    }
    at = stop + 2;
  }
  return pairs;
}

/** The fields of a message the `ce-*` headers set. */
interface Fields {
  specversion?: string;
  id?: string;
  source?: string;
  type?: string;
  time?: string;
  sequence?: string;
  publisherid?: string;
  orderingkey?: string;
  traceparent?: string;
  tracestate?: string;
}

/**
 * The message of a JetStream message on `channel`: from its `ce-*`
 * headers, or with the defaults of a plain message where they are
 * missing (see the module comment).
 */
export function fromNats(
  channel: string,
  headers: HeaderPairs,
  body: Uint8Array,
  position: StoredPosition,
): WireMessage {
  return readNats(channel, headers, body, position).message;
}

/**
 * What {@link fromNats} reads, and what is wrong with the envelope when
 * the headers declare a CloudEvent (`ce-specversion`) that is not a valid
 * 1.0 event in binary mode: another specversion, or no `ce-id`,
 * `ce-source` or `ce-type`. Such a message is not read with defaults, as
 * a plain message is, since its attributes would be misread: a consumer
 * dead-letters it with the problem.
 */
export function readNats(
  channel: string,
  headers: HeaderPairs,
  body: Uint8Array,
  position: StoredPosition,
): { message: WireMessage; problem?: string } {
  const fields: Fields = {};
  const attributes: Record<string, string> = {};
  let msgId: string | undefined;
  let contentType: string | undefined;
  for (const [key, value] of headers) {
    const name = key.toLowerCase();
    switch (name) {
      case 'ce-specversion':
        fields.specversion = value;
        break;
      case 'ce-id':
        fields.id = decodeValue(value);
        break;
      case 'ce-source':
        fields.source = decodeValue(value);
        break;
      case 'ce-type':
        fields.type = decodeValue(value);
        break;
      case 'ce-time':
        fields.time = decodeValue(value);
        break;
      case 'ce-sequence':
        fields.sequence = decodeValue(value);
        break;
      case 'ce-publisherid':
        fields.publisherid = decodeValue(value);
        break;
      case 'ce-orderingkey':
        fields.orderingkey = decodeValue(value);
        break;
      case 'ce-traceparent':
        fields.traceparent = decodeValue(value);
        break;
      case 'ce-tracestate':
        fields.tracestate = decodeValue(value);
        break;
      case 'content-type':
        contentType = value;
        break;
      case 'nats-msg-id':
        msgId = value;
        break;
      default:
        if (name.startsWith('ce-') && !KNOWN.has(name.slice(3))) {
          attributes[name.slice(3)] = decodeValue(value);
        }
    }
  }

  const message: WireMessage = {
    id: fields.id ?? msgId ?? String(position.seq),
    channel,
    body,
    contentType: contentType ?? DEFAULT_CONTENT_TYPE,
    attributes,
    publishedAt: timeOf(fields.time) ?? position.storedAt,
    publisherId: publisherOf(fields),
    sequence: sequenceOf(fields.sequence) ?? position.seq,
  };
  if (fields.orderingkey !== undefined) {
    message.orderingKey = fields.orderingkey;
  }
  if (fields.traceparent !== undefined) {
    message.traceparent = fields.traceparent;
  }
  if (fields.tracestate !== undefined) message.tracestate = fields.tracestate;
  const problem = envelopeProblem(fields);
  return problem === undefined ? { message } : { message, problem };
}

/** What is wrong with the CloudEvents headers of `fields`, if any. */
function envelopeProblem(fields: Fields): string | undefined {
  const { specversion } = fields;
  if (specversion === undefined) return undefined;
  if (specversion !== '1.0') {
    return `its ce-specversion header is ${JSON.stringify(specversion)}, and only CloudEvents 1.0 is read`;
  }
  for (const name of ['id', 'source', 'type'] as const) {
    if (!fields[name]) {
      return `its headers declare CloudEvents 1.0 but have no ce-${name}`;
    }
  }
  return undefined;
}

/**
 * A header value as it may travel: printable ASCII as it is, anything
 * else (space, `"`, `%`, control and non-ASCII characters)
 * percent-encoded, as the CloudEvents HTTP binding asks.
 */
export function encodeValue(value: string): string {
  if (PLAIN.test(value)) return value;
  let encoded = '';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code > 0x20 && code < 0x7f && char !== '"' && char !== '%') {
      encoded += char;
    } else {
      for (const byte of Buffer.from(char, 'utf8')) {
        encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
      }
    }
  }
  return encoded;
}

/** A header value as {@link encodeValue} wrote it; malformed ones as is. */
export function decodeValue(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

let lastPublisher = '';
let lastSource = SOURCE_PREFIX;

/** `ce-source` of a publisher; the last one is kept, as it repeats. */
function sourceOf(publisherId: string): string {
  if (publisherId !== lastPublisher) {
    lastPublisher = publisherId;
    lastSource = `${SOURCE_PREFIX}${encodeURIComponent(publisherId)}`;
  }
  return lastSource;
}

let lastReadSource = '';
let lastReadPublisher = FOREIGN_PUBLISHER;

/** The publisher of a message; the last source read is kept, as it repeats. */
function publisherOf(fields: Fields): string {
  if (fields.publisherid !== undefined) return fields.publisherid;
  const { source } = fields;
  if (source === undefined) return FOREIGN_PUBLISHER;
  if (source !== lastReadSource) {
    lastReadSource = source;
    lastReadPublisher = publisherOfSource(source);
  }
  return lastReadPublisher;
}

function publisherOfSource(source: string): string {
  if (!source.startsWith(SOURCE_PREFIX)) return source;
  try {
    return decodeURIComponent(source.slice(SOURCE_PREFIX.length));
  } catch {
    return source;
  }
}

function timeOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

function sequenceOf(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,16}$/.test(value)) return undefined;
  return Number(value);
}
