import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.ts';
import type { Message } from '../../src/core/message.ts';
import {
  type ChannelFunctionSpec,
  defineFunction,
} from '../../src/functions/define-function.ts';
import {
  every,
  onBroadcast,
  onChannel,
  onObjects,
  onRequest,
} from '../../src/functions/triggers.ts';

/** The error `define` throws; fails the test when it throws none. */
function thrownBy(define: () => unknown): ValidationError {
  try {
    define();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

function channelSpec(
  overrides: Partial<ChannelFunctionSpec<unknown>> = {},
): ChannelFunctionSpec<unknown> {
  return {
    name: 'indexer',
    trigger: onChannel('kv-events', { group: 'indexer' }),
    handler: () => {},
    ...overrides,
  };
}

describe('trigger builders', () => {
  it('build plain trigger data for each kind of trigger', () => {
    expect(onChannel('kv-events', { group: 'indexer' })).toEqual({
      type: 'channel',
      channel: 'kv-events',
      group: 'indexer',
    });
    expect(onBroadcast('config')).toEqual({
      type: 'broadcast',
      channel: 'config',
    });
    expect(every(500)).toEqual({ type: 'schedule', everyMs: 500 });
    expect(onObjects('snaps', { prefix: 'a/', events: ['put'] })).toEqual({
      type: 'objects',
      bucket: 'snaps',
      prefix: 'a/',
      events: ['put'],
    });
    expect(onRequest('router.stats')).toEqual({
      type: 'request',
      subject: 'router.stats',
    });
  });
});

describe('defineFunction', () => {
  it('returns a frozen definition with its trigger and options', () => {
    const fn = defineFunction(
      channelSpec({ guarantee: 'exactly-once', concurrency: 4 }),
    );

    expect(fn.name).toBe('indexer');
    expect(fn.trigger).toEqual(onChannel('kv-events', { group: 'indexer' }));
    expect(fn.guarantee).toBe('exactly-once');
    expect(Object.isFrozen(fn)).toBe(true);
    expect(Object.isFrozen(fn.trigger)).toBe(true);
  });

  it('types the event of a channel handler from its annotation', () => {
    const fn = defineFunction({
      name: 'reader',
      trigger: onChannel('orders', { group: 'reader' }),
      handler: (message: Message<{ sku: string }>) => message.data.sku,
    });

    expect(fn.trigger.type).toBe('channel');
  });

  it('refuses a bad function name, naming the field name', () => {
    const error = thrownBy(() =>
      defineFunction(channelSpec({ name: 'Bad Name' })),
    );

    expect(error.field).toBe('name');
    expect(error.value).toBe('Bad Name');
  });

  it('refuses a bad channel in the trigger, naming trigger.channel', () => {
    const error = thrownBy(() =>
      defineFunction(
        channelSpec({ trigger: onChannel('KV', { group: 'indexer' }) }),
      ),
    );

    expect(error.field).toBe('trigger.channel');
    expect(error.value).toBe('KV');
    expect(error.message).toContain("function 'indexer'");
  });

  it('refuses a bad group in the trigger, naming trigger.group', () => {
    const error = thrownBy(() =>
      defineFunction(
        channelSpec({ trigger: onChannel('kv-events', { group: '' }) }),
      ),
    );

    expect(error.field).toBe('trigger.group');
  });

  it('refuses a schedule that is not a positive period', () => {
    const error = thrownBy(() =>
      defineFunction({ name: 'tick', trigger: every(0), handler: () => {} }),
    );

    expect(error.field).toBe('trigger.everyMs');
    expect(error.value).toBe(0);
  });

  it('refuses an objects trigger with an unknown kind of event', () => {
    const error = thrownBy(() =>
      defineFunction({
        name: 'watcher',
        trigger: {
          type: 'objects',
          bucket: 'snaps',
          events: ['put', 'moved' as 'put'],
        },
        handler: () => {},
      }),
    );

    expect(error.field).toBe('trigger.events');
  });

  it('refuses a bad request subject, naming trigger.subject', () => {
    const error = thrownBy(() =>
      defineFunction({
        name: 'stats',
        trigger: onRequest('router stats'),
        handler: () => 1,
      }),
    );

    expect(error.field).toBe('trigger.subject');
  });

  it('refuses an unknown kind of trigger, naming trigger.type', () => {
    const error = thrownBy(() =>
      defineFunction(
        channelSpec({
          trigger: {
            type: 'cron',
          } as unknown as ChannelFunctionSpec<unknown>['trigger'],
        }),
      ),
    );

    expect(error.field).toBe('trigger.type');
    expect(error.value).toBe('cron');
  });

  it('refuses bad options, naming the option', () => {
    expect(
      thrownBy(() => defineFunction(channelSpec({ concurrency: 0 }))).field,
    ).toBe('concurrency');
    expect(
      thrownBy(() => defineFunction(channelSpec({ maxAttempts: 1.5 }))).field,
    ).toBe('maxAttempts');
    expect(
      thrownBy(() =>
        defineFunction(channelSpec({ guarantee: 'twice' as 'exactly-once' })),
      ).field,
    ).toBe('guarantee');
    expect(
      thrownBy(() => defineFunction(channelSpec({ leaseMs: -1 }))).field,
    ).toBe('leaseMs');
  });

  it('refuses a missing handler, naming the field handler', () => {
    const error = thrownBy(() =>
      defineFunction(
        channelSpec({ handler: undefined as unknown as () => void }),
      ),
    );

    expect(error.field).toBe('handler');
  });
});
