/**
 * The envelopes of request/reply, as MessagePack maps:
 *
 * - request: `{ contentType, data }`, `data` the request encoded by the
 *   requester's codec;
 * - reply: `{ ok: true, contentType, data }` with the reply encoded by the
 *   server's codec, or `{ ok: false, error: { name, message } }` when the
 *   server's handler threw (or could not read the request).
 *
 * Carrying the content type lets a requester and a server that chose
 * different codecs still understand each other.
 */
import { decode, encode } from '@msgpack/msgpack';
import type { Codec } from './codec.ts';
import { codecForContentType, encodeValue } from './codecs.ts';
import { DecodeError, RemoteError } from './errors.ts';

/** A decoded reply envelope. */
export type ReplyEnvelope =
  | { ok: true; contentType: string; data: Uint8Array }
  | { ok: false; error: { name: string; message: string } };

/** Encodes a request with `codec` into its envelope. */
export function encodeRequest<T>(codec: Codec<T>, value: T): Uint8Array {
  return encode({
    contentType: codec.contentType,
    data: encodeValue(codec, value),
  });
}

/**
 * Decodes a request envelope, reading the data with `codec` when the
 * content type is its own. A `DecodeError` for a malformed envelope.
 */
export function decodeRequest<T>(bytes: Uint8Array, codec: Codec<T>): T {
  const envelope = readMap(bytes, 'request');
  const { contentType, data } = envelope;
  if (typeof contentType !== 'string' || !(data instanceof Uint8Array)) {
    throw new DecodeError(
      'request envelope needs a string contentType and binary data',
      { field: 'request' },
    );
  }
  return codecForContentType(contentType, codec).decode(data);
}

/** The envelope of a successful reply. */
export function encodeReply<T>(codec: Codec<T>, value: T): Uint8Array {
  return encode({
    ok: true,
    contentType: codec.contentType,
    data: encodeValue(codec, value),
  });
}

/** The envelope of a failed reply: the error's name and message only. */
export function encodeFailure(error: unknown): Uint8Array {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return encode({ ok: false, error: { name, message } });
}

/**
 * Reads a reply: resolves with the data decoded by `codec` (or by the
 * codec of its content type), throws a `RemoteError` carrying the server's
 * error name for a failed reply and a `DecodeError` for a malformed one.
 */
export function decodeReply<T>(
  bytes: Uint8Array,
  codec: Codec<T>,
  subject: string,
): T {
  const envelope = readMap(bytes, 'reply');
  if (envelope.ok === true) {
    const { contentType, data } = envelope;
    if (typeof contentType !== 'string' || !(data instanceof Uint8Array)) {
      throw new DecodeError(
        'reply envelope needs a string contentType and binary data',
        { field: 'reply' },
      );
    }
    return codecForContentType(contentType, codec).decode(data);
  }
  if (envelope.ok === false) {
    const error = envelope.error as { name?: unknown; message?: unknown };
    const name = typeof error?.name === 'string' ? error.name : 'Error';
    const message =
      typeof error?.message === 'string' ? error.message : 'unknown error';
    throw new RemoteError(
      `server of '${subject}' failed: ${name}: ${message}`,
      name,
      { details: { subject } },
    );
  }
  throw new DecodeError('reply envelope has no boolean ok field', {
    field: 'reply',
  });
}

function readMap(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = decode(bytes);
  } catch (cause) {
    throw new DecodeError(`${what} envelope is not valid MessagePack`, {
      cause,
      field: what,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DecodeError(`${what} envelope is not a map`, { field: what });
  }
  return value as Record<string, unknown>;
}
