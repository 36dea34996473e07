/**
 * `createSwitchyard`: the client that binds the application API to the
 * providers chosen for each part.
 */
import { randomUUID } from 'node:crypto';
import { claimCheckLayer } from '../delivery/claim-check-layer.ts';
import { outboxAccess } from '../delivery/outbox-client.ts';
import {
  DEFAULT_DRAIN_CHECK_MS,
  DEFAULT_DRAIN_TIMEOUT_MS,
  type SwitchOptions,
} from '../delivery/switching.ts';
import { createChannelAdmin } from './admin.ts';
import { createChannelHandle } from './channel-handle.ts';
import { ConfigurationError } from './errors.ts';
import { createKvHandle } from './kv-handle.ts';
import { silentLogger } from './logger.ts';
import { createObjectHandle } from './object-handle.ts';
import { durationOption } from './options.ts';
import type { Provider } from './provider.ts';
import { createRequestHandle } from './request-handle.ts';
import { createRuntime } from './runtime.ts';
import type {
  Part,
  SwitchTarget,
  Switchyard,
  SwitchyardOptions,
} from './switchyard.ts';

const PARTS: readonly Part[] = [
  'channels',
  'kv',
  'objects',
  'requests',
  'idempotency',
];

/**
 * Creates a client on already built providers (configuration loading
 * builds them from a file; tests pass them directly).
 *
 * Handles are cheap and checked when made: `channel()`, `kv()` and
 * `objects()` throw at once for a bad name, a bad option, a part the
 * provider does not offer or a feature it lacks, and create their channel
 * or bucket lazily on first use. `close()` closes subscriptions, pull
 * consumers and servers (letting in-flight handlers finish), then the
 * outbox, if one was opened (relaying up to `outbox.closeTimeoutMs`),
 * then each distinct provider once; afterwards every call is a
 * `ClosedError`.
 *
 * @example
 * const client = createSwitchyard({ provider: createMemoryProvider() });
 * const events = client.channel<RouterEvent>('kv-events');
 * events.subscribe(apply, { group: 'indexer', guarantee: 'exactly-once' });
 * await events.publish({ workerId: 1, stored: [] });
 * await client.close();
 */
export function createSwitchyard(options: SwitchyardOptions): Switchyard {
  checkOptions(options);
  const logger = options.logger ?? silentLogger;
  const instanceId = options.instanceId ?? randomUUID();
  const claimCheck =
    options.claimCheck === undefined
      ? undefined
      : claimCheckLayer(
          options.claimCheck,
          options.parts?.objects ?? options.provider,
          logger.child({ instanceId }),
        );
  const runtime = createRuntime({
    instanceId,
    logger: logger.child({ instanceId }),
    provider: options.provider,
    ...(options.parts !== undefined && { parts: options.parts }),
    ...(claimCheck !== undefined && {
      claimCheckMaxBytes: claimCheck.maxBytes,
      wrapChannels: claimCheck.wrap,
    }),
    ...(options.outbox !== undefined && { outbox: options.outbox }),
  });
  const requests = createRequestHandle(runtime);
  let closing: Promise<void> | undefined;

  return {
    instanceId,
    capabilities: (part) => runtime.capabilities(checkPart(part)),
    providerName: (part) => runtime.provider(checkPart(part)).name,
    channel(name, channelOptions) {
      runtime.assertOpen();
      return createChannelHandle(runtime, name, channelOptions);
    },
    kv(bucket, kvOptions) {
      runtime.assertOpen();
      return createKvHandle(runtime, bucket, kvOptions);
    },
    objects(bucket, bucketOptions) {
      runtime.assertOpen();
      return createObjectHandle(runtime, bucket, bucketOptions);
    },
    serve: (subject, handler, serveOptions) =>
      requests.serve(subject, handler, serveOptions),
    request: (subject, data, requestOptions) =>
      requests.request(subject, data, requestOptions),
    gather: (subject, data, gatherOptions) =>
      requests.gather(subject, data, gatherOptions),
    admin: createChannelAdmin(runtime),
    outbox: outboxAccess(runtime.outbox),
    async switchTo(target, switchOptions) {
      runtime.assertOpen();
      const resolved = switchOptionsOf(switchOptions);
      const inUse = runtime.providers();
      const next = await providerOf(target, options, inUse);
      try {
        return await runtime.switchChannels(next, resolved, {
          hold: () => runtime.outbox.hold(),
        });
      } catch (error) {
        const started = !inUse.includes(next) && !isProvider(target);
        if (started && runtime.provider('channels') !== next) {
          await next.close().catch(() => undefined);
        }
        throw error;
      }
    },
    close() {
      closing ??= closeAll(runtime);
      return closing;
    },
  };
}

/**
 * Closes what the client opened, newest first, then the providers. Every
 * step runs even when an earlier one fails; the first failure is thrown
 * at the end.
 */
async function closeAll(runtime: ReturnType<typeof createRuntime>) {
  const resources = runtime.shutdown().reverse();
  const failures: unknown[] = [];
  const record = (results: PromiseSettledResult<unknown>[]) => {
    for (const result of results) {
      if (result.status === 'rejected') failures.push(result.reason);
    }
  };

  record(await Promise.allSettled(resources.map((r) => r.close())));
  // The outbox relays up to its deadline, so it needs the providers open.
  record(await Promise.allSettled([runtime.outbox.close()]));
  record(await Promise.allSettled(runtime.providers().map((p) => p.close())));
  runtime.logger.info('client closed', { failures: failures.length });

  if (failures.length > 0) throw failures[0];
}

function switchOptionsOf(options: SwitchOptions = {}): Required<SwitchOptions> {
  return {
    drainTimeoutMs: durationOption(
      options.drainTimeoutMs,
      DEFAULT_DRAIN_TIMEOUT_MS,
      'switchTo.drainTimeoutMs',
    ),
    drainCheckMs: durationOption(
      options.drainCheckMs,
      DEFAULT_DRAIN_CHECK_MS,
      'switchTo.drainCheckMs',
    ),
  };
}

/** The provider a switch target stands for, started if need be. */
async function providerOf(
  target: SwitchTarget,
  options: SwitchyardOptions,
  inUse: readonly Provider[],
): Promise<Provider> {
  if (isProvider(target)) return target as Provider;
  const named = target as { provider?: unknown; options?: unknown };
  if (typeof named?.provider !== 'string') {
    throw new ConfigurationError(
      'switchTo needs a provider, or { provider: name, options? } naming one',
      { field: 'switchTo.target', value: target },
    );
  }
  if (
    named.options !== undefined &&
    (typeof named.options !== 'object' || named.options === null)
  ) {
    throw new ConfigurationError(
      `switchTo: the options of provider '${named.provider}' must be an object`,
      { field: 'switchTo.options', value: named.options },
    );
  }
  if (options.openProvider === undefined) {
    throw new ConfigurationError(
      `switchTo: this client cannot start provider '${named.provider}' by name; build it and pass the provider itself, or connect with connect()`,
      { field: 'switchTo.provider', value: named.provider },
    );
  }
  return options.openProvider(
    named.provider,
    named.options as Record<string, unknown> | undefined,
    inUse,
  );
}

function checkOptions(options: SwitchyardOptions): void {
  if (!isProvider(options?.provider)) {
    throw new ConfigurationError(
      'createSwitchyard needs a provider: an object with a name, capabilities and close()',
      { field: 'provider', value: options?.provider },
    );
  }
  for (const [part, provider] of Object.entries(options.parts ?? {})) {
    checkPart(part as Part, `parts.${part}`);
    if (provider !== undefined && !isProvider(provider)) {
      throw new ConfigurationError(
        `parts.${part} must be a provider: an object with a name, capabilities and close()`,
        { field: `parts.${part}`, value: provider },
      );
    }
  }
}

function checkPart(part: Part, field = 'part'): Part {
  if (!PARTS.includes(part)) {
    throw new ConfigurationError(
      `${field}: unknown part ${JSON.stringify(part)}; the parts are ${PARTS.join(', ')}`,
      { field, value: part },
    );
  }
  return part;
}

function isProvider(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const provider = value as Record<string, unknown>;
  return (
    typeof provider.name === 'string' &&
    typeof provider.capabilities === 'object' &&
    provider.capabilities !== null &&
    typeof provider.close === 'function'
  );
}
