/**
 * The claim check: a channel transport decorator that carries a body
 * larger than the transport allows as an object in a bucket, and the
 * message as a small reference to it.
 *
 * It works at the transport, not where a message is prepared, because
 * the pipeline can move its channels to another transport while it runs:
 * each transport in service is wrapped with its own limit, so a message
 * prepared with one provider's limit in mind is checked against the one
 * it is actually sent to.
 */
import { ValidationError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { WireMessage } from '../core/message.ts';
import type {
  ChannelTransport,
  DeadLetter,
  ObjectTransport,
  TransportPublishOutcome,
} from '../core/provider.ts';
import {
  bucketTarget,
  claimCheckConsumer,
  type ResolveTarget,
  resolveReference,
} from './claim-check-consumer.ts';
import { isPrefix } from './claim-check-options.ts';
import {
  type ClaimCheckReference,
  DEFAULT_CLAIM_CHECK_PREFIX,
  GENERATION_METADATA,
  isReference,
  newGeneration,
  payloadKey,
  readReference,
  referenceMessage,
  sha256,
} from './claim-check-reference.ts';
import { errorFields } from './errors.ts';

export {
  CLAIM_CHECK_CONTENT_TYPE,
  type ClaimCheckReference,
  DEFAULT_CLAIM_CHECK_PREFIX,
} from './claim-check-reference.ts';

/**
 * How many bytes of objects one listing of dead letters reads to show
 * their original bodies: 16 MiB. Dead letters past it, oldest first, are
 * listed as their references.
 */
export const DEAD_LETTER_READ_BYTES = 16 * 1024 * 1024;

/** How long the worker groups of a channel are remembered, by default. */
export const DEFAULT_GROUPS_CACHE_MS = 1000;

/** Options of {@link withClaimCheck}. */
export interface ClaimCheckOptions {
  /** Where bodies over the limit are written. */
  objects: ObjectTransport;
  /** The bucket, created on first use if absent. */
  bucket: string;
  /**
   * Prefix of every object name the claim check writes: the prefix the
   * bucket's expiry rule applies to. Empty, or ending with `/`. Default
   * `claim-check/`.
   */
  prefix?: string;
  /**
   * Largest body the wrapped transport carries, in bytes: its provider's
   * declared `capabilities.maxPayloadBytes`. Bodies over it are claim
   * checked.
   */
  maxPayloadBytes: number;
  logger: Logger;
  /**
   * How long the worker groups listed for a channel are reused before
   * they are listed again, in ms. A group this transport ensures or opens
   * is seen at once; one created elsewhere within this time before a
   * publish may be missing from its reference. Default 1000.
   */
  groupsCacheMs?: number;
}

/**
 * Wraps `inner` so that bodies larger than `maxPayloadBytes` travel as
 * objects. Every other message passes unchanged.
 *
 * - publish: the body is written to `{prefix}{channel}/{id}/payload`
 *   (a re-publish of the id overwrites it) with a new generation in its
 *   metadata, and the message goes on with the same id, attributes,
 *   sequence, ordering key and trace context, the content type
 *   `application/vnd.switchyard.claim-check+json`, and a reference as its
 *   body: bucket, key, size, SHA-256, original content type, generation,
 *   and the channel's worker groups at that moment (`null` when a
 *   broadcast consumer existed or the groups could not be listed). A body
 *   whose object cannot be written fails alone, with the store's error.
 * - consume: a delivery carrying a reference is handed out with the
 *   original body and content type; one whose object is missing or does
 *   not match its size and digest is dead-lettered with a reason naming
 *   the bucket and key, and not handed out.
 * - ack in a worker group: once every group listed in the reference has
 *   acknowledged, the object is removed (see `claim-check-release.ts`).
 *   With no list, or for a message dead-lettered, purged, or whose group
 *   was deleted, the object stays until the bucket's expiry rule (on
 *   aws, the lifecycle rule the CDK app declares for the prefix; other
 *   providers have none, and such objects stay until removed).
 * - dead letters: stored and replayed as references; `deadLetters` shows
 *   the original body where the object can still be read, for up to
 *   {@link DEAD_LETTER_READ_BYTES} of objects per listing.
 *
 * Throws a `ValidationError` for a bad prefix or limit.
 *
 * @example
 * ```ts
 * const channels = withClaimCheck(provider.channels!, {
 *   objects: provider.objects!,
 *   bucket: 'claim-checks',
 *   maxPayloadBytes: provider.capabilities.maxPayloadBytes,
 *   logger,
 * });
 * ```
 */
export function withClaimCheck(
  inner: ChannelTransport,
  options: ClaimCheckOptions,
): ChannelTransport {
  const prefix = checkPrefix(options.prefix ?? DEFAULT_CLAIM_CHECK_PREFIX);
  const { bucket, maxPayloadBytes, objects } = options;
  if (!Number.isSafeInteger(maxPayloadBytes) || maxPayloadBytes < 1) {
    throw new ValidationError(
      `claim check maxPayloadBytes must be an integer of at least 1, got ${maxPayloadBytes}`,
      { field: 'maxPayloadBytes', value: maxPayloadBytes },
    );
  }
  const logger = options.logger.child({ claimCheck: bucket });
  const groups = new GroupsCache(
    inner,
    options.groupsCacheMs ?? DEFAULT_GROUPS_CACHE_MS,
    logger,
  );

  const target: ResolveTarget = bucketTarget(objects, bucket, prefix, {
    create: true,
  });

  const checkIn = async (
    channel: string,
    message: WireMessage,
  ): Promise<WireMessage> => {
    const key = payloadKey(prefix, channel, message.id);
    const generation = newGeneration();
    const store = await target.store();
    await store.put(key, message.body, {
      contentType: message.contentType,
      metadata: { [GENERATION_METADATA]: generation },
    });
    const reference: ClaimCheckReference = {
      v: 1,
      bucket,
      key,
      size: message.body.byteLength,
      sha256: sha256(message.body),
      contentType: message.contentType,
      generation,
      groups: await groups.of(channel),
    };
    logger.debug('message claim checked', {
      channel,
      messageId: message.id,
      key,
      size: reference.size,
    });
    return referenceMessage(message, reference);
  };

  /** The dead letters with their original bodies, within the budget. */
  const showOriginals = async (
    letters: DeadLetter[],
  ): Promise<DeadLetter[]> => {
    let budget = DEAD_LETTER_READ_BYTES;
    const shown: DeadLetter[] = [];
    for (const letter of letters) {
      const size = isReference(letter.message)
        ? referencedSize(letter.message)
        : undefined;
      if (size === undefined || size > budget) {
        shown.push(letter);
        continue;
      }
      budget -= size;
      const resolved = await resolveReference(letter.message, target);
      shown.push(
        resolved.ok ? { ...letter, message: resolved.message } : letter,
      );
    }
    return shown;
  };

  const transport: ChannelTransport = {
    async ensure(spec) {
      await inner.ensure(spec);
      if (spec.groups.length > 0) groups.forget(spec.name);
    },
    exists: (channel) => inner.exists(channel),
    list: () => inner.list(),
    delete: (channel) => inner.delete(channel),

    async publish(channel, messages) {
      const isLarge = (m: WireMessage) => m.body.byteLength > maxPayloadBytes;
      if (!messages.some(isLarge)) return inner.publish(channel, messages);

      const prepared = await Promise.allSettled(
        messages.map((m) =>
          isLarge(m) ? checkIn(channel, m) : Promise.resolve(m),
        ),
      );
      const sending: WireMessage[] = [];
      for (const result of prepared) {
        if (result.status === 'fulfilled') sending.push(result.value);
      }
      const sent =
        sending.length > 0 ? await inner.publish(channel, sending) : [];

      let next = 0;
      return prepared.map((result): TransportPublishOutcome => {
        if (result.status === 'rejected') {
          logger.warn('could not write a claim-check object', {
            channel,
            ...errorFields(result.reason),
          });
          return { ok: false, error: asError(result.reason) };
        }
        return (
          sent[next++] ?? {
            ok: false,
            error: new TypeError('the transport returned no outcome'),
          }
        );
      });
    },

    async consume(spec) {
      if (spec.mode === 'group') groups.forget(spec.channel);
      const consumer = await inner.consume(spec);
      return claimCheckConsumer(consumer, spec, target, logger);
    },

    purge: (channel, purgeOptions) => inner.purge(channel, purgeOptions),
    consumers: (channel) => inner.consumers(channel),
    async deleteConsumer(channel, name) {
      await inner.deleteConsumer(channel, name);
      groups.forget(channel);
    },
    stats: (channel) => inner.stats(channel),
    async deadLetters(channel, listOptions) {
      return showOriginals(await inner.deadLetters(channel, listOptions));
    },
    replayDeadLetters: (channel, replayOptions) =>
      inner.replayDeadLetters(channel, replayOptions),
    purgeDeadLetters: (channel) => inner.purgeDeadLetters(channel),
  };
  if (inner.deadLetter !== undefined) {
    const handOver = inner.deadLetter.bind(inner);
    transport.deadLetter = (channel, letter) => handOver(channel, letter);
  }

  return transport;
}

/**
 * The worker groups of each channel, listed at most once per `ttlMs`.
 * `null` when a broadcast consumer exists or the listing failed, so that
 * nothing is removed on a guess.
 */
class GroupsCache {
  readonly #inner: ChannelTransport;
  readonly #ttlMs: number;
  readonly #logger: Logger;
  readonly #seen = new Map<
    string,
    { at: number; groups: Promise<string[] | null> }
  >();

  constructor(inner: ChannelTransport, ttlMs: number, logger: Logger) {
    this.#inner = inner;
    this.#ttlMs = ttlMs;
    this.#logger = logger;
  }

  of(channel: string): Promise<string[] | null> {
    const now = Date.now();
    const cached = this.#seen.get(channel);
    if (cached !== undefined && now - cached.at < this.#ttlMs) {
      return cached.groups;
    }
    const groups = this.#list(channel);
    this.#seen.set(channel, { at: now, groups });
    return groups;
  }

  forget(channel: string): void {
    this.#seen.delete(channel);
  }

  async #list(channel: string): Promise<string[] | null> {
    try {
      const consumers = await this.#inner.consumers(channel);
      if (consumers.some((c) => c.mode === 'broadcast')) return null;
      return consumers.map((c) => c.name).sort();
    } catch (error) {
      this.#seen.delete(channel);
      this.#logger.warn(
        'could not list the worker groups; the claim-check object will wait for its expiry',
        { channel, ...errorFields(error) },
      );
      return null;
    }
  }
}

function checkPrefix(prefix: unknown): string {
  if (!isPrefix(prefix)) {
    throw new ValidationError(
      `claim check prefix ${JSON.stringify(prefix)} is not valid: use '' or up to 256 characters of object name segments ending with '/', e.g. 'claim-check/'`,
      { field: 'prefix', value: prefix },
    );
  }
  return prefix;
}

/** The size a reference message names, or undefined if it is malformed. */
function referencedSize(message: WireMessage): number | undefined {
  try {
    return readReference(message).size;
  } catch {
    return undefined;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
