/**
 * Counters of a running pipeline: what its functions received and did,
 * and what it published.
 */
import type { SubscriptionStats } from '../core/channel.ts';
import type { Trigger } from './types.ts';

/**
 * Counters of one function on this instance since the pipeline started.
 * For channel and broadcast triggers they are the subscription's; for
 * other triggers `delivered` counts the events, `failed` the handler
 * errors, and `retried`, `deadLettered` and `duplicates` stay 0.
 */
export interface FunctionStats extends SubscriptionStats {
  readonly trigger: Trigger['type'];
  /** Times the handler was invoked (duplicates skipped do not count). */
  runs: number;
  /** Messages the function published through its context. */
  published: number;
}

/** Counters of one producer. */
export interface ProducerStats {
  /** Messages it published. */
  published: number;
  state: 'running' | 'done' | 'failed' | 'stopped';
}

/** Counters of a running pipeline on this instance. */
export interface PipelineStats {
  /** The pipeline's name. */
  readonly pipeline: string;
  /** The client's instance id. */
  readonly instanceId: string;
  /** Messages published by functions and producers. */
  published: number;
  /** Per function run on this instance. */
  functions: Record<string, FunctionStats>;
  /** Per producer run on this instance. */
  producers: Record<string, ProducerStats>;
}

/** Fresh counters of a function with trigger `trigger`. */
export function emptyFunctionStats(trigger: Trigger['type']): FunctionStats {
  return {
    trigger,
    delivered: 0,
    succeeded: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    duplicates: 0,
    inFlight: 0,
    runs: 0,
    published: 0,
  };
}

/** Copies the counters of a subscription into a function's counters. */
export function copySubscriptionStats(
  from: Readonly<SubscriptionStats>,
  to: FunctionStats,
): void {
  to.delivered = from.delivered;
  to.succeeded = from.succeeded;
  to.failed = from.failed;
  to.retried = from.retried;
  to.deadLettered = from.deadLettered;
  to.duplicates = from.duplicates;
  to.inFlight = from.inFlight;
}
