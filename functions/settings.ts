/**
 * Settings of the reference pipeline: how many events the simulated
 * workers publish, from which seed, and how often the index is
 * snapshotted. From options, or from the environment under
 * `switchyard dev`.
 */
import type { GeneratorOptions } from './generator.ts';

/** Options of the reference pipeline. */
export interface RouterOptions extends GeneratorOptions {
  /**
   * The part of the generated events this run's workers publish, as
   * indexes `[from, to)` into them. Default all of them. The check
   * expects every event before `to` to have been published, by this run
   * or an earlier one.
   */
  publish?: { from?: number; to?: number };
  /** Period of the snapshot function, in ms. Default 5000. */
  snapshotEveryMs?: number;
  /** Snapshots kept in the bucket; older ones are deleted. Default 3. */
  keepSnapshots?: number;
  /** Events per batch a worker publishes. Default 50. */
  batchSize?: number;
}

/** The options with every default applied. */
export interface RouterSettings {
  seed: number;
  count: number;
  workers: number;
  from: number;
  to: number;
  snapshotEveryMs: number;
  keepSnapshots: number;
  batchSize: number;
}

/** Applies the defaults; throws a RangeError naming a bad option. */
export function resolveSettings(options: RouterOptions = {}): RouterSettings {
  const count = whole(options.count ?? 2000, 'count', 0);
  const settings: RouterSettings = {
    seed: whole(options.seed ?? 1, 'seed', 0),
    count,
    workers: whole(options.workers ?? 4, 'workers', 1),
    from: whole(options.publish?.from ?? 0, 'publish.from', 0),
    to: whole(options.publish?.to ?? count, 'publish.to', 0),
    snapshotEveryMs: whole(options.snapshotEveryMs ?? 5000, 'snapshotEveryMs'),
    keepSnapshots: whole(options.keepSnapshots ?? 3, 'keepSnapshots'),
    batchSize: whole(options.batchSize ?? 50, 'batchSize'),
  };
  if (settings.from > settings.to || settings.to > count) {
    throw new RangeError(
      `publish must satisfy 0 <= from <= to <= count (${count}), got from ${settings.from} and to ${settings.to}`,
    );
  }
  return settings;
}

/**
 * Options from the environment: `SWITCHYARD_DEV_EVENTS` (default 2000),
 * `SWITCHYARD_DEV_WORKERS` (4), `SWITCHYARD_DEV_SEED` (1) and
 * `SWITCHYARD_DEV_SNAPSHOT_MS` (5000).
 */
export function optionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): RouterOptions {
  const read = (name: string) => {
    const text = env[name];
    if (text === undefined || text === '') return undefined;
    const value = Number(text);
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`${name} must be an integer, got ${text}`);
    }
    return value;
  };
  const count = read('SWITCHYARD_DEV_EVENTS');
  const workers = read('SWITCHYARD_DEV_WORKERS');
  const seed = read('SWITCHYARD_DEV_SEED');
  const snapshotEveryMs = read('SWITCHYARD_DEV_SNAPSHOT_MS');

  return {
    ...(count !== undefined && { count }),
    ...(workers !== undefined && { workers }),
    ...(seed !== undefined && { seed }),
    ...(snapshotEveryMs !== undefined && { snapshotEveryMs }),
  };
}

function whole(value: number, name: string, min = 1): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}
