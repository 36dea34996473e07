/**
 * The results file: the figures of a run with the machine and the date,
 * written as JSON.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { BenchConfig } from './config.ts';
import type { BenchResults } from './figures.ts';
import type { Goal, NatsGoal, Ratio } from './ratios.ts';

/** The machine a run was made on. */
export interface Machine {
  cpus: number;
  cpuModel: string;
  totalMemoryMiB: number;
  node: string;
  v8: string;
  platform: string;
  arch: string;
  /** Where the temporary data folders were made. */
  tmpdir: string;
}

/** The whole results file. */
export interface ResultsFile {
  date: string;
  machine: Machine;
  quick: boolean;
  scenarios: string[];
  config: BenchConfig;
  results: BenchResults;
  ratios: Ratio[];
  goals: Goal[];
  /** Switchyard's share of the raw NATS client's rate, per measure. */
  natsGoals: NatsGoal[];
  /** Scenarios that failed, with their error. */
  failures: { scenario: string; error: string }[];
  /**
   * The 1, 5 and 15 minute load averages at the start and the end: on a
   * machine busy with other work the figures are lower and noisier.
   */
  load: { start: number[]; end: number[] };
  durationSeconds: number;
}

/** Describes this machine and runtime. */
export function describeMachine(): Machine {
  const [first] = cpus();

  return {
    cpus: availableParallelism(),
    cpuModel: first?.model.trim() ?? 'unknown',
    totalMemoryMiB: Math.round(totalmem() / 1024 / 1024),
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    tmpdir: tmpdir(),
  };
}

/** The load averages now, rounded. */
export function loadAverage(): number[] {
  return loadavg().map((load) => Math.round(load * 100) / 100);
}

/**
 * Writes `file` as indented JSON to `path`, creating its folder. The
 * results are generated and ignored by git and by the formatter.
 */
export async function writeResults(
  path: string,
  file: ResultsFile,
): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  await writeFile(path, `${JSON.stringify(file, null, 2)}\n`);
}
