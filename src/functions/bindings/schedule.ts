/**
 * Schedule triggers: a timer that runs the handler every `everyMs`, one
 * run at a time.
 */
import { errorFields } from '../../delivery/errors.ts';
import type { ScheduleTrigger } from '../types.ts';
import {
  type Binding,
  type BindingEnv,
  functionContext,
  settledWithin,
} from './binding.ts';

/**
 * Starts the timer. The first run is due `everyMs` after binding; the
 * next one `everyMs` after the previous one was due, skipping the times
 * that passed while a run was still going, so runs never overlap. A run
 * that throws is logged at error level and counted as failed; the
 * schedule goes on.
 */
export function bindSchedule(
  env: BindingEnv,
  trigger: ScheduleTrigger,
): Binding {
  const { everyMs } = trigger;
  const aborting = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const arm = (due: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = fire(env, due, aborting.signal).finally(() => {
        running = undefined;
        let next = due + everyMs;
        while (next <= Date.now()) next += everyMs;
        arm(next);
      });
    }, due - Date.now());
  };
  arm(Date.now() + everyMs);

  return {
    sync: () => {},
    busy: () => running !== undefined,
    async stop(timeoutMs) {
      stopped = true;
      clearTimeout(timer);
      if (!(await settledWithin(running, timeoutMs))) {
        env.logger.warn('a scheduled run was still going at the deadline', {
          timeoutMs,
        });
        aborting.abort();
      }
    },
  };
}

async function fire(
  env: BindingEnv,
  due: number,
  signal: AbortSignal,
): Promise<void> {
  const { stats } = env;
  stats.delivered++;
  stats.runs++;
  stats.inFlight++;
  const scheduledAt = new Date(due);
  env.logger.debug('scheduled run', { scheduledAt: scheduledAt.toISOString() });

  try {
    await env.fn.handler(
      { scheduledAt },
      functionContext(env, { attempt: 1, signal }),
    );
    stats.succeeded++;
  } catch (error) {
    stats.failed++;
    env.logger.error('scheduled run failed', errorFields(error));
  } finally {
    stats.inFlight--;
  }
}
