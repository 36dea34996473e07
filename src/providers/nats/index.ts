/**
 * The `nats` provider: NATS with JetStream. Channels are JetStream
 * streams with pull consumers (see `channels.ts`), key-value buckets are
 * JetStream KV buckets, object buckets the JetStream object store,
 * idempotency records a KV bucket per table, and request/reply is core
 * NATS request and reply, so existing JetStream deployments can be read
 * and written as they are.
 */
import type { Capabilities } from '../../core/capabilities.ts';
import { silentLogger } from '../../core/logger.ts';
import type {
  Provider,
  ProviderContext,
  ProviderFactory,
} from '../../core/provider.ts';
import { createNatsChannels } from './channels.ts';
import { closeNatsContext, openNatsContext } from './connection.ts';
import { PROVIDER } from './errors.ts';
import { NatsIdempotency } from './idempotency.ts';
import { NatsKv } from './kv.ts';
import { NatsObjects } from './objects.ts';
import { type NatsProviderOptions, resolveNatsOptions } from './options.ts';
import { NatsRequests } from './requests.ts';

export type { NatsContext } from './connection.ts';
export type { NatsProviderOptions } from './options.ts';

/** Largest number of messages one publish call sends. */
export const MAX_BATCH_SIZE = 1000;

/**
 * Bytes of `max_payload` kept for the headers a message carries (its
 * id, CloudEvents attributes and the application's attributes), so that
 * a body of `maxPayloadBytes` still fits.
 */
export const HEADER_MARGIN_BYTES = 8192;

/**
 * Connects to NATS and opens the provider. Throws a ConfigurationError
 * naming the option when an option is invalid, and a
 * TransportUnavailableError that names the servers tried when none
 * answers within `connectTimeoutMs` (default 5000) or the server runs
 * without JetStream.
 *
 * @example
 * ```ts
 * const provider = await createNatsProvider({ servers: '127.0.0.1:4222' });
 * const bucket = await provider.kv!.open('workers', { create: true });
 * await provider.close();
 * ```
 */
export async function createNatsProvider(
  options: NatsProviderOptions = {},
  context: Partial<ProviderContext> = {},
): Promise<Provider> {
  const resolved = resolveNatsOptions(
    options as unknown as Record<string, unknown>,
  );
  const shared = await openNatsContext(resolved, {
    logger: context.logger ?? silentLogger,
  });

  let closing: Promise<void> | undefined;
  return {
    name: PROVIDER,
    capabilities: natsCapabilities(
      shared.nc.info?.max_payload ?? 1_048_576,
      resolved.duplicateWindowMs,
    ),
    channels: createNatsChannels(shared),
    kv: new NatsKv(shared),
    objects: new NatsObjects(shared),
    requests: new NatsRequests(shared),
    idempotency: new NatsIdempotency(shared),
    close: () => {
      closing ??= closeNatsContext(shared);
      return closing;
    },
  };
}

/**
 * The provider factory that configuration loads: `options` is the
 * `providers.nats` section (see {@link NatsProviderOptions}).
 */
export const createProvider: ProviderFactory = (options, context) =>
  createNatsProvider(options as NatsProviderOptions, context);

/**
 * What the nats provider can do. The largest message is the server's
 * `max_payload` less {@link HEADER_MARGIN_BYTES}; dead letters are kept
 * on a stream of their own rather than by the server, which has no
 * dead-letter queue.
 */
export function natsCapabilities(
  maxPayload: number,
  duplicateWindowMs: number,
): Capabilities {
  return {
    maxPayloadBytes: Math.max(1, maxPayload - HEADER_MARGIN_BYTES),
    maxBatchSize: MAX_BATCH_SIZE,
    dedupWindowMs: duplicateWindowMs,
    native: { deadLetter: false, watch: true, requestReply: true },
    unsupported: {},
  };
}
