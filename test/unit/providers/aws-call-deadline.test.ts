/**
 * The bound on a whole AWS SDK call: an HTTP handler that never answers
 * (what a connection gone silent can look like) still ends the call with
 * a retryable TimeoutError. The handler is ours; the client is the SDK's.
 */
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { describe, expect, test } from 'vitest';
import { TimeoutError } from '../../../src/core/errors.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { AwsContext } from '../../../src/providers/aws/context.ts';
import { resolveAwsOptions } from '../../../src/providers/aws/options.ts';

process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_EC2_METADATA_DISABLED = 'true';

describe('the aws provider bounds every call', () => {
  test('a call whose HTTP request never ends rejects with a retryable TimeoutError after its attempts', async () => {
    const context = new AwsContext(
      resolveAwsOptions({
        endpoint: 'http://127.0.0.1:9',
        region: 'us-east-1',
        requestTimeoutMs: 100,
        maxAttempts: 2,
      }),
      silentLogger,
    );
    const sqs = context.sqs;
    sqs.config.requestHandler = {
      handle: () => new Promise<never>(() => {}),
    } as unknown as typeof sqs.config.requestHandler;

    try {
      const error = await sqs
        .send(new GetQueueUrlCommand({ QueueName: 'silent' }))
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as TimeoutError).retryable).toBe(true);
      expect((error as TimeoutError).message).toMatch(
        /GetQueueUrlCommand did not end within/,
      );
    } finally {
      await context.close();
    }
  });
});
