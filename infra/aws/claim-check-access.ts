/**
 * What a pipeline function needs of the claim check's bucket: reading
 * the objects of the records it consumes, writing those of the large
 * bodies it publishes, and the client's claim-check setting in its
 * environment. Only the objects under the claim check's prefix are
 * granted.
 */
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';

/** The claim check of a function, as its grants and environment. */
export interface ClaimCheckGrant {
  /** The bucket that holds the claim-check objects. */
  readonly bucket: IBucket;

  /** The bucket's Switchyard name, which the client's setting names. */
  readonly name: string;

  /** Prefix of the claim-check objects: empty, or ending with `/`. */
  readonly prefix: string;

  /**
   * Read the objects (`s3:GetObject`): the function consumes a channel
   * whose records may carry claim-check references.
   */
  readonly read: boolean;

  /**
   * Write the objects (`s3:PutObject`): the function publishes, and its
   * bodies over the channel's limit become objects.
   */
  readonly write: boolean;
}

/**
 * The claim check of a function of `trigger` that publishes on
 * `publishes` channels, on the claim check's bucket; undefined when the
 * function neither consumes a channel nor publishes.
 *
 * @example
 * ```ts
 * claimCheckGrant({ bucket, name: 'large', prefix: 'claim-check/' },
 *   'channel', 0); // read, no write
 * ```
 */
export function claimCheckGrant(
  claimCheck: { bucket: IBucket; name: string; prefix: string },
  trigger: string,
  publishes: number,
): ClaimCheckGrant | undefined {
  const read = trigger === 'channel';
  const write = publishes > 0;
  if (!read && !write) return undefined;

  return { ...claimCheck, read, write };
}

/**
 * The statements of `grant`: `s3:GetObject` and `s3:PutObject`, as
 * granted, on the objects under the prefix, and `s3:ListBucket` on the
 * bucket. The adapter and the client open the bucket with a HeadBucket,
 * which S3 authorises as `s3:ListBucket`; with it, S3 also answers a read
 * of an object that is gone with 404 rather than 403, so that the record
 * is dead-lettered as missing.
 */
export function claimCheckStatements(
  grant: ClaimCheckGrant,
): PolicyStatement[] {
  const objects = grant.bucket.arnForObjects(`${grant.prefix}*`);
  const actions = [
    ...(grant.read ? ['s3:GetObject'] : []),
    ...(grant.write ? ['s3:PutObject'] : []),
  ];

  return [
    new PolicyStatement({ actions, resources: [objects] }),
    new PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [grant.bucket.bucketArn],
    }),
  ];
}

/**
 * The environment of the client's claim check: the configuration reads
 * `SWITCHYARD_CLAIM_CHECK_BUCKET` and `SWITCHYARD_CLAIM_CHECK_PREFIX`.
 */
export function claimCheckEnvironment(
  grant: ClaimCheckGrant,
): Record<string, string> {
  return {
    SWITCHYARD_CLAIM_CHECK_BUCKET: grant.name,
    SWITCHYARD_CLAIM_CHECK_PREFIX: grant.prefix,
  };
}
