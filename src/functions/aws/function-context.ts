/**
 * The context a Lambda invocation hands a schedule or request handler:
 * the one the local runner's bindings give, on the instance's runtime.
 */
import type { Logger } from '../../core/logger.ts';
import type { FunctionContext } from '../types.ts';
import type { LambdaRuntime } from './runtime.ts';

/** The context of one run, attempt 1, of the runtime's function. */
export function runContext(
  runtime: LambdaRuntime,
  run: { signal: AbortSignal; logger?: Logger },
): FunctionContext {
  return {
    name: runtime.fn.name,
    attempt: 1,
    signal: run.signal,
    logger: run.logger ?? runtime.logger,
    switchyard: runtime.client,
    stats: runtime.pipelineStats,
  };
}
