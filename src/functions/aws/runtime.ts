/**
 * What a Lambda instance keeps from its cold start to its last
 * invocation: the providers, the client the handler sees (with the
 * claim check, when there is one), where claim-check references are
 * resolved, the idempotency tables it opened and the function's
 * counters.
 */
import type { Capabilities } from '../../core/capabilities.ts';
import { createSwitchyard } from '../../core/client.ts';
import { ConfigurationError } from '../../core/errors.ts';
import { type Logger, silentLogger } from '../../core/logger.ts';
import type {
  ChannelTransport,
  IdempotencyStore,
  IdempotencyTransport,
  Provider,
} from '../../core/provider.ts';
import type { Part, Switchyard } from '../../core/switchyard.ts';
import type { ResolveTarget } from '../../delivery/claim-check-consumer.ts';
import type { ClaimCheckSetting } from '../../delivery/claim-check-options.ts';
import { countingClient } from '../context.ts';
import { definePipeline, type Pipeline } from '../define-pipeline.ts';
import {
  emptyFunctionStats,
  type FunctionStats,
  type PipelineStats,
} from '../stats.ts';
import type { SwitchyardFunction } from '../types.ts';
import { claimCheckTarget } from './claim-check.ts';
import type { ResolvedLambdaOptions } from './options.ts';

/** The state one Lambda instance shares across its invocations. */
export interface LambdaRuntime {
  readonly fn: SwitchyardFunction;
  readonly pipeline: Pipeline;
  readonly logger: Logger;
  /** The client handed to the handler, which counts its publishes. */
  readonly client: Switchyard;
  /** The channel transport, for dead letters; absent if none. */
  readonly channels: ChannelTransport | undefined;
  /** Capabilities of the provider of channels (or of every part). */
  readonly capabilities: Capabilities;
  /**
   * Where claim-check references of records are resolved: the claim
   * check of the options, else of the configuration. Absent without one.
   */
  readonly claimCheck: ResolveTarget | undefined;
  /** The function's counters since the cold start. */
  readonly stats: FunctionStats;
  /** A copy of the counters as a pipeline's, for `context.stats()`. */
  pipelineStats(): PipelineStats;
  /** The idempotency table, opened once. */
  idempotency(table: string): Promise<IdempotencyStore>;
}

/** The providers a runtime is built on. */
interface Started {
  provider: Provider;
  parts: Partial<Record<Part, Provider>>;
  instanceId?: string;
  /** The configuration's claim check, when it came from one. */
  claimCheck?: ClaimCheckSetting;
}

/**
 * Returns a function that builds the runtime on its first call and gives
 * the same one afterwards. A failed start is not kept: the next
 * invocation tries again.
 */
export function lazyRuntime(
  fn: SwitchyardFunction,
  options: ResolvedLambdaOptions,
): () => Promise<LambdaRuntime> {
  let starting: Promise<LambdaRuntime> | undefined;

  return () => {
    starting ??= startRuntime(fn, options).catch((error: unknown) => {
      starting = undefined;
      throw error;
    });
    return starting;
  };
}

async function startRuntime(
  fn: SwitchyardFunction,
  options: ResolvedLambdaOptions,
): Promise<LambdaRuntime> {
  const base = options.logger ?? silentLogger;
  const started = await startProviders(options, base);
  const claimCheck = options.claimCheck ?? started.claimCheck;
  const client = createSwitchyard({
    ...started,
    logger: base,
    ...(claimCheck !== undefined && { claimCheck }),
  });
  const pipeline = options.pipeline ?? pipelineOf(fn);
  const logger = base.child({ pipeline: pipeline.name, function: fn.name });
  const stats = emptyFunctionStats(fn.trigger.type);
  const totals = { published: 0 };
  const channelsProvider = started.parts.channels ?? started.provider;
  const tables = new Map<string, Promise<IdempotencyStore>>();
  logger.info('lambda runtime started', {
    provider: started.provider.name,
    instanceId: client.instanceId,
  });

  return {
    fn,
    pipeline,
    logger,
    client: countingClient(client, pipeline, (count) => {
      stats.published += count;
      totals.published += count;
    }),
    channels: channelsProvider.channels,
    capabilities: channelsProvider.capabilities,
    claimCheck:
      claimCheck === undefined
        ? undefined
        : claimCheckTarget(
            claimCheck,
            started.parts.objects ?? started.provider,
          ),
    stats,
    pipelineStats: () =>
      structuredClone({
        pipeline: pipeline.name,
        instanceId: client.instanceId,
        published: totals.published,
        functions: { [fn.name]: stats },
        producers: {},
      }),
    idempotency(table) {
      let opening = tables.get(table);
      if (opening === undefined) {
        const transport = idempotencyOf(started);
        opening = transport.open(table);
        opening.catch(() => tables.delete(table));
        tables.set(table, opening);
      }
      return opening;
    },
  };
}

async function startProviders(
  options: ResolvedLambdaOptions,
  logger: Logger,
): Promise<Started> {
  const source = options.provider;
  if (source === undefined) {
    // Loaded here so that a bundle given its provider carries no
    // configuration loading.
    const config = await import('../../config/connect.ts');
    const started = await config.startProviders({ logger });
    const { claimCheck } = started.config;
    return { ...started, ...(claimCheck !== undefined && { claimCheck }) };
  }
  const provider = typeof source === 'function' ? await source() : source;

  return { provider, parts: {} };
}

function idempotencyOf(started: Started): IdempotencyTransport {
  const provider = started.parts.idempotency ?? started.provider;
  if (provider.idempotency === undefined) {
    throw new ConfigurationError(
      `provider '${provider.name}' does not offer idempotency tables, which exactly-once functions need: choose a provider that does for the 'idempotency' part`,
      { field: 'parts.idempotency', value: provider.name },
    );
  }
  return provider.idempotency;
}

/** A pipeline of `fn` alone, with its channel or bucket declared plainly. */
function pipelineOf(fn: SwitchyardFunction): Pipeline {
  const { trigger } = fn;
  return definePipeline({
    name: fn.name,
    functions: [fn],
    ...((trigger.type === 'channel' || trigger.type === 'broadcast') && {
      channels: { [trigger.channel]: {} },
    }),
    ...(trigger.type === 'objects' && { objects: { [trigger.bucket]: {} } }),
  });
}
