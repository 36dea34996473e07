/**
 * The built-in codecs and how a codec is chosen: by option when writing, by
 * the message's content type when reading, so that a consumer decodes what
 * a producer with another codec wrote.
 */
import {
  decode as msgpackDecode,
  encode as msgpackEncode,
} from '@msgpack/msgpack';
import type { Codec, CodecOption } from './codec.ts';
import {
  ConfigurationError,
  DecodeError,
  SwitchyardError,
  ValidationError,
} from './errors.ts';

const JSON_TYPE = 'application/json';
const MSGPACK_TYPE = 'application/msgpack';
const RAW_TYPE = 'application/octet-stream';

/** Media types also read as MessagePack. */
const MSGPACK_ALIASES = new Set([
  MSGPACK_TYPE,
  'application/x-msgpack',
  'application/vnd.msgpack',
]);

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The MessagePack encoding of the string `__proto__`. */
const PROTO_KEY = Buffer.from(msgpackEncode('__proto__'));

/**
 * JSON in UTF-8, content type `application/json`. The default codec.
 *
 * Encoding follows `JSON.stringify`: a nested `undefined` or function is
 * left out, a `Date` becomes its ISO string. A value with no JSON form (a
 * BigInt, a cycle, or `undefined`, a function or a symbol at the top level)
 * is a `ValidationError`; bytes that are not UTF-8 JSON are a `DecodeError`.
 *
 * @example
 * jsonCodec.decode(jsonCodec.encode({ worker: 1 })); // { worker: 1 }
 */
export const jsonCodec: Codec<unknown> = {
  name: 'json',
  contentType: JSON_TYPE,
  encode(value) {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (cause) {
      throw new ValidationError(
        `value cannot be encoded as JSON: ${describe(cause)}`,
        { cause, field: 'data' },
      );
    }
    if (text === undefined) {
      throw new ValidationError(
        `value cannot be encoded as JSON: ${typeof value} has no JSON form`,
        { field: 'data', value: typeof value },
      );
    }
    return utf8.encode(text);
  },
  decode(bytes) {
    try {
      return JSON.parse(strictUtf8.decode(bytes));
    } catch (cause) {
      throw new DecodeError(
        `${bytes.byteLength} bytes are not ${jsonProblem(cause)}`,
        {
          cause,
          field: 'data',
        },
      );
    }
  },
};

/**
 * MessagePack (`@msgpack/msgpack`), content type `application/msgpack`.
 * Carries `Uint8Array` values as binary and `Date` as a timestamp.
 *
 * A value MessagePack cannot represent (a BigInt, a function, a symbol, or
 * objects nested over 100 deep, which is how a cycle shows) is a
 * `ValidationError`, and so is an object with an own `__proto__` key,
 * which the decoder refuses to read (JSON carries one); malformed
 * bytes are a `DecodeError`.
 *
 * @example
 * msgpackCodec.decode(msgpackCodec.encode({ hash: new Uint8Array([1]) }));
 */
export const msgpackCodec: Codec<unknown> = {
  name: 'msgpack',
  contentType: MSGPACK_TYPE,
  encode(value) {
    let bytes: Uint8Array;
    try {
      bytes = msgpackEncode(value);
    } catch (cause) {
      throw new ValidationError(
        `value cannot be encoded as MessagePack: ${describe(cause)}`,
        { cause, field: 'data' },
      );
    }
    // The key's encoding in the bytes is rare: only then is the value
    // searched for the object that holds it.
    if (
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(
        PROTO_KEY,
      )
    ) {
      const path = protoKeyPath(value);
      if (path !== undefined) {
        throw new ValidationError(
          `value cannot be encoded as MessagePack: ${path} has an own __proto__ key, which MessagePack decoders refuse to read; rename the key or use the json codec`,
          { field: 'data', value: path },
        );
      }
    }
    return bytes;
  },
  decode(bytes) {
    try {
      return msgpackDecode(bytes);
    } catch (cause) {
      throw new DecodeError(
        `bytes are not valid MessagePack: ${describe(cause)}`,
        { cause, field: 'data' },
      );
    }
  },
};

/**
 * Bytes as they are, content type `application/octet-stream`. Encoding
 * anything but a `Uint8Array` (a `Buffer` is one) is a `ValidationError`;
 * decoding never fails.
 *
 * @example
 * const channel = client.channel<Uint8Array>('frames', { codec: 'raw' });
 */
export const rawCodec: Codec<Uint8Array> = {
  name: 'raw',
  contentType: RAW_TYPE,
  encode(value) {
    if (!(value instanceof Uint8Array)) {
      throw new ValidationError(
        `the raw codec takes a Uint8Array, got ${kindOf(value)}`,
        { field: 'data', value: kindOf(value) },
      );
    }
    return value;
  },
  decode(bytes) {
    return bytes;
  },
};

/**
 * The codec an option names: `json` (also when `option` is undefined),
 * `msgpack`, `raw`, or a codec object as given. Anything else is a
 * `ConfigurationError` naming `field`.
 *
 * @example
 * resolveCodec('msgpack').contentType; // 'application/msgpack'
 */
export function resolveCodec<T = unknown>(
  option?: CodecOption<T>,
  field = 'codec',
): Codec<T> {
  if (option === undefined || option === 'json') return jsonCodec as Codec<T>;
  if (option === 'msgpack') return msgpackCodec as Codec<T>;
  if (option === 'raw') return rawCodec as Codec<T>;
  if (isCodec(option)) return option;
  throw new ConfigurationError(
    `${field} must be 'json', 'msgpack', 'raw' or an object with name, contentType, encode and decode, got ${JSON.stringify(option)}`,
    { field, value: option },
  );
}

/**
 * The built-in codec that reads `contentType`: JSON for `application/json`
 * and any `+json` type, MessagePack for `application/msgpack` (and the
 * `x-msgpack` and `vnd.msgpack` spellings), raw for
 * `application/octet-stream`. Parameters such as `charset` are ignored.
 * When `preferred` has that content type it is returned instead, so that a
 * custom codec reads what it wrote. Any other type is a `DecodeError`
 * naming it.
 *
 * @example
 * codecForContentType('application/json; charset=utf-8') === jsonCodec;
 */
export function codecForContentType<T = unknown>(
  contentType: string,
  preferred?: Codec<T>,
): Codec<T> {
  const type = mediaType(contentType);
  if (preferred !== undefined && mediaType(preferred.contentType) === type) {
    return preferred;
  }
  if (type === JSON_TYPE || /^[a-z]+\/[^;]*\+json$/.test(type)) {
    return jsonCodec as Codec<T>;
  }
  if (MSGPACK_ALIASES.has(type)) return msgpackCodec as Codec<T>;
  if (type === RAW_TYPE) return rawCodec as Codec<T>;
  throw new DecodeError(
    `no codec reads content type ${JSON.stringify(contentType)}: use application/json, application/msgpack or application/octet-stream, or give the channel a codec of that type`,
    { field: 'contentType', value: contentType },
  );
}

/**
 * Encodes `value` with `codec`, reporting any failure as a
 * `ValidationError` (a custom codec may throw anything) and refusing a
 * codec that returns something other than bytes.
 */
export function encodeValue<T>(codec: Codec<T>, value: T): Uint8Array {
  let bytes: unknown;
  try {
    bytes = codec.encode(value);
  } catch (cause) {
    if (cause instanceof SwitchyardError) throw cause;
    throw new ValidationError(
      `codec '${codec.name}' could not encode the value: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, field: 'data' },
    );
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new ValidationError(
      `codec '${codec.name}' returned ${typeof bytes} instead of a Uint8Array`,
      { field: 'data' },
    );
  }
  return bytes;
}

/**
 * The media type of a content type, without parameters, in lowercase.
 *
 * @example
 * mediaType('Application/JSON; charset=utf-8'); // 'application/json'
 */
export function mediaType(contentType: string): string {
  if (contentType === lastContentType) return lastMediaType;
  lastContentType = contentType;
  lastMediaType = (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
  return lastMediaType;
}

// Messages of one channel share a content type: the last answer is kept.
let lastContentType = '';
let lastMediaType = '';

function isCodec<T>(value: unknown): value is Codec<T> {
  if (typeof value !== 'object' || value === null) return false;
  const codec = value as Partial<Codec<T>>;
  return (
    typeof codec.name === 'string' &&
    typeof codec.contentType === 'string' &&
    typeof codec.encode === 'function' &&
    typeof codec.decode === 'function'
  );
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    return `an instance of ${value.constructor?.name ?? 'Object'}`;
  }
  return typeof value;
}

/**
 * What is wrong with JSON text, without quoting it: the parser's message
 * can carry a piece of the payload, which must not reach the logs.
 */
export function jsonProblem(cause: unknown): string {
  if (cause instanceof TypeError) return 'UTF-8 text';
  const message = cause instanceof Error ? cause.message : '';
  const position = /position (\d+)/.exec(message)?.[1];
  return position === undefined
    ? 'valid JSON'
    : `valid JSON (error at position ${position})`;
}

/**
 * Where in `value` an object has an own `__proto__` key, as a
 * path from `data` (`data.items[2]`), or undefined if none has.
 */
function protoKeyPath(value: unknown): string | undefined {
  const pending: [unknown, string][] = [[value, 'data']];
  while (pending.length > 0) {
    const [item, path] = pending.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (ArrayBuffer.isView(item)) continue;
    if (Array.isArray(item)) {
      item.forEach((inner, i) => {
        pending.push([inner, `${path}[${i}]`]);
      });
    } else {
      if (Object.hasOwn(item, '__proto__')) return path;
      for (const [key, inner] of Object.entries(item)) {
        const step = /^[A-Za-z_$][\w$]*$/.test(key)
          ? `.${key}`
          : `[${JSON.stringify(key)}]`;
        pending.push([inner, `${path}${step}`]);
      }
    }
  }
  return undefined;
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
