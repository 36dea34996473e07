/**
 * Names of the JetStream buckets behind Switchyard's buckets and tables.
 * Switchyard names are lowercase letters, digits and single hyphens, so
 * the `_` in the names of internal buckets keeps them apart from any
 * bucket a user can name.
 */
import type { ResolvedNatsOptions } from './options.ts';

/** The JetStream stream of KV bucket `name`. */
export function kvStream(name: string): string {
  return `KV_${name}`;
}

/** The KV bucket of key-value bucket `bucket`. */
export function kvBucket(options: ResolvedNatsOptions, bucket: string) {
  return `${options.streamPrefix}${bucket}`;
}

/** The object store bucket of object bucket `bucket`. */
export function objectBucket(options: ResolvedNatsOptions, bucket: string) {
  return `${options.streamPrefix}${bucket}`;
}

/** The KV bucket of idempotency table `table`. */
export function idempotencyBucket(
  options: ResolvedNatsOptions,
  table: string,
): string {
  return `${options.streamPrefix}sy_idempotency_${table}`;
}

/**
 * The Switchyard name of NATS bucket `name`, or undefined when it is not
 * one a user created (another prefix, or an internal bucket).
 */
export function userBucket(
  options: ResolvedNatsOptions,
  name: string,
): string | undefined {
  if (!name.startsWith(options.streamPrefix)) return undefined;
  const bucket = name.slice(options.streamPrefix.length);
  return /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(bucket) ? bucket : undefined;
}

/**
 * The subject filter, relative to a bucket, that covers every key that
 * starts with `prefix`: its complete `.`-separated tokens and `>`. The
 * rest of the prefix is matched on the client.
 */
export function keyFilter(prefix: string): string {
  const end = prefix.lastIndexOf('.');
  return end <= 0 ? '>' : `${prefix.slice(0, end)}.>`;
}
