/**
 * The provider registry: maps a provider name to the module that builds it.
 * Modules are loaded with a dynamic import only when configuration selects
 * them, so choosing `local` loads no cloud SDK at all.
 */
import { ConfigurationError } from '../core/errors.ts';
import type { ProviderFactory } from '../core/provider.ts';

/** Loads the factory of a provider. */
export type ProviderLoader = () => Promise<ProviderFactory>;

const loaders = new Map<string, ProviderLoader>([
  [
    'memory',
    async () => (await import('../providers/memory/index.ts')).createProvider,
  ],
  [
    'local',
    async () => (await import('../providers/local/index.ts')).createProvider,
  ],
  [
    'nats',
    async () => (await import('../providers/nats/index.ts')).createProvider,
  ],
  [
    'aws',
    async () => (await import('../providers/aws/index.ts')).createProvider,
  ],
]);

/**
 * Registers a provider under `name`, for third-party providers. A name
 * registered again replaces the earlier loader.
 *
 * @example
 * ```ts
 * registerProvider('acme', async () => (await import('acme-switchyard')).createProvider);
 * ```
 */
export function registerProvider(name: string, loader: ProviderLoader): void {
  loaders.set(name, loader);
}

/** Names of the registered providers. */
export function providerNames(): string[] {
  return [...loaders.keys()];
}

/**
 * The factory of provider `name`. Throws a ConfigurationError naming
 * `field` when no provider has that name.
 */
export async function loadProvider(
  name: string,
  field = 'provider',
): Promise<ProviderFactory> {
  const loader = loaders.get(name);
  if (!loader) {
    throw new ConfigurationError(
      `${field} is ${JSON.stringify(name)}, which is not a known provider (known: ${providerNames().join(', ')})`,
      { field, value: name },
    );
  }
  return loader();
}
