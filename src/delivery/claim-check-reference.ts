/**
 * The reference a claim-checked message carries in place of its body,
 * and where its object and acknowledgement markers are kept.
 *
 * Layout in the bucket, for message `id` of channel `channel`:
 *
 * - `{prefix}{channel}/{id}/payload`: the original body;
 * - `{prefix}{channel}/{id}/acks/{generation}/{group}`: one marker per
 *   worker group that acknowledged the publish of that generation.
 *
 * The key of the payload depends only on the channel and the message id,
 * so a publish sent again with the same id overwrites the object instead
 * of storing it twice. Each publish has a generation of its own, written
 * into the object's metadata and the reference, so that the markers of an
 * earlier publish never count for a later one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DecodeError } from '../core/errors.ts';
import type { WireMessage } from '../core/message.ts';

/** Content type of a message whose body is a claim-check reference. */
export const CLAIM_CHECK_CONTENT_TYPE =
  'application/vnd.switchyard.claim-check+json';

/** Default prefix of the objects a claim check writes. */
export const DEFAULT_CLAIM_CHECK_PREFIX = 'claim-check/';

/** Version of the reference format, the `v` field of its body. */
const VERSION = 1;

/** Object metadata key holding the generation of the publish. */
export const GENERATION_METADATA = 'generation';

/** What a reference message carries instead of the body. */
export interface ClaimCheckReference {
  /** Format version: 1. */
  v: typeof VERSION;
  bucket: string;
  /** Name of the object holding the body. */
  key: string;
  /** Size of the body, in bytes. */
  size: number;
  /** SHA-256 of the body, lowercase hex. */
  sha256: string;
  /** Content type of the original message. */
  contentType: string;
  /** Random token of this publish; see the module comment. */
  generation: string;
  /**
   * The worker groups of the channel when it was published: the object
   * is removed once each has acknowledged it. `null` when a broadcast
   * consumer existed then or the groups could not be listed: the object
   * is then left to the bucket's expiry rule.
   */
  groups: string[] | null;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The object name segment of a message id. Ids may hold `:`, which object
 * names may not, and may be `.` or `..`, which no segment may be; `=`
 * never occurs in an id, so escaping with it keeps the mapping one to one.
 */
export function idSegment(id: string): string {
  const escaped = id.replaceAll(':', '=3A');
  return escaped === '.' || escaped === '..'
    ? escaped.replaceAll('.', '=2E')
    : escaped;
}

/** The folder of message `id` of `channel` under `prefix`. */
export function messageFolder(
  prefix: string,
  channel: string,
  id: string,
): string {
  return `${prefix}${channel}/${idSegment(id)}/`;
}

/** The name of the payload object of message `id` of `channel`. */
export function payloadKey(
  prefix: string,
  channel: string,
  id: string,
): string {
  return `${messageFolder(prefix, channel, id)}payload`;
}

/** The folder of the acknowledgement markers of a reference's publish. */
export function markerFolder(reference: ClaimCheckReference): string {
  return `${folderOf(reference.key)}acks/${reference.generation}/`;
}

/** The marker of `group`'s acknowledgement of `reference`'s publish. */
export function markerKey(
  reference: ClaimCheckReference,
  group: string,
): string {
  return `${markerFolder(reference)}${group}`;
}

/** A new generation token: 16 hex digits. */
export function newGeneration(): string {
  return randomBytes(8).toString('hex');
}

/** SHA-256 of `bytes`, lowercase hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Whether `message` carries a claim-check reference. */
export function isReference(message: WireMessage): boolean {
  return message.contentType === CLAIM_CHECK_CONTENT_TYPE;
}

/**
 * The reference message that replaces `message`: its id, attributes,
 * sequence, ordering key and trace context unchanged, and `reference` as
 * its body.
 */
export function referenceMessage(
  message: WireMessage,
  reference: ClaimCheckReference,
): WireMessage {
  return {
    ...message,
    body: utf8.encode(JSON.stringify(reference)),
    contentType: CLAIM_CHECK_CONTENT_TYPE,
  };
}

/**
 * Reads the reference of a reference message. Throws a `DecodeError`
 * saying which field is wrong, with the value received, when the body is
 * not a reference this version can follow.
 */
export function readReference(message: WireMessage): ClaimCheckReference {
  let parsed: unknown;
  try {
    parsed = JSON.parse(strictUtf8.decode(message.body));
  } catch (cause) {
    throw new DecodeError(
      `claim-check reference of message ${message.id} is not UTF-8 JSON: ${(cause as Error).message}`,
      { cause, details: { messageId: message.id } },
    );
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw invalid(message, '(root)', parsed, 'must be an object');
  }
  const body = parsed as Record<string, unknown>;
  if (body.v !== VERSION) {
    throw invalid(message, 'v', body.v, `must be ${VERSION}`);
  }
  for (const field of [
    'bucket',
    'key',
    'sha256',
    'contentType',
    'generation',
  ]) {
    if (typeof body[field] !== 'string' || body[field] === '') {
      throw invalid(message, field, body[field], 'must be a non-empty string');
    }
  }
  if (!/^[0-9a-f]{64}$/.test(body.sha256 as string)) {
    throw invalid(message, 'sha256', body.sha256, 'must be 64 hex digits');
  }
  if (!Number.isSafeInteger(body.size) || (body.size as number) < 0) {
    throw invalid(message, 'size', body.size, 'must be an integer >= 0');
  }
  const { groups } = body;
  if (
    groups !== null &&
    !(Array.isArray(groups) && groups.every((g) => typeof g === 'string'))
  ) {
    throw invalid(message, 'groups', groups, 'must be a list of names or null');
  }

  return parsed as ClaimCheckReference;
}

/** The folder part of an object name, with its trailing `/`. */
function folderOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1);
}

function invalid(
  message: WireMessage,
  field: string,
  value: unknown,
  rule: string,
): DecodeError {
  return new DecodeError(
    `claim-check reference of message ${message.id}: ${field} ${rule}, got ${JSON.stringify(value) ?? String(value)}`,
    { field, value, details: { messageId: message.id } },
  );
}
