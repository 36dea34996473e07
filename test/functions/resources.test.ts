import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import routerPipeline from '../../functions/pipeline.ts';
import { defineFunction } from '../../src/functions/define-function.ts';
import { definePipeline } from '../../src/functions/define-pipeline.ts';
import { describePipeline } from '../../src/functions/resources.ts';
import {
  every,
  onBroadcast,
  onChannel,
  onObjects,
  onRequest,
} from '../../src/functions/triggers.ts';

describe('describePipeline', () => {
  it('lists channels with their groups, broadcast functions and dead letters', () => {
    const pipeline = definePipeline({
      name: 'shop',
      channels: {
        orders: { ordered: true, schema: z.object({ sku: z.string() }) },
        config: {},
      },
      kv: { stock: { ttlMs: 60_000 } },
      objects: { invoices: { expireAfterMs: 1000 } },
      functions: [
        defineFunction({
          name: 'billing',
          trigger: onChannel('orders', { group: 'billing' }),
          guarantee: 'exactly-once',
          maxAttempts: 3,
          timeoutMs: 900,
          handler: () => {},
        }),
        defineFunction({
          name: 'reload',
          trigger: onBroadcast('config'),
          guarantee: 'at-most-once',
          handler: () => {},
        }),
        defineFunction({
          name: 'archive',
          trigger: onObjects('invoices', { prefix: '2026/' }),
          handler: () => {},
        }),
        defineFunction({ name: 'tick', trigger: every(60_000), handler() {} }),
        defineFunction({
          name: 'stats',
          trigger: onRequest('shop.stats'),
          handler: () => 0,
        }),
      ],
    });

    const resources = describePipeline(pipeline);

    expect(resources).toEqual({
      pipeline: 'shop',
      channels: [
        {
          name: 'orders',
          ordered: true,
          validated: true,
          groups: [
            {
              group: 'billing',
              function: 'billing',
              guarantee: 'exactly-once',
              concurrency: 1,
              maxAttempts: 3,
              leaseMs: 30_000,
              timeoutMs: 900,
            },
          ],
          broadcast: [],
          deadLetters: true,
        },
        {
          name: 'config',
          ordered: false,
          validated: false,
          groups: [],
          broadcast: ['reload'],
          deadLetters: false,
        },
      ],
      kv: [{ name: 'stock', ttlMs: 60_000 }],
      objects: [
        {
          name: 'invoices',
          expireAfterMs: 1000,
          triggers: [
            {
              function: 'archive',
              prefix: '2026/',
              events: ['put', 'delete'],
              failedEvents: 'archive-failed',
            },
          ],
        },
      ],
      schedules: [{ function: 'tick', everyMs: 60_000 }],
      subjects: [{ subject: 'shop.stats', function: 'stats' }],
    });
  });

  it('describes the reference pipeline', () => {
    const resources = describePipeline(routerPipeline);

    expect(resources.channels.map((c) => c.name)).toEqual(['kv-events']);
    expect(resources.channels[0]!.groups.map((g) => g.group)).toEqual([
      'indexer',
    ]);
    expect(resources.kv.map((b) => b.name)).toEqual(['router-index']);
    expect(resources.objects.map((b) => b.name)).toEqual(['router-snapshots']);
    expect(resources.subjects).toEqual([
      { subject: 'router.stats', function: 'stats' },
    ]);
  });
});
