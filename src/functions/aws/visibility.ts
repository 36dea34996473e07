/**
 * SQS visibility changes for records a Lambda event source mapping
 * received: a retry after a delay, and a longer lease.
 */
import {
  ChangeMessageVisibilityCommand,
  GetQueueUrlCommand,
} from '@aws-sdk/client-sqs';
import { ConfigurationError } from '../../core/errors.ts';
import type { SqsVisibilityClient } from './options.ts';

/** SQS keeps a message invisible for at most 12 hours. */
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

/** Changes how long a received record stays invisible. */
export interface Visibility {
  /** Makes the record visible again in `ms` (rounded up to seconds). */
  change(
    receipt: { queueArn: string; receiptHandle: string },
    ms: number,
  ): Promise<void>;
}

/**
 * Visibility changes through `sqs`. The queue's URL is looked up once
 * per queue from the record's source ARN, so that the client's own
 * endpoint (an emulator's included) gives the URL.
 */
export function createVisibility(sqs: SqsVisibilityClient): Visibility {
  const urls = new Map<string, Promise<string>>();
  const queueUrl = (arn: string): Promise<string> => {
    let url = urls.get(arn);
    if (url === undefined) {
      url = lookUp(sqs, arn);
      url.catch(() => urls.delete(arn));
      urls.set(arn, url);
    }
    return url;
  };

  return {
    async change(receipt, ms) {
      const seconds = Math.min(
        MAX_VISIBILITY_SECONDS,
        Math.max(0, Math.ceil(ms / 1000)),
      );
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: await queueUrl(receipt.queueArn),
          ReceiptHandle: receipt.receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    },
  };
}

async function lookUp(sqs: SqsVisibilityClient, arn: string): Promise<string> {
  // arn:aws:sqs:{region}:{account}:{queue}
  const [, , service, , account, name] = arn.split(':');
  if (service !== 'sqs' || !account || !name) {
    throw new ConfigurationError(
      `eventSourceARN ${JSON.stringify(arn)} is not the ARN of an SQS queue`,
      { field: 'eventSourceARN', value: arn },
    );
  }
  const { QueueUrl } = await sqs.send(
    new GetQueueUrlCommand({
      QueueName: name,
      QueueOwnerAWSAccountId: account,
    }),
  );
  if (QueueUrl === undefined) {
    throw new ConfigurationError(`SQS gave no URL for queue ${arn}`, {
      field: 'eventSourceARN',
      value: arn,
    });
  }
  return QueueUrl;
}
