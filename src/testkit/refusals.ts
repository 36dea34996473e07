/**
 * Conformance of what a publish or a consumer refuses: values the codec
 * cannot encode, schema failures on either side, payloads over the
 * transport's limit, invalid names, and channels that do not exist.
 */
import { describe, expect } from 'vitest';
import type { Channel } from '../core/channel.ts';
import {
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from '../core/errors.ts';
import type { Switchyard } from '../core/switchyard.ts';
import { type Order, order, orderSchema } from './data.ts';
import {
  createRecorder,
  expectDeadLetters,
  expectError,
  uniqueName,
} from './helpers.ts';
import type { Kit, Scope } from './kit.ts';

/**
 * Runs `attempt` with each of `values` and expects every one to be
 * refused with a ValidationError; resolves with the errors, in order.
 */
async function expectEachRefused(
  values: readonly string[],
  attempt: (value: string) => unknown,
): Promise<ValidationError[]> {
  const errors: ValidationError[] = [];
  for (const value of values) {
    errors.push(await expectError(() => attempt(value), ValidationError));
  }

  return errors;
}

/**
 * One channel of orders seen by two clients: a producer that publishes
 * without a schema, and a worker that reads with {@link orderSchema}.
 */
async function schemaPair(scope: Scope): Promise<{
  name: string;
  worker: Switchyard;
  loose: Channel<unknown>;
  strict: Channel<Order>;
}> {
  const name = uniqueName('orders');
  const producer = await scope.client();
  const worker = await scope.client();

  return {
    name,
    worker,
    loose: producer.channel<unknown>(name, { groups: ['billing'] }),
    strict: worker.channel<Order>(name, { schema: orderSchema }),
  };
}

/** Registers the cases of refused publishes and consumers. */
export function refusalCases(kit: Kit): void {
  describe('channel refusals', () => {
    kit.test(
      'a value the codec cannot encode is refused with a ValidationError',
      async (scope) => {
        const client = await scope.client();
        const channel = client.channel<unknown>(uniqueName('values'));

        await expectError(
          () => channel.publish({ count: 10n }),
          ValidationError,
        );
      },
    );

    kit.test(
      'a publish that fails the schema is refused with a ValidationError naming the field',
      async (scope) => {
        const client = await scope.client();
        const channel = client.channel<Order>(uniqueName('orders'), {
          schema: orderSchema,
        });

        const error = await expectError(
          () => channel.publish(order(1, { amount: -5 })),
          ValidationError,
        );

        expect(error.field).toContain('amount');
        expect(error.message).toContain('amount');
      },
    );

    kit.test(
      'a delivery that fails the schema is dead-lettered with the reason and never handled',
      async (scope) => {
        const { name, worker, loose, strict } = await schemaPair(scope);
        const recorder = createRecorder<Order>();

        const receipt = await loose.publish({ ...order(1), amount: 'lots' });
        strict.subscribe(recorder.handler, { group: 'billing' });
        const [dead] = await scope.eventually(() =>
          expectDeadLetters(worker, name, 1),
        );

        expect(dead?.message.id).toBe(receipt.id);
        expect(dead?.reason).toContain('amount');
        expect(recorder.runs).toHaveLength(0);
      },
    );

    kit.test(
      'a pull consumer dead-letters a delivery that fails the schema instead of returning it',
      async (scope) => {
        const { name, worker, loose, strict } = await schemaPair(scope);

        await loose.publish({ ...order(1), lines: 'none' }, { id: 'bad-1' });
        await loose.publish(order(2), { id: 'good-2' });
        const consumer = await strict.consumer({ group: 'billing' });
        const returned = await scope.fetchUntil(consumer, 1, { ack: true });
        const [dead] = await scope.eventually(() =>
          expectDeadLetters(worker, name, 1),
        );

        expect(returned.map((d) => d.message.id)).toEqual(['good-2']);
        expect(dead?.message.id).toBe('bad-1');
        expect(dead?.reason).toContain('lines');
      },
    );

    kit.test(
      'a payload over maxPayloadBytes is refused with PayloadTooLargeError naming both sizes',
      async (scope) => {
        const client = await scope.client();
        const channel = client.channel<Uint8Array>(uniqueName('bytes'), {
          codec: 'raw',
        });
        const limit = scope.capabilities.maxPayloadBytes;

        const error = await expectError(
          () => channel.publish(new Uint8Array(limit + 1)),
          PayloadTooLargeError,
        );

        expect(error.limit).toBe(limit);
        expect(error.size).toBeGreaterThan(limit);
        expect(error.message).toContain(String(error.size));
        expect(error.message).toContain(String(limit));
      },
    );

    kit.test(
      'invalid channel names are refused with ValidationError',
      async (scope) => {
        const client = await scope.client();
        const names = [
          'ab',
          'Orders',
          '1orders',
          'or--ders',
          'orders-',
          'or_ders',
          `o${'x'.repeat(40)}`,
        ];

        await expectEachRefused(names, (name) =>
          client.channel(name).publish(order(1)),
        );
      },
    );

    kit.test(
      'invalid group names are refused with ValidationError',
      async (scope) => {
        const client = await scope.client();
        const channel = client.channel<Order>(uniqueName('orders'));
        const names = [
          '',
          'Billing',
          'bill_ing',
          '-billing',
          `g${'x'.repeat(30)}`,
        ];

        await expectEachRefused(names, (group) => channel.consumer({ group }));
        await expectError(
          () => channel.subscribe(() => {}, { group: 'Not Valid' }),
          ValidationError,
        );
      },
    );

    kit.test(
      'invalid attribute names are refused with ValidationError naming the attribute',
      async (scope) => {
        const client = await scope.client();
        const channel = client.channel<Order>(uniqueName('orders'));
        const names = [
          'Tenant',
          'ten-ant',
          '9lives',
          'id',
          'traceparent',
          `a${'x'.repeat(40)}`,
        ];

        const errors = await expectEachRefused(names, (name) =>
          channel.publish(order(1), { attributes: { [name]: 'x' } }),
        );

        expect(errors.map((error) => error.field)).toEqual(
          names.map((name) => `attributes.${name}`),
        );
      },
    );

    kit.test(
      'an invalid message id is refused with ValidationError',
      async (scope) => {
        const client = await scope.client();
        const channel = client.channel<Order>(uniqueName('orders'));

        const ids = ['has space', 'ünïcode', 'x'.repeat(129), 'a/b'];

        await expectEachRefused(ids, (id) => channel.publish(order(1), { id }));
      },
    );

    kit.test(
      'publishing on an unknown channel with create false throws NotFoundError',
      async (scope) => {
        const client = await scope.client();
        const channel = client.channel<Order>(uniqueName('missing'), {
          create: false,
        });

        const error = await expectError(
          () => channel.publish(order(1)),
          NotFoundError,
        );

        expect(error.kind).toBe('channel');
      },
    );

    kit.test(
      'consuming an unknown channel with create false throws NotFoundError',
      async (scope) => {
        const client = await scope.client();
        const channel = client.channel<Order>(uniqueName('missing'), {
          create: false,
        });

        const error = await expectError(
          () => channel.consumer({ group: 'billing' }),
          NotFoundError,
        );

        expect(error.kind).toBe('channel');
      },
    );
  });
}
