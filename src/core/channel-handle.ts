/**
 * The {@link Channel} handle: publishing, and the subscriptions and pull
 * consumers of `src/delivery` bound to the channel's transport.
 *
 * The name, groups, codec and ordering are checked when the handle is made;
 * the channel is ensured on the transport lazily, once, on first use (with
 * `create: false`, only checked to exist). With `confirm: 'outbox'`,
 * publishes go to the client's outbox, and its relay ensures the channel
 * before it first sends there.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { createDecoder } from '../delivery/decode.ts';
import { openPullConsumer } from '../delivery/pull.ts';
import { subscribe } from '../delivery/subscription.ts';
import { supports } from './capabilities.ts';
import type {
  Channel,
  ChannelOptions,
  ConsumerOptions,
  Handler,
  PullConsumer,
  SubscribeOptions,
  Subscription,
} from './channel.ts';
import type { Codec } from './codec.ts';
import { resolveCodec } from './codecs.ts';
import {
  CapabilityError,
  ConfigurationError,
  NotFoundError,
} from './errors.ts';
import { lazy } from './lazy.ts';
import type {
  BatchEntry,
  BatchResult,
  PublishOptions,
  PublishReceipt,
} from './message.ts';
import { assertName } from './names.ts';
import type {
  ChannelTransport,
  ConsumerSpec,
  TransportConsumer,
} from './provider.ts';
import { type PublishContext, prepareMessage, receipt } from './publish.ts';
import { publishBatch } from './publish-batch.ts';
import type { Runtime } from './runtime.ts';

/**
 * Makes the handle of channel `name`. Throws at once a `ValidationError`
 * for a bad channel or group name, a `ConfigurationError` for a bad codec,
 * a bad `confirm` or a provider without channels, and a `CapabilityError`
 * for `ordered` on a provider without ordering.
 */
export function createChannelHandle<T>(
  runtime: Runtime,
  name: string,
  options: ChannelOptions<T> = {},
): Channel<T> {
  assertName('channel', name);
  const groups = (options.groups ?? []).map((g) => assertName('group', g));
  const codec = resolveCodec(options.codec, 'channel.codec');
  const ordered = options.ordered ?? false;
  const transport = runtime.transport('channels');
  const capabilities = runtime.capabilities('channels');
  if (ordered && !supports(capabilities, 'ordering')) {
    throw new CapabilityError(
      `channel '${name}' is ordered, but provider '${runtime.provider('channels').name}' does not order messages: ${capabilities.unsupported.ordering}`,
      { feature: 'ordering', details: { channel: name } },
    );
  }
  checkSchema(options.schema);
  const confirm = checkConfirm(options.confirm);

  const ensure = lazy(async () => {
    if (options.create === false) {
      if (!(await transport.exists(name))) {
        throw new NotFoundError('channel', name, {
          details: { channel: name },
        });
      }
      if (groups.length === 0) return;
    }
    await transport.ensure({ name, ordered, groups });
  });
  // The outbox's relay makes the channel exist before it sends there.
  if (confirm === 'outbox') runtime.outbox.declare(name, ensure);

  return new ChannelHandle(runtime, {
    channel: name,
    codec,
    ...(options.schema !== undefined && { schema: options.schema }),
    ordered,
    confirm,
    ensure,
  });
}

interface HandleSetup<T> {
  channel: string;
  codec: Codec<T>;
  schema?: StandardSchemaV1<unknown, T>;
  ordered: boolean;
  confirm: 'transport' | 'outbox';
  ensure(): Promise<void>;
}

class ChannelHandle<T> implements Channel<T> {
  readonly name: string;
  readonly #runtime: Runtime;
  readonly #setup: HandleSetup<T>;
  readonly #context: PublishContext<T>;

  constructor(runtime: Runtime, setup: HandleSetup<T>) {
    this.name = setup.channel;
    this.#runtime = runtime;
    this.#setup = setup;
    this.#context = {
      channel: setup.channel,
      codec: setup.codec,
      ...(setup.schema !== undefined && { schema: setup.schema }),
      ordered: setup.ordered,
      // Read at each publish: the channels may switch provider.
      get maxPayloadBytes() {
        return (
          runtime.claimCheckMaxBytes ??
          runtime.capabilities('channels').maxPayloadBytes
        );
      },
      claimCheck: runtime.claimCheckMaxBytes !== undefined,
      publisherId: runtime.instanceId,
      nextSequence: () => runtime.nextSequence(setup.channel),
    };
  }

  async publish(data: T, options?: PublishOptions): Promise<PublishReceipt> {
    this.#runtime.assertOpen();
    const { confirm } = this.#setup;
    if (confirm === 'transport') await this.#setup.ensure();
    const message = await prepareMessage(this.#context, data, options);

    const [outcome] = await this.#sender().publish(this.name, [message]);
    if (outcome === undefined) {
      throw new TypeError('the transport returned no outcome for a publish');
    }
    if (!outcome.ok) throw outcome.error;

    return receipt(message, outcome, confirm);
  }

  publishBatch(entries: readonly BatchEntry<T>[]): Promise<BatchResult[]> {
    this.#runtime.assertOpen();
    const { confirm } = this.#setup;
    const outbox = confirm === 'outbox';
    return publishBatch(entries, {
      context: this.#context,
      // The outbox writes a whole batch in one transaction.
      maxBatchSize: outbox
        ? entries.length
        : this.#runtime.capabilities('channels').maxBatchSize,
      ensure: () => (outbox ? Promise.resolve() : this.#setup.ensure()),
      send: (messages) => this.#sender().publish(this.name, messages),
      confirmedBy: confirm,
    });
  }

  subscribe(handler: Handler<T>, options: SubscribeOptions): Subscription {
    this.#runtime.assertOpen();
    if (typeof handler !== 'function') {
      throw new ConfigurationError('subscribe needs a handler function', {
        field: 'handler',
        value: typeof handler,
      });
    }
    const exactlyOnce = options?.guarantee === 'exactly-once';
    const idempotency = exactlyOnce
      ? this.#runtime.transport('idempotency')
      : undefined;

    let untrack = (): void => {};
    const subscription = subscribe({
      channel: this.name,
      handler,
      options,
      capabilities: this.#runtime.capabilities('channels'),
      decode: createDecoder(this.#setup.codec, this.#setup.schema),
      logger: this.#runtime.logger,
      open: (spec) => this.#open(spec),
      ...(idempotency !== undefined && {
        openIdempotency: (table: string) => idempotency.open(table),
      }),
      onClosed: () => untrack(),
    });
    untrack = this.#runtime.track(subscription);

    return subscription;
  }

  async consumer(options: ConsumerOptions): Promise<PullConsumer<T>> {
    this.#runtime.assertOpen();
    let untrack = (): void => {};
    const consumer = await openPullConsumer({
      channel: this.name,
      options,
      capabilities: this.#runtime.capabilities('channels'),
      decode: createDecoder(this.#setup.codec, this.#setup.schema),
      logger: this.#runtime.logger,
      open: (spec) => this.#open(spec),
      onClosed: () => untrack(),
    });
    untrack = this.#runtime.track(consumer);

    return consumer;
  }

  async #open(spec: ConsumerSpec): Promise<TransportConsumer> {
    await this.#setup.ensure();
    return this.#transport().consume(spec);
  }

  #transport() {
    return this.#runtime.transport('channels');
  }

  /** Where publishes go: the transport, or the outbox that relays to it. */
  #sender(): Pick<ChannelTransport, 'publish'> {
    return this.#setup.confirm === 'outbox'
      ? this.#runtime.outbox.open()
      : this.#transport();
  }
}

function checkConfirm(confirm: unknown): 'transport' | 'outbox' {
  if (confirm === undefined) return 'transport';
  if (confirm === 'transport' || confirm === 'outbox') return confirm;
  throw new ConfigurationError(
    `channel.confirm must be 'transport' or 'outbox', got ${JSON.stringify(confirm)}`,
    { field: 'channel.confirm', value: confirm },
  );
}

function checkSchema(schema: unknown): void {
  if (schema === undefined) return;
  const props = (schema as { '~standard'?: { validate?: unknown } })?.[
    '~standard'
  ];
  if (typeof props?.validate !== 'function') {
    throw new ConfigurationError(
      'channel.schema must be a Standard Schema (an object with ~standard.validate), such as a zod schema',
      { field: 'channel.schema' },
    );
  }
}
