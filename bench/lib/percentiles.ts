/** Latency summaries. */
import { round } from './timing.ts';

/** Percentiles of latency samples, in milliseconds. */
export interface LatencySummary {
  samples: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** Summarises `samples` (milliseconds); sorts them in place. */
export function summarize(samples: Float64Array): LatencySummary {
  samples.sort();
  let total = 0;
  for (const sample of samples) total += sample;

  return {
    samples: samples.length,
    meanMs: round(samples.length > 0 ? total / samples.length : 0, 3),
    p50Ms: round(percentile(samples, 50), 3),
    p90Ms: round(percentile(samples, 90), 3),
    p99Ms: round(percentile(samples, 99), 3),
    p999Ms: round(percentile(samples, 99.9), 3),
    maxMs: round(samples.at(-1) ?? 0, 3),
  };
}

/**
 * The `p`th percentile of ascending `sorted` by nearest rank: the
 * smallest sample that at least `p` percent of the samples do not exceed.
 */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
