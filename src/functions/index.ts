/**
 * Functions and pipelines: define handlers bound to triggers, gather them
 * in a pipeline definition, and run it locally with `runPipeline`.
 *
 * @example
 * ```ts
 * const echo = defineFunction({
 *   name: 'echo',
 *   trigger: onRequest('echo'),
 *   handler: (request: string) => request,
 * });
 * const pipeline = definePipeline({ name: 'demo', functions: [echo] });
 * const running = await runPipeline(pipeline, { switchyard: await connect() });
 * await running.stop();
 * ```
 */

export {
  type ChannelFunctionSpec,
  defineFunction,
  type FunctionSpec,
  type FunctionSpecBase,
  type ObjectsFunctionSpec,
  type RequestFunctionSpec,
  type ScheduleFunctionSpec,
} from './define-function.ts';
export {
  definePipeline,
  type Pipeline,
  type PipelineSpec,
} from './define-pipeline.ts';
export type { IdleOptions } from './idle.ts';
export {
  type ChannelResource,
  describePipeline,
  type GroupResource,
  type PipelineResources,
} from './resources.ts';
export {
  DEFAULT_STOP_TIMEOUT_MS,
  type RunningPipeline,
  type RunPipelineOptions,
  runPipeline,
} from './run-pipeline.ts';
export type { FunctionStats, PipelineStats, ProducerStats } from './stats.ts';
export {
  every,
  onBroadcast,
  onChannel,
  onObjects,
  onRequest,
} from './triggers.ts';
export type * from './types.ts';
