/**
 * Names that are valid on every provider. Channels, groups and buckets become
 * NATS streams and consumers, SNS topics and SQS queues, DynamoDB tables, S3
 * and Cloud Storage buckets, Pub/Sub topics, Service Bus entities, Azure
 * tables and containers and Redis keys, so one pattern is kept that all of
 * them accept once a provider adds its own prefix or suffix.
 *
 * - channel and bucket: 3 to 40 characters, lowercase letters, digits and
 *   single hyphens, starting with a letter and ending with a letter or digit
 *   (`kv-events`, `router-index`);
 * - group: the same pattern, 1 to 30 characters;
 * - key-value key: 1 to 512 characters of letters, digits, `_`, `-`, `=` and
 *   `.`, with no empty `.`-separated token (`worker.12.blocks`);
 * - object name: 1 to 1024 characters, `/`-separated segments of letters,
 *   digits and `!-_.*'()=+,@`, no empty, `.` or `..` segment;
 * - attribute name: 1 to 40 lowercase letters and digits, starting with a
 *   letter, so that it is a valid CloudEvents extension name; names the
 *   envelope uses itself are reserved;
 * - message id: 1 to 128 characters of letters, digits and `-_.:`.
 */
import { ValidationError } from './errors.ts';

const RESOURCE = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$/;
const KEY = /^[A-Za-z0-9_=-]+(?:\.[A-Za-z0-9_=-]+)*$/;
const OBJECT_SEGMENT = /^[A-Za-z0-9!_.*'()=+,@-]+$/;
const ATTRIBUTE = /^[a-z][a-z0-9]{0,39}$/;
const MESSAGE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Attribute names the envelope and CloudEvents use themselves. */
export const RESERVED_ATTRIBUTES: ReadonlySet<string> = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'subject',
  'datacontenttype',
  'dataschema',
  'data',
  'data_base64',
  'traceparent',
  'tracestate',
  'channel',
  'publisherid',
  'sequence',
  'orderingkey',
  'claimcheck',
]);

/** What a name is for, which decides the pattern it must match. */
export type NameKind = 'channel' | 'group' | 'bucket';

const LIMITS: Record<NameKind, [number, number]> = {
  channel: [3, 40],
  group: [1, 30],
  bucket: [3, 40],
};

/** Throws a {@link ValidationError} unless `name` is valid for `kind`. */
export function assertName(kind: NameKind, name: unknown): string {
  const [min, max] = LIMITS[kind];
  if (
    typeof name !== 'string' ||
    name.length < min ||
    name.length > max ||
    !RESOURCE.test(name)
  ) {
    throw new ValidationError(
      `${kind} name ${JSON.stringify(name)} is not valid: use ${min} to ${max} lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit`,
      { field: kind, value: name },
    );
  }
  return name;
}

/** Throws a {@link ValidationError} unless `key` is a valid key-value key. */
export function assertKey(key: unknown): string {
  if (typeof key !== 'string' || key.length > 512 || !KEY.test(key)) {
    throw new ValidationError(
      `key ${JSON.stringify(key)} is not valid: use 1 to 512 letters, digits, '_', '-', '=' and '.', with no empty '.'-separated part`,
      { field: 'key', value: key },
    );
  }
  return key;
}

/**
 * Throws a {@link ValidationError} unless `prefix` can start a valid key:
 * the empty string, or a key optionally followed by a `.`.
 */
export function assertKeyPrefix(prefix: unknown): string {
  if (prefix === '') return prefix;
  const stem =
    typeof prefix === 'string' && prefix.endsWith('.')
      ? prefix.slice(0, -1)
      : prefix;
  if (typeof stem !== 'string' || !KEY.test(stem) || stem.length > 512) {
    throw new ValidationError(
      `key prefix ${JSON.stringify(prefix)} is not valid: it must be the start of a valid key`,
      { field: 'prefix', value: prefix },
    );
  }
  return prefix as string;
}

/** Throws a {@link ValidationError} unless `name` is a valid object name. */
export function assertObjectName(name: unknown): string {
  const valid =
    typeof name === 'string' &&
    name.length > 0 &&
    name.length <= 1024 &&
    name
      .split('/')
      .every((s) => s !== '.' && s !== '..' && OBJECT_SEGMENT.test(s));
  if (!valid) {
    throw new ValidationError(
      `object name ${JSON.stringify(name)} is not valid: use 1 to 1024 characters in '/'-separated parts of letters, digits and !-_.*'()=+,@, with no empty, '.' or '..' part`,
      { field: 'name', value: name },
    );
  }
  return name;
}

/** Throws a {@link ValidationError} unless every attribute is valid. */
export function assertAttributes(attributes: unknown): Record<string, string> {
  if (attributes === undefined) return {};
  if (typeof attributes !== 'object' || attributes === null) {
    throw new ValidationError(
      `attributes must be an object of strings, got ${typeof attributes}`,
      { field: 'attributes', value: attributes },
    );
  }
  for (const [name, value] of Object.entries(attributes)) {
    if (!ATTRIBUTE.test(name) || RESERVED_ATTRIBUTES.has(name)) {
      throw new ValidationError(
        `attribute name ${JSON.stringify(name)} is not valid: use 1 to 40 lowercase letters and digits, starting with a letter, and none of the reserved names (${[...RESERVED_ATTRIBUTES].join(', ')})`,
        { field: `attributes.${name}`, value: name },
      );
    }
    if (typeof value !== 'string') {
      throw new ValidationError(
        `attribute ${name} must be a string, got ${typeof value}`,
        { field: `attributes.${name}`, value },
      );
    }
  }
  return attributes as Record<string, string>;
}

/** Throws a {@link ValidationError} unless `id` is a valid message id. */
export function assertMessageId(id: unknown): string {
  if (typeof id !== 'string' || !MESSAGE_ID.test(id)) {
    throw new ValidationError(
      `message id ${JSON.stringify(id)} is not valid: use 1 to 128 letters, digits and '-_.:'`,
      { field: 'id', value: id },
    );
  }
  return id;
}
