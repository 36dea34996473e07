/**
 * What a pipeline function uses besides its trigger, by Switchyard
 * names, and how that becomes the grants of its Lambda function.
 *
 * A pipeline definition does not say which buckets a handler opens or
 * which channels it publishes on, so a deployment says it: a function
 * gets only what is listed (and its trigger), never every table of the
 * stack.
 */

import { Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { consumerQueuePrefix } from './names.ts';
import type { FunctionGrants } from './pipeline-function.ts';

/** The Switchyard resources a function uses, by name. */
export interface FunctionAccess {
  /** Key-value buckets it only reads. */
  readonly readKv?: readonly string[];

  /** Key-value buckets it reads and writes. */
  readonly writeKv?: readonly string[];

  /** Key-value buckets it watches (reads their DynamoDB stream). */
  readonly watchKv?: readonly string[];

  /** Object buckets it only reads. */
  readonly readObjects?: readonly string[];

  /** Object buckets it reads, writes and deletes in. */
  readonly writeObjects?: readonly string[];

  /** Channels it publishes on. */
  readonly publish?: readonly string[];

  /**
   * Channels whose consumers and counters it reads (`admin.consumers`,
   * `admin.stats`).
   */
  readonly readChannels?: readonly string[];
}

/** The constructs of a stack's resources, by Switchyard name. */
export interface ResourceIndex {
  readonly kv: ReadonlyMap<string, ITable>;
  readonly objects: ReadonlyMap<string, IBucket>;
  readonly channels: ReadonlyMap<string, ITopic>;

  /** The deployment prefix, which the consumer queues' names start with. */
  readonly prefix: string;
}

/**
 * The grants of `access`. Throws a RangeError naming the field (under
 * `where`) and the name when a name is not one of the pipeline's.
 *
 * @example
 * ```ts
 * resolveGrants({ writeKv: ['router-index'] }, index, 'functions.indexer');
 * ```
 */
export function resolveGrants(
  access: FunctionAccess,
  index: ResourceIndex,
  where: string,
): FunctionGrants {
  const pick = <T>(
    field: keyof FunctionAccess,
    from: ReadonlyMap<string, T>,
  ): T[] =>
    (access[field] ?? []).map((name) => {
      const found = from.get(name);
      if (found === undefined) {
        const known = [...from.keys()].join(', ') || 'none';
        throw new RangeError(
          `${where}.access.${field} names '${name}', which the pipeline does not declare (declared: ${known})`,
        );
      }
      return found;
    });

  return {
    readTables: pick('readKv', index.kv),
    writeTables: pick('writeKv', index.kv),
    watchTables: pick('watchKv', index.kv),
    readBuckets: pick('readObjects', index.objects),
    writeBuckets: pick('writeObjects', index.objects),
    publishTo: pick('publish', index.channels),
    readChannels: pick('readChannels', index.channels).map((topic, i) => ({
      topic,
      queueArns: Stack.of(topic).formatArn({
        service: 'sqs',
        resource: `${consumerQueuePrefix(index.prefix, access.readChannels![i]!)}*`,
      }),
    })),
  };
}
