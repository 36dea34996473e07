/** Options of the Lambda adapter: defaults and validation. */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigurationError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Provider } from '../../core/provider.ts';
import {
  type ClaimCheckSetting,
  type ResolvedClaimCheck,
  resolveClaimCheck,
} from '../../delivery/claim-check-options.ts';
import type { Pipeline } from '../define-pipeline.ts';
import type { SwitchyardFunction } from '../types.ts';

/** Builds the provider a Lambda instance runs on. */
export type ProviderSource = Provider | (() => Provider | Promise<Provider>);

/** The part of an SQS client the adapter uses. */
export type SqsVisibilityClient = Pick<SQSClient, 'send'>;

/** Options of {@link toLambda} and {@link switchyardBatch}. */
export interface LambdaOptions {
  /**
   * The provider of every part, or a function that builds it. Built once
   * per cold start, on the first invocation, and reused. Default: the
   * configuration's providers, started with `startProviders()` from the
   * file and environment (`SWITCHYARD_PROVIDER=aws`).
   */
  provider?: ProviderSource;
  /**
   * The pipeline the function belongs to. Its declarations apply as under
   * the local runner: the channel's codec and schema decode each message,
   * and the handler's client opens declared channels and buckets with
   * them. Default: none, so data is decoded by its content type alone.
   */
  pipeline?: Pipeline;
  /** Where the adapter and the handler's context log. Default: silent. */
  logger?: Logger;
  /**
   * An SQS client, to map a retry's delay onto the record's visibility
   * (`ChangeMessageVisibility`) and to let the handler extend its lease,
   * and, for a request function, to send its replies. Default: none, so
   * a failed record comes back after the queue's visibility timeout and
   * `extendLease` is not supported; a request function builds a client
   * from the environment.
   */
  sqs?: SqsVisibilityClient;
  /**
   * Time kept free before the invocation's deadline, in ms: records not
   * started by then are reported failed, handlers still running are
   * abandoned so that the batch response is returned in time, and an
   * exactly-once lease ends by then. Default 1000.
   */
  safetyMarginMs?: number;
  /** The idempotency table of exactly-once functions. */
  idempotency?: { table?: string; ttlMs?: number };
  /**
   * The claim check of the function's client, as `createSwitchyard`
   * takes it: records carrying a claim-check reference are resolved from
   * this bucket of the objects provider before the handler runs, and the
   * handler's publishes carry bodies over the channels provider's limit
   * as objects there. Default: the configuration's `claimCheck`
   * (`SWITCHYARD_CLAIM_CHECK_BUCKET`, which the CDK app sets from the
   * pipeline's declaration) when the providers come from the
   * configuration; none when `provider` is given.
   */
  claimCheck?: ClaimCheckSetting;
}

/** Default of {@link LambdaOptions.safetyMarginMs}. */
export const DEFAULT_SAFETY_MARGIN_MS = 1_000;

/** The options, checked, with defaults applied. */
export interface ResolvedLambdaOptions {
  provider: ProviderSource | undefined;
  pipeline: Pipeline | undefined;
  logger: Logger | undefined;
  sqs: SqsVisibilityClient | undefined;
  safetyMarginMs: number;
  idempotency: { table?: string; ttlMs?: number };
  claimCheck: ResolvedClaimCheck | undefined;
}

/**
 * Checks `options` for `fn`. Throws a ConfigurationError naming the
 * field and the value received (`claimCheck.bucket` and the like for a
 * bad claim check).
 */
export function resolveLambdaOptions(
  fn: SwitchyardFunction,
  options: LambdaOptions = {},
): ResolvedLambdaOptions {
  const { provider, pipeline, sqs } = options;
  const safetyMarginMs = options.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;

  if (provider !== undefined && !isProviderSource(provider)) {
    throw new ConfigurationError(
      `provider must be a provider or a function that builds one, got ${typeof provider}`,
      { field: 'provider', value: provider },
    );
  }
  if (pipeline !== undefined && !pipeline.functions?.includes(fn)) {
    throw new ConfigurationError(
      `pipeline '${pipeline.name}' does not hold function '${fn.name}': pass the pipeline the function is part of`,
      { field: 'pipeline', value: pipeline.name },
    );
  }
  if (sqs !== undefined && typeof sqs?.send !== 'function') {
    throw new ConfigurationError(
      'sqs must be an SQS client (an object with send())',
      { field: 'sqs', value: sqs },
    );
  }
  if (!Number.isFinite(safetyMarginMs) || safetyMarginMs < 0) {
    throw new ConfigurationError(
      `safetyMarginMs must be a number of milliseconds >= 0, got ${String(safetyMarginMs)}`,
      { field: 'safetyMarginMs', value: safetyMarginMs },
    );
  }

  return {
    provider,
    pipeline,
    logger: options.logger,
    sqs,
    safetyMarginMs,
    idempotency: options.idempotency ?? {},
    claimCheck:
      options.claimCheck === undefined
        ? undefined
        : resolveClaimCheck(options.claimCheck),
  };
}

function isProviderSource(value: unknown): value is ProviderSource {
  if (typeof value === 'function') return true;
  const provider = value as Partial<Provider> | null;
  return (
    typeof provider === 'object' &&
    provider !== null &&
    typeof provider.name === 'string' &&
    typeof provider.close === 'function'
  );
}
