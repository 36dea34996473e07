/**
 * `runPipeline`: the local runner. It binds each function of a pipeline
 * to its trigger on a client, starts the producers, and reports counters.
 */
import { ConfigurationError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import type { Switchyard } from '../core/switchyard.ts';
import { errorFields } from '../delivery/errors.ts';
import {
  type Binding,
  type BindingEnv,
  settledWithin,
} from './bindings/binding.ts';
import { bindChannel } from './bindings/channel.ts';
import { bindObjects } from './bindings/objects.ts';
import { bindRequest } from './bindings/request.ts';
import { bindSchedule } from './bindings/schedule.ts';
import { countingClient, declaredChannelOptions } from './context.ts';
import type { Pipeline } from './define-pipeline.ts';
import { type IdleOptions, waitForIdle } from './idle.ts';
import { type RunningProducer, startProducer } from './producers.ts';
import {
  emptyFunctionStats,
  type FunctionStats,
  type PipelineStats,
} from './stats.ts';
import type { FunctionContext, SwitchyardFunction } from './types.ts';

/** Default of `stop({ timeoutMs })`. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/** Options of {@link runPipeline}. */
export interface RunPipelineOptions {
  /** The client to run on. The caller owns it: `stop()` leaves it open. */
  switchyard: Switchyard;
  /** Where the runner logs. Default: silent. */
  logger?: Logger;
  /** Run only the functions of these names. Default: all of them. */
  functions?: readonly string[];
  /**
   * Which producers to start: all (`true`, the default), none (`false`),
   * or those of these names.
   */
  producers?: boolean | readonly string[];
  /** Names this instance in logs and stats. Default the client's id. */
  instanceId?: string;
}

/** A pipeline running on this instance. */
export interface RunningPipeline {
  readonly pipeline: Pipeline;
  readonly instanceId: string;
  /** A copy of the counters as they are now. */
  stats(): PipelineStats;
  /**
   * Resolves once every producer has finished and, for a quiet period,
   * no handler runs and every channel consumer of the functions run here
   * has no lag and nothing in flight. Rejects with a `TimeoutError`
   * after `timeoutMs` (default 60000).
   */
  idle(options?: IdleOptions): Promise<void>;
  /**
   * Stops gracefully and resolves when done: aborts the producers' signal
   * and waits for them (up to `timeoutMs`), stops the triggers (subscriptions close letting handlers in flight finish
   * for up to `timeoutMs`, default 10000, after which they are aborted
   * and their messages delivered again), then runs the `onStop` hooks.
   * Idempotent.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * Runs `pipeline` on `options.switchyard` and resolves once it is
 * started: every declared channel exists with every worker group of the
 * pipeline's functions on it (so no group misses a message), the
 * `onStart` hooks have run one after the other, each function is bound
 * to its trigger, and the producers are started.
 *
 * Rejects, having undone what it started, with a `ConfigurationError`
 * for an unknown name in `functions` or `producers`, a `CapabilityError`
 * for a trigger the provider cannot serve, or what an `onStart` threw.
 *
 * @example
 * ```ts
 * const running = await runPipeline(pipeline, { switchyard: await connect() });
 * await running.idle();
 * console.log(running.stats().functions.indexer.succeeded);
 * await running.stop();
 * ```
 */
export async function runPipeline(
  pipeline: Pipeline,
  options: RunPipelineOptions,
): Promise<RunningPipeline> {
  const client = options?.switchyard;
  if (client === undefined) {
    throw new ConfigurationError('runPipeline needs a switchyard client', {
      field: 'switchyard',
    });
  }
  const selected = selectFunctions(pipeline, options.functions);
  const producers = selectProducers(pipeline, options.producers ?? true);
  const instanceId = options.instanceId ?? client.instanceId;
  const logger = (options.logger ?? silentLogger).child({
    pipeline: pipeline.name,
    instanceId,
  });

  const stats: PipelineStats = {
    pipeline: pipeline.name,
    instanceId,
    published: 0,
    functions: {},
    producers: {},
  };
  const bindings: Binding[] = [];
  const started: RunningProducer[] = [];
  const snapshot = (): PipelineStats => {
    for (const binding of bindings) binding.sync();
    return structuredClone(stats);
  };
  const counting = (counter: { published: number }) =>
    countingClient(client, pipeline, (count) => {
      counter.published += count;
      stats.published += count;
    });
  const envs = selected.map((fn) => {
    const fnStats = emptyFunctionStats(fn.trigger.type);
    stats.functions[fn.name] = fnStats;
    return bindingEnv(fn, fnStats);
  });

  function bindingEnv(fn: SwitchyardFunction, fnStats: FunctionStats) {
    return {
      pipeline,
      fn,
      client,
      counting: counting(fnStats),
      stats: fnStats,
      logger: logger.child({ function: fn.name }),
      pipelineStats: snapshot,
    } satisfies BindingEnv;
  }

  try {
    for (const name of Object.keys(pipeline.channels)) {
      await client
        .channel(name, declaredChannelOptions(pipeline, name))
        .publishBatch([]);
    }
    for (const env of envs) await env.fn.onStart?.(hookContext(env));
    for (const env of envs) bindings.push(await bind(env));
  } catch (error) {
    await Promise.allSettled(bindings.map((b) => b.stop(0)));
    throw error;
  }

  for (const producer of producers) {
    const running = startProducer(producer, {
      counting,
      logger,
      pipelineStats: snapshot,
    });
    stats.producers[producer.name] = running.stats;
    started.push(running);
  }
  logger.info('pipeline started', {
    functions: selected.map((f) => f.name),
    producers: producers.map((p) => p.name),
  });

  let stopping: Promise<void> | undefined;
  return {
    pipeline,
    instanceId,
    stats: snapshot,
    idle: (idleOptions) =>
      waitForIdle(
        { admin: client.admin, bindings, producers: started },
        idleOptions,
      ),
    stop(stopOptions = {}) {
      const timeoutMs = stopOptions.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
      stopping ??= (async () => {
        for (const producer of started) producer.abort();
        const done = Promise.all(started.map((p) => p.done));
        if (!(await settledWithin(done, timeoutMs))) {
          logger.warn('producers still running at the stop deadline', {
            running: started.filter((p) => p.stats.state === 'running').length,
          });
        }
        await Promise.all(bindings.map((b) => b.stop(timeoutMs)));
        for (const env of envs) {
          try {
            await env.fn.onStop?.(hookContext(env));
          } catch (error) {
            env.logger.error('onStop failed', errorFields(error));
          }
        }
        logger.info('pipeline stopped', { published: stats.published });
      })();
      return stopping;
    },
  };
}

function bind(env: BindingEnv): Binding | Promise<Binding> {
  const { trigger } = env.fn;
  switch (trigger.type) {
    case 'channel':
    case 'broadcast':
      return bindChannel(env, trigger);
    case 'schedule':
      return bindSchedule(env, trigger);
    case 'objects':
      return bindObjects(env, trigger);
    case 'request':
      return bindRequest(env, trigger);
  }
}

function hookContext(env: BindingEnv): FunctionContext {
  return {
    name: env.fn.name,
    attempt: 1,
    signal: new AbortController().signal,
    logger: env.logger,
    switchyard: env.counting,
    stats: env.pipelineStats,
  };
}

function selectFunctions(
  pipeline: Pipeline,
  names: readonly string[] | undefined,
): SwitchyardFunction[] {
  if (names === undefined) return [...pipeline.functions];
  const known = new Set(pipeline.functions.map((f) => f.name));
  for (const name of names) {
    if (!known.has(name)) {
      throw new ConfigurationError(
        `functions: pipeline '${pipeline.name}' has no function '${name}'; it has ${[...known].join(', ')}`,
        { field: 'functions', value: name },
      );
    }
  }
  return pipeline.functions.filter((f) => names.includes(f.name));
}

function selectProducers(
  pipeline: Pipeline,
  which: boolean | readonly string[],
) {
  if (which === true) return [...pipeline.producers];
  if (which === false) return [];
  const known = new Set(pipeline.producers.map((p) => p.name));
  for (const name of which) {
    if (!known.has(name)) {
      throw new ConfigurationError(
        `producers: pipeline '${pipeline.name}' has no producer '${name}'`,
        { field: 'producers', value: name },
      );
    }
  }
  return pipeline.producers.filter((p) => which.includes(p.name));
}
