/**
 * Producers under the local runner: each `run` starts with the pipeline,
 * and its end is awaited by `idle()` and `stop()`.
 */
import type { Logger } from '../core/logger.ts';
import type { Switchyard } from '../core/switchyard.ts';
import { errorFields } from '../delivery/errors.ts';
import type { PipelineStats, ProducerStats } from './stats.ts';
import type { Producer } from './types.ts';

/** A started producer. */
export interface RunningProducer {
  readonly name: string;
  readonly stats: ProducerStats;
  /** Settles when `run` has returned or thrown; never rejects. */
  readonly done: Promise<void>;
  /** Aborts the producer's signal. */
  abort(): void;
}

/** What starting a producer needs. */
export interface ProducerEnv {
  /** Its client, which counts its publishes into `stats`. */
  counting(stats: ProducerStats): Switchyard;
  logger: Logger;
  pipelineStats(): PipelineStats;
}

/**
 * Starts `producer`. A producer that throws is logged at error level and
 * marked `failed`; the pipeline goes on.
 */
export function startProducer(
  producer: Producer,
  env: ProducerEnv,
): RunningProducer {
  const stats: ProducerStats = { published: 0, state: 'running' };
  const aborting = new AbortController();
  const logger = env.logger.child({ producer: producer.name });

  const done = (async () => {
    try {
      await producer.run({
        name: producer.name,
        attempt: 1,
        signal: aborting.signal,
        logger,
        switchyard: env.counting(stats),
        stats: env.pipelineStats,
      });
      stats.state = aborting.signal.aborted ? 'stopped' : 'done';
      logger.info('producer finished', { published: stats.published });
    } catch (error) {
      stats.state = aborting.signal.aborted ? 'stopped' : 'failed';
      if (stats.state === 'failed') {
        logger.error('producer failed', errorFields(error));
      }
    }
  })();

  return {
    name: producer.name,
    stats,
    done,
    abort: () => aborting.abort(),
  };
}
