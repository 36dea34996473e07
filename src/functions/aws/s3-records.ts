/**
 * S3 event records as the object events the local runner's objects
 * binding raises: `put` for an `ObjectCreated:*` record, `delete` for
 * `ObjectRemoved:*` and `LifecycleExpiration:Delete*`.
 */
import type { S3EventRecord } from 'aws-lambda';
import type { ObjectInfo } from '../../core/provider.ts';
import type { ObjectEvent, ObjectsTrigger } from '../types.ts';
import { describeReceived } from './errors.ts';

/** The record's own `eventSource`. */
export const S3_SOURCE = 'aws:s3';

/** A record read: the event, one to skip, or why it cannot be read. */
export type S3Reading =
  | { kind: 'event'; event: ObjectEvent; info?: ObjectInfo }
  | { kind: 'skip'; why: string }
  | { kind: 'bad'; reason: string };

/**
 * Reads S3 record `index` for `trigger`. The event's bucket is the
 * trigger's: the S3 bucket's name ends with it (a deployment prefixes
 * it). A record outside the trigger's prefix or kinds is skipped, as
 * the local runner would not raise it.
 */
export function readS3Record(
  input: unknown,
  index: number,
  trigger: ObjectsTrigger,
): S3Reading {
  const record = (isObject(input) ? input : {}) as Partial<S3EventRecord>;
  if (record.eventSource !== S3_SOURCE) {
    return {
      kind: 'bad',
      reason: `record ${index} comes from event source ${JSON.stringify(record.eventSource)}, not ${S3_SOURCE}: got ${describeReceived(input)}`,
    };
  }
  const s3 = (isObject(record.s3) ? record.s3 : {}) as Partial<
    S3EventRecord['s3']
  >;
  const bucketName = s3.bucket?.name;
  const key = s3.object?.key;
  if (typeof bucketName !== 'string' || typeof key !== 'string') {
    return {
      kind: 'bad',
      reason: `record ${index} has no s3.bucket.name or s3.object.key`,
    };
  }
  if (!bucketName.endsWith(trigger.bucket)) {
    return {
      kind: 'bad',
      reason: `record ${index} is of S3 bucket ${bucketName}, not of the trigger's bucket '${trigger.bucket}'`,
    };
  }
  const type = eventType(String(record.eventName));
  if (type === undefined) {
    return {
      kind: 'skip',
      why: `event ${record.eventName} is no put or delete`,
    };
  }
  const name = objectName(key);
  if (!name.startsWith(trigger.prefix ?? '')) {
    return { kind: 'skip', why: `${name} is outside the trigger's prefix` };
  }
  if (!(trigger.events ?? ['put', 'delete']).includes(type)) {
    return { kind: 'skip', why: `the trigger takes no ${type} events` };
  }

  const event: ObjectEvent = { type, bucket: trigger.bucket, name };
  if (type === 'delete') return { kind: 'event', event };

  return {
    kind: 'event',
    event,
    info: {
      name,
      size: Number(s3.object?.size ?? 0),
      etag: String(s3.object?.eTag ?? ''),
      contentType: 'application/octet-stream',
      metadata: {},
      updatedAt: Date.parse(String(record.eventTime)) || Date.now(),
    },
  };
}

function eventType(name: string): ObjectEvent['type'] | undefined {
  if (name.startsWith('ObjectCreated:')) return 'put';
  if (name.startsWith('ObjectRemoved:')) return 'delete';
  if (name.startsWith('LifecycleExpiration:Delete')) return 'delete';
  return undefined;
}

/** S3 event keys are URL-encoded, with `+` for a space. */
function objectName(key: string): string {
  try {
    return decodeURIComponent(key.replaceAll('+', ' '));
  } catch {
    return key;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
