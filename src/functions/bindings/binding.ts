/**
 * What binding a function to its trigger needs and returns, shared by
 * the binders of each kind of trigger.
 */
import type { Logger } from '../../core/logger.ts';
import type { Switchyard } from '../../core/switchyard.ts';
import type { Pipeline } from '../define-pipeline.ts';
import type { FunctionStats, PipelineStats } from '../stats.ts';
import type { FunctionContext, SwitchyardFunction } from '../types.ts';

export { settledWithin } from '../../core/waiting.ts';

/** What a binder receives. */
export interface BindingEnv {
  readonly pipeline: Pipeline;
  readonly fn: SwitchyardFunction;
  /** The runner's client, for the runner's own calls. */
  readonly client: Switchyard;
  /** The client handed to the handler, which counts its publishes. */
  readonly counting: Switchyard;
  /** The function's counters, updated in place. */
  readonly stats: FunctionStats;
  /** A logger with the function's name in its fields. */
  readonly logger: Logger;
  /** The pipeline's counters, for `FunctionContext.stats`. */
  pipelineStats(): PipelineStats;
}

/** A function bound to its trigger. */
export interface Binding {
  /** The channel consumer to watch for idleness, for channel triggers. */
  readonly consumer?: { channel: string; name: string };
  /** Brings `stats` up to date with the trigger's own counters. */
  sync(): void;
  /** Whether a handler is running now. */
  busy(): boolean;
  /**
   * Stops the trigger and lets running handlers finish for up to
   * `timeoutMs`, then aborts their signal. Idempotent.
   */
  stop(timeoutMs: number): Promise<void>;
}

/** The context of one invocation. */
export function functionContext(
  env: BindingEnv,
  invocation: { attempt: number; signal: AbortSignal; logger?: Logger },
): FunctionContext {
  return {
    name: env.fn.name,
    attempt: invocation.attempt,
    signal: invocation.signal,
    logger: invocation.logger ?? env.logger,
    switchyard: env.counting,
    stats: env.pipelineStats,
  };
}
