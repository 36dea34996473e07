/**
 * The `claimCheck` setting of a client: defaults and validation, shared
 * by `createSwitchyard` and the configuration file.
 */
import { ConfigurationError } from '../core/errors.ts';
import { assertName } from '../core/names.ts';
import { DEFAULT_CLAIM_CHECK_PREFIX } from './claim-check-reference.ts';

/**
 * Largest body a publish accepts when a claim check is configured, by
 * default: 32 MiB. A body is encoded and held in memory whole, on the
 * publisher and on each consumer.
 */
export const DEFAULT_CLAIM_CHECK_MAX_BYTES = 33_554_432;

/** The claim check of a client, as given. */
export interface ClaimCheckSetting {
  /**
   * Object bucket that holds bodies too large for the channels provider,
   * on the client's objects provider; created if absent.
   */
  bucket: string;
  /**
   * Prefix of the objects' names, the one the bucket's expiry rule
   * applies to: empty, or ending with `/`. Default `claim-check/`.
   */
  prefix?: string;
  /**
   * Largest body a publish accepts, in bytes, in place of the channels
   * provider's limit. Default 33554432 (32 MiB).
   */
  maxBytes?: number;
}

/** A claim check with its defaults applied. */
export type ResolvedClaimCheck = Required<ClaimCheckSetting>;

const FIELDS = new Set(['bucket', 'prefix', 'maxBytes']);

/**
 * Validates `setting` and applies the defaults. Throws a
 * ConfigurationError whose `field` is `claimCheck.{name}` and which says
 * the rule and the value received.
 */
export function resolveClaimCheck(setting: unknown): ResolvedClaimCheck {
  if (typeof setting !== 'object' || setting === null) {
    throw invalid('claimCheck', setting, 'must be an object with a bucket');
  }
  const given = setting as Record<string, unknown>;
  for (const field of Object.keys(given)) {
    if (!FIELDS.has(field) && given[field] !== undefined) {
      throw invalid(
        `claimCheck.${field}`,
        given[field],
        `is not a claim check setting (known: ${[...FIELDS].join(', ')})`,
      );
    }
  }
  const { bucket, prefix = DEFAULT_CLAIM_CHECK_PREFIX } = given;
  const maxBytes = given.maxBytes ?? DEFAULT_CLAIM_CHECK_MAX_BYTES;
  try {
    assertName('bucket', bucket);
  } catch {
    throw invalid(
      'claimCheck.bucket',
      bucket,
      'must be a bucket name: 3 to 40 lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit',
    );
  }
  if (!isPrefix(prefix)) {
    throw invalid(
      'claimCheck.prefix',
      prefix,
      "must be '' or object name segments ending with '/', e.g. 'claim-check/'",
    );
  }
  if (
    typeof maxBytes !== 'number' ||
    !Number.isSafeInteger(maxBytes) ||
    maxBytes < 1
  ) {
    throw invalid('claimCheck.maxBytes', maxBytes, 'must be an integer >= 1');
  }

  return { bucket: bucket as string, prefix, maxBytes };
}

/** Whether `prefix` can start the object names of a claim check. */
export function isPrefix(prefix: unknown): prefix is string {
  if (prefix === '') return true;
  if (
    typeof prefix !== 'string' ||
    !prefix.endsWith('/') ||
    prefix.length > 256
  ) {
    return false;
  }
  return prefix
    .slice(0, -1)
    .split('/')
    .every(
      (s) => s !== '.' && s !== '..' && /^[A-Za-z0-9!_.*'()=+,@-]+$/.test(s),
    );
}

function invalid(
  field: string,
  value: unknown,
  rule: string,
): ConfigurationError {
  return new ConfigurationError(
    `${field} ${rule}, got ${JSON.stringify(value) ?? String(value)}`,
    { field, value },
  );
}

/**
 * Days after which the bucket's expiry rule removes claim-check objects,
 * by default: 15, a day more than the longest an SQS queue keeps a
 * message (14 days, the retention of the stack's dead-letter queues), so
 * that an object outlives every message and dead letter that refers to
 * it.
 */
export const DEFAULT_CLAIM_CHECK_EXPIRY_DAYS = 15;

const DECLARATION_FIELDS = new Set(['bucket', 'prefix', 'expireAfterDays']);

/** The claim check of a pipeline definition, which the infra code reads. */
export interface ClaimCheckDeclaration {
  /** Object bucket of the bodies; declared by the stack if not in `objects`. */
  bucket: string;
  /** Prefix of the objects, as the client's `claimCheck.prefix`. */
  prefix?: string;
  /**
   * Days after its last write when an object under the prefix expires,
   * whether or not every group acknowledged it. Default 15.
   */
  expireAfterDays?: number;
}

/**
 * Validates the claim check of a pipeline definition and applies the
 * defaults. Throws a ConfigurationError whose `field` is
 * `claimCheck.{name}` and which says the rule and the value received.
 */
export function checkClaimCheckDeclaration(
  declaration: unknown,
): Required<ClaimCheckDeclaration> {
  if (typeof declaration !== 'object' || declaration === null) {
    throw invalid('claimCheck', declaration, 'must be an object with a bucket');
  }
  const given = declaration as Record<string, unknown>;
  for (const field of Object.keys(given)) {
    if (!DECLARATION_FIELDS.has(field) && given[field] !== undefined) {
      throw invalid(
        `claimCheck.${field}`,
        given[field],
        `is not part of a pipeline's claim check (known: ${[...DECLARATION_FIELDS].join(', ')})`,
      );
    }
  }
  const { bucket, prefix } = resolveClaimCheck({
    bucket: given.bucket,
    prefix: given.prefix,
  });
  const expireAfterDays =
    given.expireAfterDays ?? DEFAULT_CLAIM_CHECK_EXPIRY_DAYS;
  if (
    typeof expireAfterDays !== 'number' ||
    !Number.isSafeInteger(expireAfterDays) ||
    expireAfterDays < 1
  ) {
    throw invalid(
      'claimCheck.expireAfterDays',
      expireAfterDays,
      'must be a whole number of days, at least 1',
    );
  }

  return { bucket, prefix, expireAfterDays };
}
