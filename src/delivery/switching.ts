/**
 * Switching a running pipeline's channels from one transport to another
 * without losing a message.
 *
 * The client talks to one {@link ChannelTransport} that stands for
 * whichever transport is current. A switch runs in this order:
 *
 * 1. Prepare: every channel the client knows is ensured on the new
 *    transport with every worker group known for it (this client's, and
 *    those the old transport lists), so that messages published there from
 *    now on are kept for each group; every open consumer is opened there
 *    too, which matters for broadcast consumers. The outbox, if any, holds
 *    its relay meanwhile.
 * 2. Flip: new publishes go to the new transport.
 * 3. Drain: once the publishes already under way on the old transport have
 *    settled, each consumer takes what is left of its share of the old
 *    transport, in flight included, until it is empty, then closes it there
 *    and goes on with the new one.
 * 4. Close: the old provider is closed unless it serves another part
 *    (key-value, objects, idempotency records, request/reply).
 *
 * A switch moves channels only; buckets and idempotency records stay
 * where they are, so exactly-once consumers keep their records across it.
 */
import {
  type Capabilities,
  type Feature,
  supports,
} from '../core/capabilities.ts';
import { CapabilityError, ConflictError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { WireMessage } from '../core/message.ts';
import type {
  ChannelSpec,
  ChannelTransport,
  ConsumerSpec,
  DeadLetterInput,
  Provider,
  TransportConsumer,
  TransportPublishOutcome,
} from '../core/provider.ts';
import { settledWithin } from '../core/waiting.ts';
import { errorFields } from './errors.ts';
import { type DrainOutcome, SwitchingConsumer } from './switching-consumer.ts';

/** Default of {@link SwitchOptions.drainTimeoutMs}. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 120_000;
/** Default of {@link SwitchOptions.drainCheckMs}. */
export const DEFAULT_DRAIN_CHECK_MS = 1_000;

/** Options of a switch. */
export interface SwitchOptions {
  /**
   * How long consumers may take to drain the old transport, in ms. Past
   * it, they move to the new transport anyway and what is left stays
   * stored on the old one (the report says how much). Default 120000.
   */
  drainTimeoutMs?: number;
  /**
   * How long the old transport must report nothing left for a consumer
   * before it counts as drained, in ms. Default 1000.
   */
  drainCheckMs?: number;
}

/** What a switch did. */
export interface SwitchReport {
  /** Provider names, before and after. */
  from: string;
  to: string;
  /** Channels ensured on the new transport. */
  channels: string[];
  /** Consumers moved. */
  consumers: number;
  /** Time from the start to the flip of publishes, in ms. */
  prepareMs: number;
  /** Time from the flip until every consumer drained or gave up, in ms. */
  drainMs: number;
  /** Whether every consumer drained its share of the old transport. */
  drained: boolean;
  /**
   * Messages left on the old transport per `channel/consumer`, when a
   * consumer gave up at the deadline (-1 when the old transport could not
   * say how many).
   */
  left: Record<string, number>;
}

/** A transport that can be put in service, with its provider. */
export interface ChannelSide {
  provider: Provider;
  transport: ChannelTransport;
}

/** What the switching channels need from their owner. */
export interface SwitchingChannelsOptions {
  initial: ChannelSide;
  logger: Logger;
}

/** What a switch needs besides the new transport. */
export interface SwitchHooks {
  /** Pauses the outbox relay; the returned function resumes it. */
  hold?(): () => void;
}

const CARRIED_FEATURES: readonly Feature[] = [
  'delayedRetry',
  'extendLease',
  'multiProcess',
];

/**
 * The channels of one client across switches: a stable
 * {@link ChannelTransport} that delegates to the current transport, and
 * the switch itself.
 */
export class SwitchingChannels {
  readonly transport: ChannelTransport;
  readonly #logger: Logger;
  #current: ChannelSide;
  /** Publishes under way on the current transport. */
  #publishing = new Set<Promise<unknown>>();
  readonly #specs = new Map<
    string,
    { ordered: boolean; groups: Set<string> }
  >();
  readonly #consumers = new Set<SwitchingConsumer>();
  #switching: Promise<SwitchReport> | undefined;
  /** The side being drained, from the flip until the drain ends. */
  #leaving: { side: ChannelSide; checkMs: number } | undefined;
  /** Consumers opened during the drain that drain the old side too. */
  readonly #joined = new Set<SwitchingConsumer>();
  /** Resolves at the flip of the switch under way. */
  #flipped: Promise<void> | undefined;

  constructor(options: SwitchingChannelsOptions) {
    this.#current = options.initial;
    this.#logger = options.logger;
    this.transport = this.#facade();
  }

  /** The provider whose transport is current. */
  get provider(): Provider {
    return this.#current.provider;
  }

  get capabilities(): Capabilities {
    return this.#current.provider.capabilities;
  }

  /** Whether a switch is under way. */
  get switching(): boolean {
    return this.#switching !== undefined;
  }

  /**
   * Moves the channels to `next`. Rejects with a `CapabilityError` when
   * `next` lacks something the running pipeline uses (ordering for an
   * ordered channel, broadcast for a broadcast consumer, or a delivery
   * feature the current transport has), and a `ConflictError` while
   * another switch is under way, in both cases changing nothing. A
   * failure while preparing (the new transport unreachable) also changes
   * nothing. Resolves once every consumer has left the old transport;
   * closing the old provider is the caller's, who knows what else it
   * serves.
   */
  switchTo(
    next: ChannelSide,
    options: Required<SwitchOptions>,
    hooks: SwitchHooks = {},
  ): Promise<SwitchReport> {
    if (this.#switching !== undefined) {
      return Promise.reject(
        new ConflictError(
          `a switch of channels to '${this.#current.provider.name}' is already under way: wait for it before switching again`,
        ),
      );
    }
    try {
      this.#checkCapabilities(next.provider);
    } catch (error) {
      return Promise.reject(error);
    }

    let flip!: () => void;
    this.#flipped = new Promise((resolve) => {
      flip = resolve;
    });
    const run = this.#run(next, options, hooks, flip).finally(() => {
      flip();
      this.#switching = undefined;
      this.#flipped = undefined;
    });
    this.#switching = run;
    return run;
  }

  async #run(
    next: ChannelSide,
    options: Required<SwitchOptions>,
    hooks: SwitchHooks,
    flip: () => void,
  ): Promise<SwitchReport> {
    const started = Date.now();
    const previous = this.#current;
    const logger = this.#logger.child({
      from: previous.provider.name,
      to: next.provider.name,
    });
    logger.info('switching channels', { channels: this.#specs.size });

    const release = hooks.hold?.();
    const moving = [...this.#consumers];
    let flippedAt: number;
    let leavingPublishes: Promise<unknown>[] = [];
    try {
      await this.#prepare(previous.transport, next.transport);
      await Promise.all(moving.map((c) => c.prepare(next.transport)));
      for (const consumer of moving) {
        consumer.commit(previous.transport, options.drainCheckMs);
      }
      this.#current = next;
      leavingPublishes = [...this.#publishing];
      this.#publishing = new Set();
      this.#leaving = { side: previous, checkMs: options.drainCheckMs };
      flippedAt = Date.now();
      flip();
    } catch (error) {
      await Promise.all(moving.map((c) => c.cancel()));
      logger.warn(
        'switch failed while preparing; nothing changed',
        errorFields(error),
      );
      throw error;
    } finally {
      release?.();
    }
    logger.info('publishes go to the new transport', {
      prepareMs: flippedAt - started,
    });

    await Promise.allSettled(leavingPublishes);
    const outcomes = await this.#drain(moving, options.drainTimeoutMs);
    this.#leaving = undefined;
    this.#joined.clear();
    const left: Record<string, number> = {};
    for (const { consumer, outcome } of outcomes) {
      if (!outcome.drained) {
        const { channel, name } = consumer.spec;
        left[`${channel}/${name}`] = outcome.left;
      }
    }
    const report: SwitchReport = {
      from: previous.provider.name,
      to: next.provider.name,
      channels: [...this.#specs.keys()],
      consumers: outcomes.length,
      prepareMs: flippedAt - started,
      drainMs: Date.now() - flippedAt,
      drained: Object.keys(left).length === 0,
      left,
    };
    if (report.drained) logger.info('switched channels', { ...report });
    else {
      logger.error(
        'consumers gave up draining the old transport at the deadline; what is left stays stored there',
        { ...report },
      );
    }
    return report;
  }

  /** Ensures every known channel, with every known group, on `next`. */
  async #prepare(
    current: ChannelTransport,
    next: ChannelTransport,
  ): Promise<void> {
    for (const [name, spec] of this.#specs) {
      const groups = new Set(spec.groups);
      try {
        for (const consumer of await current.consumers(name)) {
          if (consumer.mode === 'group') groups.add(consumer.name);
        }
      } catch (error) {
        this.#logger.warn(
          'could not list the groups of a channel on the transport being left; ensuring the known ones',
          { channel: name, ...errorFields(error) },
        );
      }
      await next.ensure({ name, ordered: spec.ordered, groups: [...groups] });
    }
  }

  /**
   * Waits until `consumers`, and those that joined the drain meanwhile,
   * have drained, or the deadline passed (then they give up).
   */
  async #drain(
    consumers: readonly SwitchingConsumer[],
    timeoutMs: number,
  ): Promise<{ consumer: SwitchingConsumer; outcome: DrainOutcome }[]> {
    const deadline = Date.now() + timeoutMs;
    let all = [...consumers];
    for (;;) {
      const remaining = deadline - Date.now();
      const drained = all.map((c) => c.drained());
      if (!(await settledWithin(drained, Math.max(0, remaining)))) {
        await Promise.all(all.map((c) => c.abandon()));
        break;
      }
      const joined = [...this.#joined].filter((c) => !all.includes(c));
      if (joined.length === 0) break;
      all = [...all, ...joined];
    }
    const outcomes = await Promise.all(all.map((c) => c.drained()));
    return outcomes.map((outcome, i) => ({ consumer: all[i]!, outcome }));
  }

  #checkCapabilities(next: Provider): void {
    const missing = (feature: Feature, why: string): CapabilityError =>
      new CapabilityError(
        `cannot switch channels to provider '${next.name}': ${why}, and it does not support ${feature}: ${next.capabilities.unsupported[feature]}`,
        { feature, details: { provider: next.name } },
      );
    if (next.channels === undefined) {
      throw new CapabilityError(
        `cannot switch channels to provider '${next.name}': it does not offer channels`,
        { feature: 'channels', details: { provider: next.name } },
      );
    }
    const ordered = [...this.#specs].find(([, s]) => s.ordered)?.[0];
    if (ordered !== undefined && !supports(next.capabilities, 'ordering')) {
      throw missing('ordering', `channel '${ordered}' is ordered`);
    }
    const broadcast = [...this.#consumers].find(
      (c) => c.spec.mode === 'broadcast',
    );
    if (broadcast !== undefined && !supports(next.capabilities, 'broadcast')) {
      throw missing(
        'broadcast',
        `channel '${broadcast.spec.channel}' has a broadcast consumer`,
      );
    }
    for (const feature of CARRIED_FEATURES) {
      if (
        supports(this.capabilities, feature) &&
        !supports(next.capabilities, feature)
      ) {
        throw missing(
          feature,
          `the running consumers were set up with ${feature} from '${this.#current.provider.name}'`,
        );
      }
    }
  }

  #remember(spec: ChannelSpec): void {
    const known = this.#specs.get(spec.name);
    if (known === undefined) {
      this.#specs.set(spec.name, {
        ordered: spec.ordered,
        groups: new Set(spec.groups),
      });
      return;
    }
    for (const group of spec.groups) known.groups.add(group);
  }

  #publish(
    channel: string,
    messages: readonly WireMessage[],
  ): Promise<TransportPublishOutcome[]> {
    const sending = this.#current.transport.publish(channel, messages);
    const underWay = this.#publishing;
    underWay.add(sending);
    const done = (): void => {
      underWay.delete(sending);
    };
    sending.then(done, done);
    return sending;
  }

  /**
   * Opens a consumer on the current transport. One opened while a switch
   * is under way waits for its flip; one opened on the old transport just
   * before it, or while the old one drains, drains the old one too, so
   * that a group's messages there are not left behind.
   */
  async #consume(spec: ConsumerSpec): Promise<TransportConsumer> {
    if (this.#flipped !== undefined) await this.#flipped;
    const side = this.#current;
    const opened = await side.transport.consume(spec);
    if (this.#flipped !== undefined) await this.#flipped;
    if (spec.mode === 'group') {
      this.#remember({
        name: spec.channel,
        ordered: false,
        groups: [spec.name],
      });
    }

    if (side === this.#current) {
      const consumer = this.#register(spec, opened);
      const leaving = this.#leaving;
      if (leaving !== undefined && spec.mode === 'group') {
        try {
          const old = await leaving.side.transport.consume(spec);
          this.#join(consumer, old, leaving);
        } catch (error) {
          this.#logger.warn(
            'a consumer opened during a switch could not drain the transport being left',
            {
              channel: spec.channel,
              consumer: spec.name,
              ...errorFields(error),
            },
          );
        }
      }
      return consumer;
    }

    // Opened on a transport that a switch has left since.
    const consumer = this.#register(
      spec,
      await this.#current.transport.consume(spec),
    );
    const leaving = this.#leaving;
    if (leaving?.side === side) this.#join(consumer, opened, leaving);
    else await opened.close();
    return consumer;
  }

  #register(spec: ConsumerSpec, opened: TransportConsumer): SwitchingConsumer {
    const consumer = new SwitchingConsumer(spec, opened, {
      logger: this.#logger.child({
        channel: spec.channel,
        consumer: spec.name,
      }),
      onClosed: () => {
        this.#consumers.delete(consumer);
        this.#joined.delete(consumer);
      },
    });
    this.#consumers.add(consumer);
    return consumer;
  }

  #join(
    consumer: SwitchingConsumer,
    old: TransportConsumer,
    leaving: { side: ChannelSide; checkMs: number },
  ): void {
    consumer.drainFrom(old, leaving.side.transport, leaving.checkMs);
    this.#joined.add(consumer);
  }

  /** The stable transport the client uses. */
  #facade(): ChannelTransport {
    const current = (): ChannelTransport => this.#current.transport;
    return {
      ensure: async (spec) => {
        this.#remember(spec);
        await current().ensure(spec);
      },
      exists: (channel) => current().exists(channel),
      list: () => current().list(),
      delete: async (channel) => {
        await current().delete(channel);
        this.#specs.delete(channel);
      },
      publish: (channel, messages) => this.#publish(channel, messages),
      consume: (spec) => this.#consume(spec),
      purge: (channel, options) => current().purge(channel, options),
      consumers: (channel) => current().consumers(channel),
      deleteConsumer: (channel, name) =>
        current().deleteConsumer(channel, name),
      stats: (channel) => current().stats(channel),
      deadLetters: (channel, options) =>
        current().deadLetters(channel, options),
      replayDeadLetters: (channel, options) =>
        current().replayDeadLetters(channel, options),
      purgeDeadLetters: (channel) => current().purgeDeadLetters(channel),
      deadLetter: (channel: string, letter: DeadLetterInput) => {
        const transport = current();
        if (transport.deadLetter === undefined) {
          return Promise.reject(
            new CapabilityError(
              `provider '${this.#current.provider.name}' cannot store a dead letter handed over from outside a consumer`,
              {
                feature: 'deadLetter',
                details: { channel, provider: this.#current.provider.name },
              },
            ),
          );
        }
        return transport.deadLetter(channel, letter);
      },
    };
  }
}
