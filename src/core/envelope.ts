/**
 * How a provider carries a whole message over a transport that has only a
 * body, or a body and string headers, following the CloudEvents content
 * modes:
 *
 * - structured: the message as one CloudEvents JSON document
 *   (`application/cloudevents+json`), for transports with a body only;
 * - binary: the data as the body, the rest as headers (`ce-id`,
 *   `ce-source`, `ce-type`, `ce-time`, `ce-sequence`, one `ce-{name}` per
 *   attribute..., and `content-type`), for NATS headers, SQS message
 *   attributes, Pub/Sub attributes and the like.
 *
 * Header values are percent-encoded where the CloudEvents HTTP binding
 * asks (space, `"`, `%` and anything outside printable ASCII) and decoded
 * when read. Malformed input is a `DecodeError` saying what is wrong.
 */
import {
  fromCloudEvent,
  holdsUnwritableNumber,
  toCloudEvent,
} from './cloudevents.ts';
import { jsonProblem } from './codecs.ts';
import { DecodeError } from './errors.ts';
import type { WireMessage } from './message.ts';

/** Content type of a structured-mode envelope. */
export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json';
/** Prefix of every CloudEvents header in binary mode. */
export const HEADER_PREFIX = 'ce-';

/** A binary-mode envelope. */
export interface BinaryEnvelope {
  /** Lowercase header names: `ce-*` and `content-type`. */
  headers: Record<string, string>;
  /** The message's body, as it is. */
  body: Uint8Array;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The message as a structured-mode CloudEvents JSON document, in UTF-8.
 *
 * @example
 * await nats.publish(subject, encodeStructured(wire));
 */
export function encodeStructured(message: WireMessage): Uint8Array {
  return utf8.encode(JSON.stringify(toCloudEvent(message)));
}

/**
 * The message of a structured-mode document. A `DecodeError` when the
 * bytes are not UTF-8 JSON or not a CloudEvents 1.0 event.
 */
export function decodeStructured(bytes: Uint8Array): WireMessage {
  let text: string;
  let event: unknown;
  try {
    text = strictUtf8.decode(bytes);
    event = JSON.parse(text);
  } catch (cause) {
    throw new DecodeError(
      `structured envelope of ${bytes.byteLength} bytes is not ${jsonProblem(cause)}`,
      { cause, field: 'envelope' },
    );
  }
  // Another producer may write a number no double holds (1e400) or -0:
  // read again keeping such numbers as written, so the data arrives as
  // sent instead of as null or 0.
  if (holdsUnwritableNumber((event as { data?: unknown } | null)?.data)) {
    const { data } = JSON.parse(text, keepNumberText) as { data: unknown };
    event = { ...(event as object), data };
  }
  return fromCloudEvent(event);
}

/** `JSON.rawJSON`, which ES2023 typings do not declare yet. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** A reviver that keeps the text of numbers JSON cannot write back. */
function keepNumberText(
  _key: string,
  value: unknown,
  context?: { source?: string },
): unknown {
  if (typeof value !== 'number' || context?.source === undefined) {
    return value;
  }
  return holdsUnwritableNumber(value) ? rawJSON(context.source) : value;
}

/**
 * The message as binary-mode headers and body.
 *
 * @example
 * const { headers, body } = encodeBinary(wire);
 */
export function encodeBinary(message: WireMessage): BinaryEnvelope {
  const {
    data: _data,
    data_base64: _base64,
    datacontenttype,
    ...attributes
  } = toCloudEvent(message);
  const headers: Record<string, string> = {
    'content-type': datacontenttype ?? message.contentType,
  };
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    headers[`${HEADER_PREFIX}${name}`] = encodeHeader(String(value));
  }

  return { headers, body: message.body };
}

/**
 * The message of binary-mode headers and body. Header names are matched
 * without regard to case; a header given as a list takes its first value.
 * A `DecodeError` when `ce-specversion`, `ce-id`, `ce-source` or `ce-type`
 * is missing or wrong, or a header cannot be read.
 */
export function decodeBinary(envelope: {
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  body: Uint8Array;
}): WireMessage {
  if (typeof envelope?.headers !== 'object' || envelope.headers === null) {
    throw new DecodeError('binary envelope has no headers', {
      field: 'headers',
    });
  }
  if (!(envelope.body instanceof Uint8Array)) {
    throw new DecodeError('binary envelope body must be a Uint8Array', {
      field: 'body',
    });
  }

  const event: Record<string, unknown> = {};
  for (const [rawName, rawValue] of Object.entries(envelope.headers)) {
    const value = Array.isArray(rawValue) ? rawValue[0] : rawValue;
    if (typeof value !== 'string') continue;
    const name = rawName.toLowerCase();
    if (name === 'content-type') {
      event.datacontenttype = value;
    } else if (name.startsWith(HEADER_PREFIX)) {
      event[name.slice(HEADER_PREFIX.length)] = decodeHeader(name, value);
    }
  }
  if (event.specversion === undefined) {
    throw new DecodeError(
      'binary envelope has no ce-specversion header: it is not a CloudEvents message',
      { field: 'headers' },
    );
  }
  event.data_base64 = Buffer.from(envelope.body).toString('base64');

  return fromCloudEvent(event);
}

/** Percent-encodes what the CloudEvents HTTP binding does not allow raw. */
function encodeHeader(value: string): string {
  let encoded = '';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code > 0x20 && code < 0x7f && char !== '"' && char !== '%') {
      encoded += char;
    } else {
      for (const byte of utf8.encode(char)) {
        encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
      }
    }
  }
  return encoded;
}

function decodeHeader(name: string, value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch (cause) {
    throw new DecodeError(
      `header ${name} has a malformed percent-encoding: ${JSON.stringify(value)}`,
      { cause, field: name },
    );
  }
}
