/**
 * The consuming side of the claim check: a delivery that carries a
 * reference is resolved (object fetched, size and digest checked) before
 * it is handed out, and its acknowledgement in a worker group is
 * recorded so that the object can be removed.
 */
import { isRetryable, NotFoundError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { WireMessage } from '../core/message.ts';
import type {
  ConsumerSpec,
  FetchOptions,
  ObjectStore,
  ObjectTransport,
  TransportConsumer,
  TransportDelivery,
} from '../core/provider.ts';
import {
  type ClaimCheckReference,
  isReference,
  readReference,
  sha256,
} from './claim-check-reference.ts';
import { releaseObject } from './claim-check-release.ts';
import { describeError, errorFields } from './errors.ts';

/** Where references are resolved. */
export interface ResolveTarget {
  bucket: string;
  prefix: string;
  /** Opens the bucket (once; later calls reuse it). */
  store(): Promise<ObjectStore>;
}

/**
 * The target of `bucket` of `objects`, whose claim-check objects are
 * named under `prefix`. The bucket is opened on first use and the store
 * kept; an open that fails is tried again on the next use. With
 * `create`, a bucket found absent is created; without it, an absent
 * bucket fails the open with the transport's NotFoundError.
 */
export function bucketTarget(
  objects: ObjectTransport,
  bucket: string,
  prefix: string,
  options: { create: boolean },
): ResolveTarget {
  // Opened without creating first, so that where the bucket exists (a
  // deployed stack declares it) opening needs no right to create one.
  const open = async (): Promise<ObjectStore> => {
    try {
      return await objects.open(bucket, { create: false });
    } catch (error) {
      if (!options.create || !(error instanceof NotFoundError)) throw error;
      return objects.open(bucket, { create: true });
    }
  };
  let opening: Promise<ObjectStore> | undefined;

  return {
    bucket,
    prefix,
    store() {
      opening ??= open().catch((error: unknown) => {
        opening = undefined;
        throw error;
      });
      return opening;
    },
  };
}

/** A resolved reference message, or why it cannot be resolved. */
export type Resolution =
  | { ok: true; message: WireMessage; reference: ClaimCheckReference }
  | {
      ok: false;
      reason: string;
      reference?: ClaimCheckReference;
      /**
       * The store failed in a way that may pass (unreachable, throttled,
       * timed out): reading again later may succeed. Absent otherwise.
       */
      retryable?: true;
    };

/**
 * The original message of reference message `message`: its body read
 * from the object, the original content type, everything else as it
 * came. Never throws: a malformed reference, a reference outside the
 * claim check's bucket and prefix, a missing object, a size or digest
 * that does not match, or a store failure give a reason naming the
 * bucket and key; a store failure that may pass is marked `retryable`.
 */
export async function resolveReference(
  message: WireMessage,
  target: ResolveTarget,
): Promise<Resolution> {
  let reference: ClaimCheckReference;
  try {
    reference = readReference(message);
  } catch (error) {
    return { ok: false, reason: describeError(error) };
  }
  const where = `object '${reference.key}' of bucket '${reference.bucket}'`;
  if (
    reference.bucket !== target.bucket ||
    !reference.key.startsWith(target.prefix)
  ) {
    return {
      ok: false,
      reason: `claim-check reference names ${where}, outside the claim check's bucket '${target.bucket}' and prefix '${target.prefix}'`,
    };
  }

  let body: Uint8Array | undefined;
  try {
    body = await readObject(await target.store(), reference);
  } catch (error) {
    return {
      ok: false,
      reference,
      reason: `claim-check ${where} could not be read: ${describeError(error)}`,
      ...(isRetryable(error) && { retryable: true as const }),
    };
  }
  if (body === undefined) {
    return {
      ok: false,
      reference,
      reason: `claim-check ${where} is missing: removed, expired or never written`,
    };
  }
  if (body.byteLength !== reference.size) {
    return {
      ok: false,
      reference,
      reason: `claim-check ${where} is corrupt: ${body.byteLength} bytes, the reference says ${reference.size}`,
    };
  }
  const digest = sha256(body);
  if (digest !== reference.sha256) {
    return {
      ok: false,
      reference,
      reason: `claim-check ${where} is corrupt: its sha256 is ${digest}, the reference says ${reference.sha256}`,
    };
  }

  return {
    ok: true,
    reference,
    message: { ...message, body, contentType: reference.contentType },
  };
}

/**
 * Wraps `consumer` of `spec` so that fetch resolves references. A
 * delivery whose reference cannot be resolved is dead-lettered with the
 * reason and not returned; if even that fails, it is left to come back
 * when its lease runs out. In a worker group, acknowledging a resolved
 * delivery records the group's acknowledgement and removes the object
 * once every group listed has acknowledged.
 */
export function claimCheckConsumer(
  consumer: TransportConsumer,
  spec: ConsumerSpec,
  target: ResolveTarget,
  logger: Logger,
): TransportConsumer {
  const log = logger.child({ channel: spec.channel, group: spec.name });

  const accept = async (
    delivery: TransportDelivery,
  ): Promise<TransportDelivery | undefined> => {
    if (!isReference(delivery.message)) return delivery;
    const resolved = await resolveReference(delivery.message, target);
    if (resolved.ok) {
      return resolvedDelivery(delivery, resolved, spec, target, log);
    }

    const fields = { messageId: delivery.message.id, reason: resolved.reason };
    try {
      await delivery.deadLetter(resolved.reason);
      log.error('message dead-lettered', fields);
    } catch (error) {
      log.warn('could not dead-letter; the message will be delivered again', {
        ...fields,
        ...errorFields(error),
      });
    }
    return undefined;
  };

  return {
    async fetch(max: number, options: FetchOptions) {
      const fetched = await consumer.fetch(max, options);
      if (!fetched.some((d) => isReference(d.message))) return fetched;
      const accepted = await Promise.all(fetched.map(accept));
      return accepted.filter((d) => d !== undefined);
    },
    close: () => consumer.close(),
  };
}

function resolvedDelivery(
  delivery: TransportDelivery,
  resolved: { message: WireMessage; reference: ClaimCheckReference },
  spec: ConsumerSpec,
  target: ResolveTarget,
  logger: Logger,
): TransportDelivery {
  const { reference } = resolved;

  return {
    message: resolved.message,
    attempt: delivery.attempt,
    ...(delivery.channelSequence !== undefined && {
      channelSequence: delivery.channelSequence,
    }),
    async ack() {
      // Acknowledged first: the object must outlive every delivery that
      // may still need it, so it is released only after the transport
      // has taken the acknowledgement.
      await delivery.ack();
      if (spec.mode !== 'group') return;
      try {
        const store = await target.store();
        await releaseObject(store, reference, spec.name, logger);
      } catch (error) {
        logger.warn(
          'could not record the claim-check acknowledgement; the object stays until it expires',
          {
            messageId: delivery.message.id,
            key: reference.key,
            ...errorFields(error),
          },
        );
      }
    },
    nak: (delayMs) => delivery.nak(delayMs),
    extend: (leaseMs) => delivery.extend(leaseMs),
    deadLetter: (reason) => delivery.deadLetter(reason),
  };
}

/** The body of `reference`'s object, or undefined if it is absent. */
async function readObject(
  store: ObjectStore,
  reference: ClaimCheckReference,
): Promise<Uint8Array | undefined> {
  const found = await store.get(reference.key);
  if (found === undefined) return undefined;

  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of found.body) {
    chunks.push(chunk);
    size += chunk.byteLength;
    // A body past the size given is corrupt; stop reading it.
    if (size > reference.size) break;
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }

  return body;
}
