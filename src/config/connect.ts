/**
 * `connect`: configuration in, a running client out.
 */
import { randomUUID } from 'node:crypto';
import { createSwitchyard } from '../core/client.ts';
import { ConfigurationError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import { stableJson } from '../core/options.ts';
import type { Provider } from '../core/provider.ts';
import type { Part, Switchyard } from '../core/switchyard.ts';
import { type LoadConfigOptions, loadConfig } from './load.ts';
import { loadProvider } from './registry.ts';
import { PARTS, type SwitchyardConfig } from './schema.ts';

/** Options of {@link connect}. */
export interface ConnectOptions extends LoadConfigOptions {
  /** Where the library logs. Default: silent. */
  logger?: Logger;
  /** Unique id of this instance. Default: a random one. */
  instanceId?: string;
}

/**
 * Loads the configuration (file, then environment), starts the providers
 * it selects, and returns a client. With no configuration at all, it runs
 * on the embedded `local` provider in `.switchyard/`.
 *
 * Throws a ConfigurationError naming the field when the configuration is
 * invalid or names an unknown provider, before any message is sent.
 *
 * @example
 * ```ts
 * const sy = await connect();
 * await sy.channel('orders').publish({ id: 42 });
 * await sy.close();
 * ```
 */
export async function connect(
  options: ConnectOptions = {},
): Promise<Switchyard> {
  const started = await startProviders(options);
  started.logger.info('switchyard connected', {
    provider: started.config.provider,
    parts: started.config.parts,
    instanceId: started.instanceId,
  });

  const { claimCheck, outbox } = started.config;
  return createSwitchyard({
    ...started,
    ...(claimCheck !== undefined && { claimCheck }),
    ...(outbox !== undefined && { outbox }),
  });
}

/** The providers a configuration selects, started. */
export interface StartedProviders {
  config: SwitchyardConfig;
  /** The provider of every part not given in `parts`. */
  provider: Provider;
  /** The provider chosen for each part the configuration names. */
  parts: Partial<Record<Part, Provider>>;
  logger: Logger;
  instanceId: string;
  /**
   * Starts another provider of the registry by name, with `options` or
   * else those the configuration gives it; one of `inUse` started from the
   * same name and options is handed back instead. For switching channels.
   */
  openProvider(
    name: string,
    options: Record<string, unknown> | undefined,
    inUse: readonly Provider[],
  ): Promise<Provider>;
}

/**
 * What {@link connect} does before it builds the client: loads the
 * configuration and starts each provider it selects, once. For runtimes
 * that need the providers themselves (their idempotency tables, their
 * channel transport) as well as a client built on them. Throws as
 * `connect` does; on a failure, the providers already started are closed.
 */
export async function startProviders(
  options: ConnectOptions = {},
): Promise<StartedProviders> {
  const config = await loadConfig(options);
  const logger = options.logger ?? silentLogger;
  const instanceId = options.instanceId ?? randomUUID().slice(0, 12);

  const started = new Map<string, Provider>();
  /** What each provider was started from, to hand it back when asked again. */
  const origins = new WeakMap<Provider, string>();
  const originOf = (name: string, given?: Record<string, unknown>) =>
    `${name}\u0000${stableJson(given ?? config.providers[name] ?? {})}`;
  try {
    for (const name of providersOf(config)) {
      const provider = await startProvider(config, name, logger, instanceId);
      started.set(name, provider);
      origins.set(provider, originOf(name));
    }
  } catch (error) {
    await Promise.allSettled([...started.values()].map((p) => p.close()));
    throw error;
  }

  const parts: Partial<Record<Part, Provider>> = {};
  for (const part of PARTS) {
    const name = config.parts[part];
    if (name) parts[part] = started.get(name)!;
  }

  return {
    config,
    provider: started.get(config.provider)!,
    parts,
    logger,
    instanceId,
    async openProvider(name, given, inUse) {
      const origin = originOf(name, given);
      const running = inUse.find((p) => origins.get(p) === origin);
      if (running !== undefined) return running;

      const provider = await startProvider(
        given === undefined
          ? config
          : { ...config, providers: { ...config.providers, [name]: given } },
        name,
        logger,
        instanceId,
        'switchTo.provider',
      );
      origins.set(provider, origin);
      return provider;
    },
  };
}

function providersOf(config: SwitchyardConfig): string[] {
  const names = new Set([config.provider]);
  for (const part of PARTS) {
    const name = config.parts[part];
    if (name) names.add(name);
  }
  return [...names];
}

async function startProvider(
  config: SwitchyardConfig,
  name: string,
  logger: Logger,
  instanceId: string,
  field = config.provider === name ? 'provider' : 'parts',
): Promise<Provider> {
  const factory = await loadProvider(name, field);
  try {
    return await factory(config.providers[name] ?? {}, {
      logger: logger.child({ provider: name }),
      instanceId,
    });
  } catch (error) {
    if (
      error instanceof ConfigurationError &&
      !error.field?.startsWith('providers.')
    ) {
      throw new ConfigurationError(`providers.${name}: ${error.message}`, {
        field: `providers.${name}${error.field ? `.${error.field}` : ''}`,
        value: error.value,
        cause: error,
        details: { provider: name },
      });
    }
    throw error;
  }
}
