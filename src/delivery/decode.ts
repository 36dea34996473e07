/**
 * Turning a delivered {@link WireMessage} into the {@link Message} a
 * handler sees: decode the body with the codec its content type names,
 * then validate it with the channel's schema. A failure is an outcome with
 * the reason to dead-letter it with, not an exception, because a bad
 * message must never stop a consumer.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Codec } from '../core/codec.ts';
import { codecForContentType } from '../core/codecs.ts';
import { type Message, toMessage, type WireMessage } from '../core/message.ts';
import { validateSchema } from '../core/schema.ts';
import { CLAIM_CHECK_CONTENT_TYPE } from './claim-check-reference.ts';
import { describeError } from './errors.ts';

/** A decoded message, or why it could not be decoded. */
export type DecodeOutcome<T> =
  | { ok: true; message: Message<T> }
  | { ok: false; reason: string; error: unknown };

/** Decodes and validates one message. Never rejects. */
export type MessageDecoder<T> = (
  wire: WireMessage,
) => Promise<DecodeOutcome<T>>;

/**
 * A decoder that prefers `codec` when the message's content type is
 * `codec.contentType` and otherwise picks the built-in codec of the content
 * type, then validates with `schema` when one is given. A claim-check
 * reference reaching it (no claim check resolved it on the way) is refused
 * with a reason that says so, rather than handed out as data.
 *
 * @example
 * const decode = createDecoder(jsonCodec, RouterEvent);
 * const outcome = await decode(delivery.message);
 */
export function createDecoder<T>(
  codec: Codec<T>,
  schema?: StandardSchemaV1<unknown, T>,
): MessageDecoder<T> {
  return async (wire) => {
    if (wire.contentType === CLAIM_CHECK_CONTENT_TYPE) {
      return {
        ok: false,
        reason: `message ${wire.id} carries a claim-check reference, and no claim check resolves it here: configure claimCheck with the bucket the reference names, then replay the dead letter`,
        error: undefined,
      };
    }
    let data: unknown;
    try {
      data = codecForContentType(wire.contentType, codec).decode(wire.body);
    } catch (error) {
      return {
        ok: false,
        reason: `could not decode the data: ${describeError(error)}`,
        error,
      };
    }

    if (schema !== undefined) {
      try {
        data = await validateSchema(schema, data);
      } catch (error) {
        return {
          ok: false,
          reason: `data does not match the channel schema: ${describeError(error)}`,
          error,
        };
      }
    }

    return { ok: true, message: toMessage(wire, data as T) };
  };
}
