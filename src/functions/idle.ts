/**
 * Idleness of a running pipeline: producers done, and every watched
 * channel consumer caught up, for a quiet period.
 */
import { TimeoutError } from '../core/errors.ts';
import type { ChannelAdmin } from '../core/switchyard.ts';
import { sleep } from '../delivery/sleep.ts';
import type { Binding } from './bindings/binding.ts';
import type { RunningProducer } from './producers.ts';

/** Options of `RunningPipeline.idle`. */
export interface IdleOptions {
  /** How long everything must stay idle, in ms. Default 200. */
  quietMs?: number;
  /** Pause between two looks, in ms. Default 25. */
  pollIntervalMs?: number;
  /** Give up after this long with a TimeoutError, in ms. Default 60000. */
  timeoutMs?: number;
}

/** What idleness is judged on. */
export interface IdleSubject {
  admin: ChannelAdmin;
  bindings: readonly Binding[];
  producers: readonly RunningProducer[];
}

/**
 * Resolves once every producer has finished and, for `quietMs` in a row,
 * no handler runs and every channel consumer of the bindings has no lag
 * and nothing in flight (from `admin.stats`). Rejects with a
 * `TimeoutError` after `timeoutMs`.
 */
export async function waitForIdle(
  subject: IdleSubject,
  options: IdleOptions = {},
): Promise<void> {
  const quietMs = options.quietMs ?? 200;
  const pollIntervalMs = options.pollIntervalMs ?? 25;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let quietSince: number | undefined;

  for (;;) {
    const now = Date.now();
    if (await isIdle(subject)) {
      quietSince ??= now;
      if (now - quietSince >= quietMs) return;
    } else {
      quietSince = undefined;
    }
    if (now >= deadline) {
      throw new TimeoutError(
        `the pipeline did not become idle within ${timeoutMs} ms`,
        timeoutMs,
      );
    }
    await sleep(pollIntervalMs);
  }
}

async function isIdle(subject: IdleSubject): Promise<boolean> {
  if (subject.producers.some((p) => p.stats.state === 'running')) {
    return false;
  }
  if (subject.bindings.some((b) => b.busy())) return false;

  const byChannel = new Map<string, string[]>();
  for (const { consumer } of subject.bindings) {
    if (consumer === undefined) continue;
    const names = byChannel.get(consumer.channel) ?? [];
    names.push(consumer.name);
    byChannel.set(consumer.channel, names);
  }
  for (const [channel, names] of byChannel) {
    const { consumers } = await subject.admin.stats(channel);
    for (const name of names) {
      const counts = consumers[name];
      if (counts !== undefined && (counts.lag > 0 || counts.inFlight > 0)) {
        return false;
      }
    }
  }

  return true;
}
