/** The summary `switchyard dev` prints when a run ends. */
import type {
  CheckResult,
  FunctionStats,
  PipelineStats,
  ProducerStats,
} from '../../functions/index.ts';
import { formatData, formatTable } from '../format.ts';
import type { Output } from '../output.ts';

/** What the pipeline's check found, or why it did not run. */
export type CheckOutcome =
  | (CheckResult & { skipped?: undefined })
  | { skipped: true; summary: string };

/** Counters of one function as the summary shows them. */
export type FunctionSummary = Omit<FunctionStats, 'inFlight'>;

/** The end of a run, as `--json` prints it. */
export interface DevSummary {
  pipeline: string;
  provider: string;
  /** `idle`: every channel drained; `stopped`: stopped by a signal. */
  ended: 'idle' | 'stopped';
  published: number;
  delivered: number;
  retried: number;
  deadLettered: number;
  duplicates: number;
  functions: Record<string, FunctionSummary>;
  producers: Record<string, ProducerStats>;
  check: CheckOutcome;
}

/** Adds up a run's counters into its summary. */
export function summarize(
  stats: PipelineStats,
  context: { provider: string; ended: DevSummary['ended'] },
  check: CheckOutcome,
): DevSummary {
  const functions: Record<string, FunctionSummary> = {};
  const total = (field: keyof FunctionSummary) =>
    Object.values(stats.functions).reduce(
      (sum, fn) => sum + (fn[field] as number),
      0,
    );
  for (const [name, fn] of Object.entries(stats.functions)) {
    const { inFlight: _, ...counters } = fn;
    functions[name] = counters;
  }

  return {
    pipeline: stats.pipeline,
    provider: context.provider,
    ended: context.ended,
    published: stats.published,
    delivered: total('delivered'),
    retried: total('retried'),
    deadLettered: total('deadLettered'),
    duplicates: total('duplicates'),
    functions,
    producers: stats.producers,
    check,
  };
}

/** One line of progress: what was published and what each function did. */
export function progressLine(stats: PipelineStats): string {
  const parts = [`published ${stats.published}`];
  for (const [name, fn] of Object.entries(stats.functions)) {
    const dead =
      fn.deadLettered > 0 ? `, dead-lettered ${fn.deadLettered}` : '';
    parts.push(`${name}: delivered ${fn.delivered}${dead}`);
  }
  return parts.join(' | ');
}

/** Prints the summary for people, or as one JSON object. */
export function printSummary(output: Output, summary: DevSummary): void {
  if (output.json) {
    output.record(summary);
    return;
  }
  const ended = summary.ended === 'idle' ? 'every channel drained' : 'stopped';
  output.line(`pipeline ${summary.pipeline} on ${summary.provider}: ${ended}`);
  output.line(
    `published ${summary.published}, delivered ${summary.delivered}, retried ${summary.retried}, dead-lettered ${summary.deadLettered}, duplicates skipped ${summary.duplicates}`,
  );

  output.line('');
  const functions = Object.entries(summary.functions).map(([name, fn]) => [
    name,
    fn.trigger,
    ...[fn.delivered, fn.succeeded, fn.failed, fn.retried].map(String),
    ...[fn.deadLettered, fn.duplicates, fn.published].map(String),
  ]);
  const headers = ['FUNCTION', 'TRIGGER', 'DELIVERED', 'SUCCEEDED', 'FAILED'];
  headers.push('RETRIED', 'DEAD-LETTERED', 'DUPLICATES', 'PUBLISHED');
  for (const line of formatTable(headers, functions)) output.line(line);

  const producers = Object.entries(summary.producers).map(([name, p]) => [
    name,
    p.state,
    String(p.published),
  ]);
  if (producers.length > 0) {
    output.line('');
    const table = formatTable(['PRODUCER', 'STATE', 'PUBLISHED'], producers);
    for (const line of table) output.line(line);
  }

  output.line('');
  output.line(checkLine(summary.check));
  if (summary.check.skipped === undefined && !summary.check.ok) {
    for (const [key, value] of Object.entries(summary.check.details ?? {})) {
      output.line(`  ${key}: ${formatData(value)}`);
    }
  }
}

function checkLine(check: CheckOutcome): string {
  if (check.skipped !== undefined) return `check skipped: ${check.summary}`;
  return `check ${check.ok ? 'passed' : 'FAILED'}: ${check.summary}`;
}
