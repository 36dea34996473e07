/**
 * How object buckets map onto S3: bucket names, user metadata, etags and
 * the metadata of an object as S3 reports it.
 */
import { ValidationError } from '../../core/errors.ts';
import type { ObjectInfo } from '../../core/provider.ts';
import type { AwsContext } from './context.ts';
import { PROVIDER } from './errors.ts';

/** Content type of an object written without one. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * S3 bucket names: 3 to 63 lowercase letters, digits, `.` and `-`,
 * starting and ending with a letter or digit. Switchyard never makes
 * names with `.`, which would break virtual-hosted TLS addressing.
 */
const S3_BUCKET = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;

/** Prefixes and suffixes S3 keeps for itself. */
const RESERVED = /^(?:xn--|sthree-|amzn-s3-demo-)|(?:-s3alias|--ol-s3|--x-s3)$/;

/** Switchyard bucket names, as `core/names.ts` defines them. */
const USER_BUCKET = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$/;

/** S3's limit on the user metadata of one object, keys and values. */
const METADATA_LIMIT = 2048;

/** Metadata keys S3 keeps as given: it lowercases every key. */
const METADATA_KEY = /^[a-z0-9][a-z0-9_-]*$/;

/** Printable ASCII, which S3 returns unchanged in a header value. */
const METADATA_VALUE = /^[\x20-\x7e]*$/;

/**
 * The S3 bucket of object bucket `bucket`: its name with the provider's
 * prefix. Throws a ValidationError when the result is not a valid S3
 * bucket name.
 */
export function s3Bucket(context: AwsContext, bucket: string): string {
  const name = context.resourceName(bucket);
  if (name.length < 3 || name.length > 63 || !S3_BUCKET.test(name)) {
    throw new ValidationError(
      `object bucket ${JSON.stringify(bucket)} gives the S3 bucket name ${JSON.stringify(name)}, which is not valid: S3 takes 3 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit`,
      { field: 'bucket', value: bucket, details: { provider: PROVIDER } },
    );
  }
  if (RESERVED.test(name)) {
    throw new ValidationError(
      `object bucket ${JSON.stringify(bucket)} gives the S3 bucket name ${JSON.stringify(name)}, which uses a prefix or suffix S3 reserves`,
      { field: 'bucket', value: bucket, details: { provider: PROVIDER } },
    );
  }
  return name;
}

/**
 * The object bucket an S3 bucket `name` holds, or undefined when the
 * name lacks the provider's prefix or is no Switchyard bucket name.
 */
export function userBucket(
  context: AwsContext,
  name: string,
): string | undefined {
  const { prefix } = context.options;
  if (!name.startsWith(prefix)) return undefined;
  const bucket = name.slice(prefix.length);
  const valid =
    bucket.length >= 3 && bucket.length <= 40 && USER_BUCKET.test(bucket);
  return valid ? bucket : undefined;
}

/**
 * `metadata` as S3 user metadata. S3 lowercases keys, mangles values
 * that are not printable ASCII and holds at most 2 KiB in all, so
 * metadata it would not return as given is refused with a
 * ValidationError.
 */
export function s3Metadata(
  metadata: Record<string, string> = {},
): Record<string, string> {
  let size = 0;
  for (const [key, value] of Object.entries(metadata)) {
    if (!METADATA_KEY.test(key)) {
      throw invalidMetadata(
        `metadata key ${JSON.stringify(key)} is not valid on S3: use lowercase letters, digits, '_' and '-', starting with a letter or digit`,
        key,
      );
    }
    if (typeof value !== 'string' || !METADATA_VALUE.test(value)) {
      throw invalidMetadata(
        `metadata value of ${JSON.stringify(key)} is not valid on S3: use printable ASCII characters, got ${JSON.stringify(value)}`,
        key,
      );
    }
    size += key.length + value.length;
  }
  if (size > METADATA_LIMIT) {
    throw invalidMetadata(
      `metadata is ${size} bytes, over S3's limit of ${METADATA_LIMIT} bytes for keys and values together`,
      undefined,
    );
  }
  return { ...metadata };
}

/** An etag as S3 sends it in `If-Match`: in double quotes. */
export function quoted(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

/** An etag as S3 reports it, without its double quotes. */
export function unquoted(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

/** What S3 answers about one object, in a HeadObject or GetObject. */
export interface S3ObjectHead {
  ContentLength?: number;
  ETag?: string;
  ContentType?: string;
  Metadata?: Record<string, string>;
  LastModified?: Date;
}

/** The metadata of object `name` from S3's answer about it. */
export function toInfo(name: string, head: S3ObjectHead): ObjectInfo {
  return {
    name,
    size: head.ContentLength ?? 0,
    etag: unquoted(head.ETag),
    contentType: head.ContentType ?? DEFAULT_CONTENT_TYPE,
    metadata: { ...(head.Metadata ?? {}) },
    updatedAt: head.LastModified?.getTime() ?? 0,
  };
}

function invalidMetadata(
  message: string,
  key: string | undefined,
): ValidationError {
  return new ValidationError(message, {
    field: key === undefined ? 'metadata' : `metadata.${key}`,
    value: key,
    details: { provider: PROVIDER },
  });
}
