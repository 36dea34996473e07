/**
 * Object buckets on S3: one S3 bucket per object bucket, named with the
 * provider's prefix (`{prefix}{bucket}`). S3 bucket names are global
 * across every account, so a deployment picks a prefix of its own.
 *
 * Opening with `create` makes the bucket if absent (in the client's
 * region); without, a missing bucket is a NotFoundError. Deleting a
 * bucket removes its objects and unfinished multipart uploads first,
 * since S3 deletes only empty buckets.
 */
import {
  AbortMultipartUploadCommand,
  type BucketLocationConstraint,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { ConflictError } from '../../core/errors.ts';
import type { ObjectStore, ObjectTransport } from '../../core/provider.ts';
import type { AwsContext } from './context.ts';
import { awsCode, awsError, isMissing, PROVIDER } from './errors.ts';
import { AwsObjectStore } from './object-store.ts';
import { s3Bucket, userBucket } from './s3-mapping.ts';

/** Options of {@link AwsObjects}. */
export interface AwsObjectsOptions {
  /** Keys asked of S3 per page when listing, 1 to 1000. Default 1000. */
  pageSize?: number;
}

/** The most keys S3 lists, or deletes, in one call. */
const S3_PAGE = 1000;

/** Attempts to delete a bucket that writers still fill. */
const DELETE_BUCKET_ATTEMPTS = 3;

/** The object buckets of one AWS account and region. */
export class AwsObjects implements ObjectTransport {
  readonly #context: AwsContext;
  readonly #pageSize: number;

  constructor(context: AwsContext, options: AwsObjectsOptions = {}) {
    this.#context = context;
    this.#pageSize = Math.min(
      Math.max(options.pageSize ?? S3_PAGE, 1),
      S3_PAGE,
    );
  }

  async open(
    bucket: string,
    options: { create: boolean },
  ): Promise<ObjectStore> {
    this.#context.lifecycle.check('open an object bucket');
    const name = s3Bucket(this.#context, bucket);

    // A bucket is looked up before it is created, so that a deployed
    // function whose stack made the bucket needs no right to create one.
    try {
      await this.#context.s3.send(new HeadBucketCommand({ Bucket: name }));
    } catch (error) {
      if (!options.create || !isMissing(error)) {
        throw this.#error(error, `open object bucket '${bucket}'`, bucket);
      }
      try {
        await this.#create(name);
      } catch (created) {
        throw this.#error(created, `open object bucket '${bucket}'`, bucket);
      }
    }
    return new AwsObjectStore(this.#context, bucket, name, this.#pageSize);
  }

  async list(): Promise<string[]> {
    this.#context.lifecycle.check('list object buckets');
    const { prefix } = this.#context.options;
    const buckets: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.#context.s3.send(
          new ListBucketsCommand({
            ...(prefix !== '' && { Prefix: prefix }),
            MaxBuckets: S3_PAGE,
            ContinuationToken: token,
          }),
        );
        for (const { Name } of page.Buckets ?? []) {
          const bucket =
            Name === undefined ? undefined : userBucket(this.#context, Name);
          if (bucket !== undefined) buckets.push(bucket);
        }
        token = page.ContinuationToken;
      } while (token !== undefined && token !== '');
    } catch (error) {
      throw awsError(error, 'list object buckets');
    }
    return buckets.sort();
  }

  async delete(bucket: string): Promise<void> {
    this.#context.lifecycle.check('delete an object bucket');
    const name = s3Bucket(this.#context, bucket);

    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.#empty(name);
        await this.#context.s3.send(new DeleteBucketCommand({ Bucket: name }));
        return;
      } catch (error) {
        if (isMissing(error)) return;
        const filling =
          awsCode(error) === 'BucketNotEmpty' &&
          attempt < DELETE_BUCKET_ATTEMPTS;
        if (!filling) {
          throw this.#error(error, `delete object bucket '${bucket}'`, bucket);
        }
      }
    }
  }

  async #create(name: string): Promise<void> {
    const region = await this.#context.s3.config.region();
    try {
      await this.#context.s3.send(
        new CreateBucketCommand({
          Bucket: name,
          // us-east-1 is the one region S3 wants no location for.
          ...(region !== 'us-east-1' && {
            CreateBucketConfiguration: {
              LocationConstraint: region as BucketLocationConstraint,
            },
          }),
        }),
      );
    } catch (error) {
      if (awsCode(error) !== 'BucketAlreadyOwnedByYou') throw error;
    }
  }

  /** Removes every object and unfinished upload of S3 bucket `name`. */
  async #empty(name: string): Promise<void> {
    const { s3 } = this.#context;
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: name,
          MaxKeys: S3_PAGE,
          ContinuationToken: token,
        }),
      );
      const keys = (page.Contents ?? []).flatMap(({ Key }) =>
        Key === undefined ? [] : [{ Key }],
      );
      if (keys.length > 0) {
        await s3.send(
          new DeleteObjectsCommand({
            Bucket: name,
            Delete: { Objects: keys, Quiet: true },
          }),
        );
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);

    const uploads = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: name }),
    );
    for (const { Key, UploadId } of uploads.Uploads ?? []) {
      await s3.send(
        new AbortMultipartUploadCommand({ Bucket: name, Key, UploadId }),
      );
    }
  }

  #error(error: unknown, operation: string, bucket: string) {
    if (awsCode(error) === 'BucketAlreadyExists') {
      return new ConflictError(
        `cannot ${operation}: the S3 bucket name ${s3Bucket(this.#context, bucket)} belongs to another account; S3 bucket names are global, so set a prefix of your own`,
        {
          cause: error,
          details: {
            provider: PROVIDER,
            providerCode: 'BucketAlreadyExists',
            bucket,
          },
        },
      );
    }
    return awsError(error, operation, {
      details: { bucket },
      notFound: { kind: 'object-bucket', resource: bucket },
    });
  }
}
