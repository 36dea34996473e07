/** The shape of a scenario, as `run.ts` drives it. */
import type { BenchConfig } from './config.ts';
import type { BenchResults } from './figures.ts';
import type { Row } from './table.ts';

/** What a scenario hands back. */
export interface ScenarioReport {
  /** Its entry of the results file. */
  results: BenchResults;
  /** Its lines of the results table. */
  rows: Row[];
}

/** One benchmark scenario, selected by name with `--only`. */
export interface Scenario {
  readonly name: keyof BenchResults;
  /** One line for `--help`. */
  readonly summary: string;
  /** Runs it; `progress` reports what it is doing, on stderr. */
  run(config: BenchConfig, progress: Progress): Promise<ScenarioReport>;
}

/** Reports a step under way. */
export type Progress = (step: string) => void;
