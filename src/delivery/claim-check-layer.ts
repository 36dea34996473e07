/**
 * The claim check as a client puts it in place: checked when the client
 * is made, then laid over each channel transport the client puts in
 * service, with that transport's own limit.
 */
import { ConfigurationError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type {
  ChannelTransport,
  ObjectTransport,
  Provider,
} from '../core/provider.ts';
import { withClaimCheck } from './claim-check.ts';
import { resolveClaimCheck } from './claim-check-options.ts';

/** A client's claim check, ready to wrap channel transports. */
export interface ClaimCheckLayer {
  /** The largest body a publish accepts: the setting's `maxBytes`. */
  readonly maxBytes: number;
  /**
   * `transport` of `provider` with the claim check over it, for bodies
   * over `provider.capabilities.maxPayloadBytes`.
   */
  wrap(transport: ChannelTransport, provider: Provider): ChannelTransport;
}

/**
 * The claim check of `setting` on the objects provider `objects`. Throws
 * a ConfigurationError naming the field for a bad setting, and one naming
 * `parts.objects` when that provider offers no object buckets.
 *
 * @example
 * ```ts
 * const layer = claimCheckLayer({ bucket: 'claims' }, provider, logger);
 * const channels = layer.wrap(provider.channels!, provider);
 * ```
 */
export function claimCheckLayer(
  setting: unknown,
  objects: Provider,
  logger: Logger,
): ClaimCheckLayer {
  const { bucket, prefix, maxBytes } = resolveClaimCheck(setting);
  const store: ObjectTransport | undefined = objects.objects;
  if (store === undefined) {
    throw new ConfigurationError(
      `claimCheck needs object buckets, and provider '${objects.name}' of the objects part offers none: choose one that does for the 'objects' part`,
      { field: 'parts.objects', value: objects.name },
    );
  }

  return {
    maxBytes,
    wrap: (transport, provider) =>
      withClaimCheck(transport, {
        objects: store,
        bucket,
        prefix,
        maxPayloadBytes: provider.capabilities.maxPayloadBytes,
        logger: logger.child({ provider: provider.name }),
      }),
  };
}
