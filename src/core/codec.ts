/**
 * A codec turns a value into bytes and back. JSON is the default; MessagePack
 * and raw bytes ship with Switchyard (`codecs.ts`), and any object with this
 * shape can be passed instead.
 */
export interface Codec<T = unknown> {
  /** Short name, e.g. `json`. */
  readonly name: string;
  /** Media type written as the message's content type. */
  readonly contentType: string;
  /**
   * Encodes a value. Throws a `ValidationError` for a value the codec cannot
   * represent (a function, a BigInt in JSON, a cycle).
   */
  encode(value: T): Uint8Array;
  /** Decodes bytes. Throws a `DecodeError` for bytes that do not parse. */
  decode(bytes: Uint8Array): T;
}

/** A codec, or the name of a built-in one. */
export type CodecOption<T = unknown> = Codec<T> | 'json' | 'msgpack' | 'raw';
