/**
 * The memory provider as a conformance target: one fresh namespace per
 * case, dropped on teardown.
 */
import { randomUUID } from 'node:crypto';
import {
  createMemoryProvider,
  resetMemoryNamespace,
} from '../../../src/providers/memory/index.ts';
import type { ConformanceTarget } from '../../../src/testkit/index.ts';

/**
 * The memory target. Its dedup window is turned off, so that the suite's
 * duplicate deliveries reach the exactly-once layer here; the local
 * target keeps the default window and covers deduplication itself.
 */
export function memoryTarget(): ConformanceTarget {
  return {
    name: 'memory',
    async setup() {
      const namespace = `conformance-${randomUUID()}`;

      return {
        provider: () => createMemoryProvider({ namespace, dedupWindowMs: 0 }),
        teardown: async () => resetMemoryNamespace(namespace),
      };
    },
  };
}
