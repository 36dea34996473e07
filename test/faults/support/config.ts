/**
 * Which provider a fault test runs on, as plain JSON that a child process
 * can be handed on its command line, and opening a provider from it the
 * way configuration loading does (the registry's dynamic import).
 */
import { randomUUID } from 'node:crypto';
import { loadProvider } from '../../../src/config/registry.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { Provider } from '../../../src/core/provider.ts';

/** The providers the fault suite runs on. */
export const PROVIDERS = ['local', 'nats', 'aws'] as const;

/** One of {@link PROVIDERS}. */
export type ProviderName = (typeof PROVIDERS)[number];

/** A provider and its options, JSON only. */
export interface ProviderConfig {
  readonly provider: ProviderName;
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * Opens the provider `config` names with its options, silent, under a
 * fresh instance id. Throws the factory's ConfigurationError for bad
 * options and its TransportUnavailableError for a server that does not
 * answer.
 *
 * @example
 * ```ts
 * const provider = await openProvider({ provider: 'nats', options: { servers: url } });
 * ```
 */
export async function openProvider(config: ProviderConfig): Promise<Provider> {
  const factory = await loadProvider(config.provider);
  return factory(
    { ...config.options },
    { logger: silentLogger, instanceId: randomUUID() },
  );
}
