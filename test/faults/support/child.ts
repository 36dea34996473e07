/**
 * The child process of the fault suite: a producer or a consumer on the
 * provider its plan names, in a Node process of its own that a test can
 * kill with SIGKILL. It reports what it did as one JSON object per line
 * on stdout:
 *
 *   node child.ts '<plan as JSON>'
 *
 * - `produce` publishes messages `{idPrefix}0`, `{idPrefix}1`... on
 *   `lanes` lanes, each until it resolves (see `publishSteadily`),
 *   reporting `{ confirmed: id }` when a publish resolved and
 *   `{ failed: id, code, retryable }` for each attempt that failed, then
 *   `{ done: count }` once `count` messages are confirmed;
 * - `consume` subscribes to a worker group under a guarantee and
 *   reports, from the transport up: `{ fetched: [ids] }` for each batch
 *   the transport handed out, `{ started: id }` and `{ handled: id }`
 *   around each handler run, `{ completed: id }` once an idempotency
 *   record is completed, `{ acked: id }` once an acknowledgement
 *   resolved, and `{ deadLettered: id, reason }`.
 *
 * Every role first reports `{ ready: true }`. The process never exits by
 * itself: it is killed, or its parent's exit takes it.
 */
import type { Guarantee } from '../../../src/core/channel.ts';
import { createSwitchyard } from '../../../src/core/client.ts';
import type { SwitchyardError } from '../../../src/core/errors.ts';
import type {
  ChannelTransport,
  IdempotencyStore,
  IdempotencyTransport,
  Provider,
  TransportConsumer,
  TransportDelivery,
} from '../../../src/core/provider.ts';
import { sleep } from '../../../src/delivery/sleep.ts';
import { openProvider, type ProviderConfig } from './config.ts';
import { publishSteadily } from './ledger.ts';

/** What a producer child does. */
export interface ProducePlan {
  role: 'produce';
  config: ProviderConfig;
  channel: string;
  /** Groups the channel is created with. */
  groups: string[];
  /** Messages to publish; absent: without end. */
  count?: number;
  idPrefix: string;
  /** Publishes under way at once. */
  lanes: number;
  /** Pause after each confirmed publish, in ms. */
  periodMs: number;
  /** Pause before a failed publish is sent again, in ms. */
  retryMs: number;
}

/** What a consumer child does. */
export interface ConsumePlan {
  role: 'consume';
  config: ProviderConfig;
  channel: string;
  group: string;
  guarantee: Guarantee;
  leaseMs: number;
  concurrency: number;
  batchSize: number;
  /** How long the handler takes, in ms. */
  handleMs: number;
}

/** The plan a child is started with. */
export type ChildPlan = ProducePlan | ConsumePlan;

function report(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/**
 * `provider` with its channels and idempotency tables observed: what the
 * transport hands out, acknowledges and dead-letters, and which records
 * are completed, is reported once the provider confirmed it.
 */
function observed(provider: Provider): Provider {
  return {
    name: provider.name,
    capabilities: provider.capabilities,
    ...(provider.channels && { channels: observeChannels(provider.channels) }),
    ...(provider.idempotency && {
      idempotency: observeIdempotency(provider.idempotency),
    }),
    ...(provider.kv && { kv: provider.kv }),
    ...(provider.objects && { objects: provider.objects }),
    ...(provider.requests && { requests: provider.requests }),
    close: () => provider.close(),
  };
}

function observeChannels(channels: ChannelTransport): ChannelTransport {
  return withOverrides(channels, {
    consume: async (spec: Parameters<ChannelTransport['consume']>[0]) =>
      observeConsumer(await channels.consume(spec)),
  });
}

function observeConsumer(consumer: TransportConsumer): TransportConsumer {
  return {
    async fetch(max, options) {
      const deliveries = await consumer.fetch(max, options);
      if (deliveries.length > 0) {
        report({ fetched: deliveries.map((d) => d.message.id) });
      }
      return deliveries.map(observeDelivery);
    },
    close: () => consumer.close(),
  };
}

function observeDelivery(delivery: TransportDelivery): TransportDelivery {
  const id = delivery.message.id;
  return {
    message: delivery.message,
    attempt: delivery.attempt,
    ...(delivery.channelSequence !== undefined && {
      channelSequence: delivery.channelSequence,
    }),
    async ack() {
      await delivery.ack();
      report({ acked: id });
    },
    nak: (delayMs) => delivery.nak(delayMs),
    extend: (leaseMs) => delivery.extend(leaseMs),
    async deadLetter(reason) {
      await delivery.deadLetter(reason);
      report({ deadLettered: id, reason });
    },
  };
}

function observeIdempotency(
  idempotency: IdempotencyTransport,
): IdempotencyTransport {
  return {
    async open(table) {
      const store = await idempotency.open(table);
      return withOverrides<IdempotencyStore>(store, {
        async complete(
          id: string,
          options: Parameters<IdempotencyStore['complete']>[1],
        ) {
          await store.complete(id, options);
          report({ completed: id.slice(id.indexOf('#') + 1) });
        },
      });
    },
  };
}

/** `target` with some methods replaced, the others bound to it. */
function withOverrides<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(object, key) {
      if (key in overrides) return overrides[key as keyof T];
      const value = Reflect.get(object, key, object);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}

async function produce(plan: ProducePlan): Promise<void> {
  const client = createSwitchyard({
    provider: await openProvider(plan.config),
  });
  const channel = client.channel<{ n: number }>(plan.channel, {
    groups: plan.groups,
  });
  report({ ready: true });

  const count = plan.count ?? Number.POSITIVE_INFINITY;
  await publishSteadily((id, n) => channel.publish({ n }, { id }), {
    count,
    id: (n) => `${plan.idPrefix}${n}`,
    lanes: plan.lanes,
    periodMs: plan.periodMs,
    retryMs: plan.retryMs,
    onConfirmed: (id) => report({ confirmed: id }),
    onFailed: (id, error) => {
      const failure = error as Partial<SwitchyardError>;
      report({
        failed: id,
        code: failure.code ?? String(error),
        retryable: failure.retryable === true,
      });
    },
  });
  report({ done: count });
}

async function consume(plan: ConsumePlan): Promise<void> {
  const client = createSwitchyard({
    provider: observed(await openProvider(plan.config)),
  });
  const channel = client.channel<{ n: number }>(plan.channel, {
    groups: [plan.group],
  });
  channel.subscribe(
    async (message) => {
      report({ started: message.id });
      await sleep(plan.handleMs);
      report({ handled: message.id });
      return { pid: process.pid };
    },
    {
      group: plan.group,
      guarantee: plan.guarantee,
      leaseMs: plan.leaseMs,
      concurrency: plan.concurrency,
      batchSize: plan.batchSize,
      waitMs: 500,
    },
  );
  report({ ready: true });
}

const plan = JSON.parse(process.argv[2] ?? '{}') as ChildPlan;
// The child idles once its work is done, until it is killed.
setInterval(() => {}, 60_000);
if (plan.role === 'produce') await produce(plan);
else if (plan.role === 'consume') await consume(plan);
else throw new Error(`unknown plan ${process.argv[2]}`);
