import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors.ts';
import { defineFunction } from '../../src/functions/define-function.ts';
import {
  definePipeline,
  type PipelineSpec,
} from '../../src/functions/define-pipeline.ts';
import {
  every,
  onChannel,
  onObjects,
  onRequest,
} from '../../src/functions/triggers.ts';
import type { SwitchyardFunction } from '../../src/functions/types.ts';

function onOrders(name: string, group = name): SwitchyardFunction {
  return defineFunction({
    name,
    trigger: onChannel('orders', { group }),
    handler: () => {},
  });
}

function spec(overrides: Partial<PipelineSpec> = {}): PipelineSpec {
  return {
    name: 'shop',
    channels: { orders: { ordered: true } },
    kv: { stock: { ttlMs: 1000 } },
    objects: { invoices: {} },
    functions: [onOrders('billing')],
    ...overrides,
  };
}

/** The error `define` throws; fails the test when it throws none. */
function thrownBy(define: () => unknown): ConfigurationError {
  try {
    define();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('definePipeline', () => {
  it('keeps the declarations and functions as frozen data', () => {
    const pipeline = definePipeline(spec());

    expect(pipeline.name).toBe('shop');
    expect(pipeline.channels).toEqual({ orders: { ordered: true } });
    expect(pipeline.kv).toEqual({ stock: { ttlMs: 1000 } });
    expect(pipeline.objects).toEqual({ invoices: {} });
    expect(pipeline.functions.map((f) => f.name)).toEqual(['billing']);
    expect(pipeline.producers).toEqual([]);
    expect(Object.isFrozen(pipeline)).toBe(true);
    expect(Object.isFrozen(pipeline.channels)).toBe(true);
  });

  it('refuses a trigger on an undeclared channel, naming the path and the channel', () => {
    const error = thrownBy(() =>
      definePipeline(spec({ channels: {}, functions: [onOrders('indexer')] })),
    );

    expect(error.field).toBe('functions.indexer.trigger.channel');
    expect(error.value).toBe('orders');
  });

  it('refuses a trigger on an undeclared object bucket', () => {
    const watcher = defineFunction({
      name: 'watcher',
      trigger: onObjects('receipts'),
      handler: () => {},
    });

    const error = thrownBy(() =>
      definePipeline(spec({ functions: [watcher] })),
    );

    expect(error.field).toBe('functions.watcher.trigger.bucket');
    expect(error.value).toBe('receipts');
  });

  it('refuses two functions of one name', () => {
    const error = thrownBy(() =>
      definePipeline(
        spec({ functions: [onOrders('billing'), onOrders('billing', 'x')] }),
      ),
    );

    expect(error.field).toBe('functions.billing.name');
    expect(error.value).toBe('billing');
  });

  it('refuses two functions in one group of a channel', () => {
    const error = thrownBy(() =>
      definePipeline(
        spec({
          functions: [onOrders('billing'), onOrders('audit', 'billing')],
        }),
      ),
    );

    expect(error.field).toBe('functions.audit.trigger.group');
    expect(error.value).toBe('billing');
  });

  it('refuses two functions serving one subject', () => {
    const serve = (name: string) =>
      defineFunction({
        name,
        trigger: onRequest('shop.stats'),
        handler: () => 1,
      });

    const error = thrownBy(() =>
      definePipeline(spec({ functions: [serve('a'), serve('b')] })),
    );

    expect(error.field).toBe('functions.b.trigger.subject');
  });

  it('refuses a function that was not checked and has a bad group', () => {
    const raw = {
      name: 'raw',
      trigger: { type: 'channel', channel: 'orders', group: 'Bad' },
      handler: () => {},
    } as SwitchyardFunction;

    const error = thrownBy(() => definePipeline(spec({ functions: [raw] })));

    expect(error.field).toBe('functions.raw.trigger.group');
    expect(error.value).toBe('Bad');
  });

  it('refuses a bad channel or bucket name in the declarations', () => {
    expect(
      thrownBy(() => definePipeline(spec({ channels: { Orders: {} } }))).field,
    ).toBe('channels.Orders');
    expect(thrownBy(() => definePipeline(spec({ kv: { s: {} } }))).field).toBe(
      'kv.s',
    );
  });

  it('refuses a bad pipeline name', () => {
    const error = thrownBy(() => definePipeline(spec({ name: 'My Shop' })));

    expect(error.field).toBe('name');
    expect(error.value).toBe('My Shop');
  });

  it('refuses producers without a run function or with one name twice', () => {
    const run = async () => {};

    expect(
      thrownBy(() =>
        definePipeline(
          spec({
            producers: [
              { name: 'feed' } as unknown as { name: string; run: typeof run },
            ],
          }),
        ),
      ).field,
    ).toBe('producers.feed.run');
    expect(
      thrownBy(() =>
        definePipeline(
          spec({
            producers: [
              { name: 'feed', run },
              { name: 'feed', run },
            ],
          }),
        ),
      ).field,
    ).toBe('producers.feed.name');
  });

  it('accepts schedules and request functions that need no declaration', () => {
    const pipeline = definePipeline(
      spec({
        functions: [
          defineFunction({
            name: 'tick',
            trigger: every(10),
            handler: () => {},
          }),
          defineFunction({
            name: 'stats',
            trigger: onRequest('shop.stats'),
            handler: () => 1,
          }),
        ],
      }),
    );

    expect(pipeline.functions).toHaveLength(2);
  });
});
