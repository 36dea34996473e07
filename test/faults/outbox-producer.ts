/**
 * A producer child process that publishes with `confirm: 'outbox'`, for
 * the outbox's fault cases. It reports one JSON object per line on
 * stdout:
 *
 *   node outbox-producer.ts '<plan as JSON>'
 *
 * It reports `{ ready: true }` once its client is made, then publishes
 * messages `{idPrefix}0`, `{idPrefix}1`... (message `n` on ordering key
 * `k{n % keys}`) on `lanes` lanes, reporting `{ confirmed: id }` each
 * time a publish resolved (the message is durable in the outbox) and
 * `{ failed: id, code }` for an attempt that failed, then `{ done: count }`
 * once `count` messages are confirmed. It never exits by itself.
 */
import { createSwitchyard } from '../../src/core/client.ts';
import type { SwitchyardError } from '../../src/core/errors.ts';
import type { OutboxSettings } from '../../src/delivery/outbox-client.ts';
import { openProvider, type ProviderConfig } from './support/config.ts';
import { publishSteadily } from './support/ledger.ts';

/** What the child does. */
export interface OutboxProducerPlan {
  config: ProviderConfig;
  outbox: OutboxSettings;
  channel: string;
  /** Groups the relay creates the channel with. */
  groups: string[];
  /** Ordering keys the messages are spread over. */
  keys: number;
  /** Messages to publish; absent: without end. */
  count?: number;
  idPrefix: string;
  /** Publishes under way at once. */
  lanes: number;
  /** Pause after each confirmed publish, in ms. */
  periodMs: number;
}

/** The ordering key of message `n` of a plan with `keys` keys. */
export function keyOf(n: number, keys: number): string {
  return `k${n % keys}`;
}

function report(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

async function produce(plan: OutboxProducerPlan): Promise<void> {
  const client = createSwitchyard({
    provider: await openProvider(plan.config),
    outbox: plan.outbox,
  });
  const channel = client.channel<{ n: number }>(plan.channel, {
    ordered: true,
    groups: plan.groups,
    confirm: 'outbox',
  });
  report({ ready: true });

  const count = plan.count ?? Number.POSITIVE_INFINITY;
  await publishSteadily(
    (id, n) => channel.publish({ n }, { id, orderingKey: keyOf(n, plan.keys) }),
    {
      count,
      id: (n) => `${plan.idPrefix}${n}`,
      lanes: plan.lanes,
      periodMs: plan.periodMs,
      retryMs: 100,
      onConfirmed: (id) => report({ confirmed: id }),
      onFailed: (id, error) => {
        const failure = error as Partial<SwitchyardError>;
        report({ failed: id, code: failure.code ?? String(error) });
      },
    },
  );
  report({ done: count });
  setInterval(() => {}, 60_000);
}

if (process.argv[1] === import.meta.filename) {
  await produce(JSON.parse(process.argv[2]!) as OutboxProducerPlan);
}
