/**
 * Fault injection through the provider contract: wrappers that make a
 * provider misbehave the way a network or a crash would, without
 * touching its internals, so any provider can be put through them.
 */
import type {
  ChannelTransport,
  ConsumerSpec,
  Provider,
  TransportConsumer,
  TransportDelivery,
} from '../core/provider.ts';

/**
 * A provider whose first `count` acknowledgements are lost: `ack()`
 * resolves as if it had worked, but the message stays leased and is
 * delivered again when its lease expires. Models an ack lost on the way
 * to the broker after the handler completed.
 */
export function loseAcks(provider: Provider, count: number): Provider {
  const channels = provider.channels;
  if (channels === undefined) return provider;
  let remaining = count;
  const ack = (delivery: TransportDelivery) => async () => {
    if (remaining > 0) {
      remaining -= 1;
      return;
    }
    await delivery.ack();
  };

  return {
    name: provider.name,
    capabilities: provider.capabilities,
    channels: wrapConsume(channels, (consumer) =>
      wrapDeliveries(consumer, (delivery) => ({ ack: ack(delivery) })),
    ),
    kv: provider.kv,
    objects: provider.objects,
    requests: provider.requests,
    idempotency: provider.idempotency,
    close: () => provider.close(),
  };
}

/** `channels` with the consumers it opens passed through `wrap`. */
function wrapConsume(
  channels: ChannelTransport,
  wrap: (consumer: TransportConsumer) => TransportConsumer,
): ChannelTransport {
  const consume = async (spec: ConsumerSpec) =>
    wrap(await channels.consume(spec));

  return new Proxy(channels, {
    get(target, property) {
      if (property === 'consume') return consume;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** `consumer` with some methods of each delivery replaced. */
function wrapDeliveries(
  consumer: TransportConsumer,
  replace: (delivery: TransportDelivery) => Partial<TransportDelivery>,
): TransportConsumer {
  return {
    fetch: async (max, options) => {
      const deliveries = await consumer.fetch(max, options);
      return deliveries.map((delivery) =>
        overrideDelivery(delivery, replace(delivery)),
      );
    },
    close: () => consumer.close(),
  };
}

function overrideDelivery(
  delivery: TransportDelivery,
  replaced: Partial<TransportDelivery>,
): TransportDelivery {
  return {
    message: delivery.message,
    attempt: delivery.attempt,
    channelSequence: delivery.channelSequence,
    ack: replaced.ack ?? (() => delivery.ack()),
    nak: replaced.nak ?? ((delayMs) => delivery.nak(delayMs)),
    extend: replaced.extend ?? ((leaseMs) => delivery.extend(leaseMs)),
    deadLetter:
      replaced.deadLetter ?? ((reason) => delivery.deadLetter(reason)),
  };
}
