/**
 * The memory provider declaring every optional feature unsupported: a
 * target that puts the suite's refusal cases, and the core's capability
 * checks behind them, to work. Select it with
 * `SWITCHYARD_PROVIDERS=memory-minimal`.
 */
import { randomUUID } from 'node:crypto';
import type { Feature } from '../../../src/core/capabilities.ts';
import type { Provider } from '../../../src/core/provider.ts';
import {
  createMemoryProvider,
  resetMemoryNamespace,
} from '../../../src/providers/memory/index.ts';
import type { ConformanceTarget } from '../../../src/testkit/index.ts';

const WITHHELD: readonly Feature[] = [
  'broadcast',
  'delayedRetry',
  'extendLease',
  'ordering',
  'purgeAcknowledged',
  'watch',
  'kvTtl',
  'conditionalObjects',
  'requestReply',
  'multiProcess',
];

/** `provider` with `features` declared unsupported and no dedup window. */
function withholding(
  provider: Provider,
  features: readonly Feature[],
): Provider {
  const reason = 'withheld by the minimal conformance target';
  return {
    name: provider.name,
    capabilities: {
      ...provider.capabilities,
      unsupported: Object.fromEntries(features.map((f) => [f, reason])),
    },
    channels: provider.channels,
    kv: provider.kv,
    objects: provider.objects,
    requests: provider.requests,
    idempotency: provider.idempotency,
    close: () => provider.close(),
  };
}

/** The minimal memory target. */
export function memoryMinimalTarget(): ConformanceTarget {
  return {
    name: 'memory-minimal',
    async setup() {
      const namespace = `conformance-${randomUUID()}`;

      return {
        provider: async () =>
          withholding(await createMemoryProvider({ namespace }), WITHHELD),
        teardown: async () => resetMemoryNamespace(namespace),
      };
    },
  };
}
