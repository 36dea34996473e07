/** Options of the memory provider: defaults and validation. */
import { optionChecks } from '../../core/provider-kit.ts';

/** Options of {@link createMemoryProvider}. */
export interface MemoryProviderOptions {
  /**
   * Providers created with the same namespace in one process share all
   * their state, as clients of one server would. Default `default`.
   */
  namespace?: string;
  /** Largest message body accepted, in bytes. Default 1048576 (1 MiB). */
  maxPayloadBytes?: number;
  /**
   * How long a message id is remembered to drop a re-publish of it on the
   * same channel, in ms; 0 turns deduplication off. Default 120000.
   */
  dedupWindowMs?: number;
}

/** The options with every default applied. */
export type ResolvedMemoryOptions = Required<MemoryProviderOptions>;

/** Defaults of {@link MemoryProviderOptions}. */
export const MEMORY_DEFAULTS: ResolvedMemoryOptions = {
  namespace: 'default',
  maxPayloadBytes: 1_048_576,
  dedupWindowMs: 120_000,
};

const FIELDS = new Set(Object.keys(MEMORY_DEFAULTS));

const { rejectUnknown, isInteger, invalid } = optionChecks('memory');

/**
 * Validates options and applies the defaults. Throws a ConfigurationError
 * naming the field and the value received.
 */
export function resolveMemoryOptions(
  options: Record<string, unknown> = {},
): ResolvedMemoryOptions {
  rejectUnknown(options, FIELDS);
  const { namespace, maxPayloadBytes, dedupWindowMs } = options;

  if (
    namespace !== undefined &&
    (typeof namespace !== 'string' || namespace === '')
  ) {
    throw invalid('namespace', namespace, 'must be a non-empty string');
  }
  if (maxPayloadBytes !== undefined && !isInteger(maxPayloadBytes, 1)) {
    throw invalid(
      'maxPayloadBytes',
      maxPayloadBytes,
      'must be an integer of at least 1',
    );
  }
  if (dedupWindowMs !== undefined && !isInteger(dedupWindowMs, 0)) {
    throw invalid(
      'dedupWindowMs',
      dedupWindowMs,
      'must be an integer of at least 0',
    );
  }

  return {
    namespace: (namespace as string | undefined) ?? MEMORY_DEFAULTS.namespace,
    maxPayloadBytes:
      (maxPayloadBytes as number | undefined) ??
      MEMORY_DEFAULTS.maxPayloadBytes,
    dedupWindowMs:
      (dedupWindowMs as number | undefined) ?? MEMORY_DEFAULTS.dedupWindowMs,
  };
}
