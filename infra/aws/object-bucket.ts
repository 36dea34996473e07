/**
 * `ObjectBucket`: the S3 bucket of an object bucket.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { bucketName } from './names.ts';

/** A day, in ms: S3 lifecycle rules count whole days. */
const DAY_MS = 24 * 60 * 60 * 1000;

/** Props of {@link ObjectBucket}. */
export interface ObjectBucketProps {
  /** Prefix of every resource name of the deployment. */
  readonly prefix: string;

  /** The bucket's Switchyard name. */
  readonly bucket: string;

  /**
   * Objects expire this long after their last write, rounded up to
   * whole days, as S3 lifecycle rules count them.
   *
   * @default - objects never expire
   */
  readonly expireAfterMs?: number;

  /**
   * The claim check that keeps its bodies here: objects under `prefix`
   * expire `expireAfterDays` after their last write, so that those no
   * group removed (a broadcast consumer existed, a group never
   * acknowledged) do not stay for ever.
   *
   * @default - the bucket holds no claim-check objects
   */
  readonly claimCheck?: { prefix: string; expireAfterDays: number };

  /**
   * Where S3 writes the bucket's server access logs.
   *
   * @default - no access logs
   */
  readonly accessLogs?: IBucket;

  /**
   * What happens to the bucket when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An object bucket on S3: encrypted with S3-managed keys, no public
 * access, requests without TLS refused, ACLs disabled. Multipart uploads
 * left unfinished are aborted after a day, since large objects are
 * uploaded in parts. A bucket of a claim check also expires the objects
 * under the claim check's prefix.
 */
export class ObjectBucket extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: ObjectBucketProps) {
    super(scope, id);
    const { expireAfterMs } = props;

    this.bucket = new Bucket(this, 'Bucket', {
      bucketName: bucketName(props.prefix, props.bucket),
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      ...(props.accessLogs !== undefined && {
        serverAccessLogsBucket: props.accessLogs,
        serverAccessLogsPrefix: `${props.bucket}/`,
      }),
      lifecycleRules: [
        {
          id: 'abort-incomplete-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        ...(props.claimCheck !== undefined
          ? [
              {
                id: 'expire-claim-checks',
                ...(props.claimCheck.prefix !== '' && {
                  prefix: props.claimCheck.prefix,
                }),
                expiration: Duration.days(props.claimCheck.expireAfterDays),
              },
            ]
          : []),
        ...(expireAfterMs !== undefined
          ? [
              {
                id: 'expire-objects',
                expiration: Duration.days(Math.ceil(expireAfterMs / DAY_MS)),
              },
            ]
          : []),
      ],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
