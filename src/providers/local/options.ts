/** Options of the local provider: defaults and validation. */
import { resolve } from 'node:path';
import { optionChecks } from '../../core/provider-kit.ts';
import { PROVIDER } from './support.ts';

/** Options of {@link createLocalProvider}. */
export interface LocalProviderOptions {
  /**
   * Folder of the SQLite database and the object files, created if
   * absent. Processes that share it share every channel, bucket and
   * table. Default `.switchyard` in the working directory.
   */
  dataDir?: string;
  /** Largest message body accepted, in bytes. Default 1048576 (1 MiB). */
  maxPayloadBytes?: number;
  /**
   * How long a message id is remembered to drop a re-publish of it on the
   * same channel, in ms; 0 turns deduplication off. Default 120000.
   */
  dedupWindowMs?: number;
  /**
   * `normal` (the default) survives a crash of the process (kill -9);
   * `full` also survives a power loss, at the cost of an fsync on every
   * commit.
   */
  synchronous?: 'normal' | 'full';
  /**
   * Longest pause between two looks at the database for work written by
   * other processes, in ms. Idle consumers and watches back off from 2 ms
   * up to this. Default 50.
   */
  pollIntervalMs?: number;
  /**
   * A broadcast consumer whose instance has not been seen for this long,
   * in ms, is removed by the other instances. Default 60000.
   */
  broadcastInactiveMs?: number;
}

/** The options with every default applied and `dataDir` made absolute. */
export type ResolvedLocalOptions = Required<LocalProviderOptions>;

/** Defaults of {@link LocalProviderOptions}. */
export const LOCAL_DEFAULTS: ResolvedLocalOptions = {
  dataDir: '.switchyard',
  maxPayloadBytes: 1_048_576,
  dedupWindowMs: 120_000,
  synchronous: 'normal',
  pollIntervalMs: 50,
  broadcastInactiveMs: 60_000,
};

const FIELDS = new Set(Object.keys(LOCAL_DEFAULTS));

const { rejectUnknown, isInteger, invalid } = optionChecks(PROVIDER);

/**
 * Validates options and applies the defaults. Throws a ConfigurationError
 * naming the field and the value received.
 */
export function resolveLocalOptions(
  options: Record<string, unknown> = {},
): ResolvedLocalOptions {
  rejectUnknown(options, FIELDS);
  const {
    dataDir = LOCAL_DEFAULTS.dataDir,
    maxPayloadBytes = LOCAL_DEFAULTS.maxPayloadBytes,
    dedupWindowMs = LOCAL_DEFAULTS.dedupWindowMs,
    synchronous = LOCAL_DEFAULTS.synchronous,
    pollIntervalMs = LOCAL_DEFAULTS.pollIntervalMs,
    broadcastInactiveMs = LOCAL_DEFAULTS.broadcastInactiveMs,
  } = options;

  if (typeof dataDir !== 'string' || dataDir === '') {
    throw invalid('dataDir', dataDir, 'must be a non-empty path');
  }
  if (!isInteger(maxPayloadBytes, 1)) {
    throw invalid(
      'maxPayloadBytes',
      maxPayloadBytes,
      'must be an integer of at least 1',
    );
  }
  if (!isInteger(dedupWindowMs, 0)) {
    throw invalid(
      'dedupWindowMs',
      dedupWindowMs,
      'must be an integer of at least 0',
    );
  }
  if (synchronous !== 'normal' && synchronous !== 'full') {
    throw invalid('synchronous', synchronous, "must be 'normal' or 'full'");
  }
  if (!isInteger(pollIntervalMs, 1) || pollIntervalMs > 60_000) {
    throw invalid(
      'pollIntervalMs',
      pollIntervalMs,
      'must be an integer from 1 to 60000',
    );
  }
  if (!isInteger(broadcastInactiveMs, 1000)) {
    throw invalid(
      'broadcastInactiveMs',
      broadcastInactiveMs,
      'must be an integer of at least 1000',
    );
  }

  return {
    dataDir: resolve(dataDir),
    maxPayloadBytes,
    dedupWindowMs,
    synchronous,
    pollIntervalMs,
    broadcastInactiveMs,
  };
}
