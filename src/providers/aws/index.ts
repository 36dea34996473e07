/**
 * The `aws` provider: channels on SNS topics with an SQS queue per worker
 * group and per broadcast consumer (see `channels.ts`), the messages as
 * CloudEvents JSON bodies (`wire.ts`); key-value buckets and idempotency
 * records on DynamoDB, object buckets on S3, request/reply over SQS
 * queues with an SNS topic per subject for gathers. Endpoint, region and credentials
 * follow the SDK's standard chain unless the options give them, so the
 * same configuration reaches an account, LocalStack or moto.
 */
import type { Capabilities } from '../../core/capabilities.ts';
import { silentLogger } from '../../core/logger.ts';
import type {
  Provider,
  ProviderContext,
  ProviderFactory,
} from '../../core/provider.ts';
import { NO_ACK_FLOOR } from './channel-admin.ts';
import { createAwsChannels } from './channels.ts';
import { AwsContext } from './context.ts';
import { PROVIDER } from './errors.ts';
import { AwsIdempotency } from './idempotency.ts';
import { AwsKv } from './kv.ts';
import { AwsObjects } from './objects.ts';
import { type AwsProviderOptions, resolveAwsOptions } from './options.ts';
import { SNS_BATCH_SIZE, SNS_MAX_MESSAGE_BYTES } from './publisher.ts';
import { AwsRequests } from './requests.ts';

export type { AwsProviderOptions } from './options.ts';
export { fromSqsBody, toSqsBody } from './wire.ts';

/**
 * Bytes of an SNS message kept for the envelope around the data: the
 * CloudEvents attributes, the application's attributes and base64, which
 * makes binary data a third larger.
 */
export const ENVELOPE_MARGIN_BYTES = 4096;

/**
 * Opens the aws provider. Throws a ConfigurationError naming the option
 * when an option is invalid; no AWS call is made until a part is used.
 *
 * @example
 * ```ts
 * const provider = await createAwsProvider({ region: 'eu-west-1', prefix: 'prod-' });
 * await provider.channels!.ensure({ name: 'orders', ordered: false, groups: ['billing'] });
 * await provider.close();
 * ```
 */
export async function createAwsProvider(
  options: AwsProviderOptions = {},
  context: Partial<ProviderContext> = {},
): Promise<Provider> {
  const resolved = resolveAwsOptions(
    options as unknown as Record<string, unknown>,
  );
  const ctx = new AwsContext(resolved, context.logger ?? silentLogger);

  let closing: Promise<void> | undefined;
  return {
    name: PROVIDER,
    capabilities: awsCapabilities(),
    channels: createAwsChannels(ctx),
    kv: new AwsKv(ctx),
    objects: new AwsObjects(ctx),
    requests: new AwsRequests(ctx),
    idempotency: new AwsIdempotency(ctx),
    close: () => {
      closing ??= ctx.close();
      return closing;
    },
  };
}

/**
 * The provider factory that configuration loads: `options` is the
 * `providers.aws` section (see {@link AwsProviderOptions}).
 */
export const createProvider: ProviderFactory = (options, context) =>
  createAwsProvider(options as AwsProviderOptions, context);

/**
 * What the aws provider can do. The largest data is what still fits an
 * SNS message of 256 KiB once base64-encoded in its envelope; standard
 * topics drop no duplicate (FIFO topics of ordered channels drop a
 * re-publish of an id within five minutes, which this does not count);
 * delayed retries and leases are counted in whole seconds. Watch reads
 * DynamoDB Streams; request/reply is built on queues, not offered by
 * the services themselves.
 */
export function awsCapabilities(): Capabilities {
  return {
    maxPayloadBytes: Math.floor(
      ((SNS_MAX_MESSAGE_BYTES - ENVELOPE_MARGIN_BYTES) * 3) / 4,
    ),
    maxBatchSize: SNS_BATCH_SIZE,
    dedupWindowMs: 0,
    native: { deadLetter: true, watch: true, requestReply: false },
    unsupported: { purgeAcknowledged: NO_ACK_FLOOR },
  };
}
