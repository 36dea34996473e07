/**
 * Factories of test data: orders on channels, their schema, trace
 * context, and deterministic bytes for objects and raw payloads.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Channel, Delivery, PullConsumer } from '../core/channel.ts';
import type { PublishReceipt } from '../core/message.ts';
import type { Switchyard } from '../core/switchyard.ts';
import { uniqueName } from './helpers.ts';
import type { Scope } from './kit.ts';

/** The payload most cases publish. */
export interface Order {
  orderId: string;
  amount: number;
  lines: { sku: string; quantity: number }[];
}

/** The order with index `index`, distinct from every other index. */
export function order(index: number, overrides: Partial<Order> = {}): Order {
  return {
    orderId: `order-${index}`,
    amount: index + 1,
    lines: [{ sku: `sku-${index % 3}`, quantity: (index % 4) + 1 }],
    ...overrides,
  };
}

/**
 * Publishes `order(i)` for each index, one after another, with the id
 * `{prefix}-{i}`; resolves with the receipts in the same order.
 */
export async function publishOrders(
  channel: Channel<Order>,
  indices: readonly number[],
  prefix = 'order',
): Promise<PublishReceipt[]> {
  const receipts: PublishReceipt[] = [];
  for (const i of indices) {
    receipts.push(await channel.publish(order(i), { id: `${prefix}-${i}` }));
  }
  return receipts;
}

/** A new client of `scope`, and a channel of orders with `groups` declared. */
export async function billing(
  scope: Scope,
  groups: readonly string[] = ['billing'],
): Promise<{ client: Switchyard; channel: Channel<Order>; name: string }> {
  const name = uniqueName('orders');
  const client = await scope.client();
  const channel = client.channel<Order>(name, { groups });

  return { client, channel, name };
}

/**
 * Publishes `order(1)` on `channel` and fetches its delivery to the group
 * billing, left unsettled.
 */
export async function publishAndFetch(
  scope: Scope,
  channel: Channel<Order>,
): Promise<{
  receipt: PublishReceipt;
  consumer: PullConsumer<Order>;
  delivery: Delivery<Order> | undefined;
}> {
  const receipt = await channel.publish(order(1));
  const consumer = await channel.consumer({ group: 'billing' });
  const [delivery] = await scope.fetchUntil(consumer, 1);

  return { receipt, consumer, delivery };
}

/** A Standard Schema of {@link Order}: a positive amount, named lines. */
export const orderSchema = z.object({
  orderId: z.string(),
  amount: z.number().positive(),
  lines: z.array(z.object({ sku: z.string(), quantity: z.number().int() })),
});

/** A worker's state, the value key-value cases store. */
export interface WorkerState {
  worker: string;
  blocks: number;
}

/** The state of worker `worker`, holding `blocks` blocks. */
export function workerState(worker: number, blocks = worker * 10): WorkerState {
  return { worker: `worker-${worker}`, blocks };
}

/** A valid W3C trace context. */
export function traceContext(): { traceparent: string; tracestate: string } {
  return {
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    tracestate: 'congo=t61rcWkgMzE',
  };
}

/**
 * `size` bytes that depend only on `seed`: a SHA-256 counter stream, so
 * that two calls agree and a lost or reordered chunk shows.
 */
export function seededBytes(size: number, seed = 'switchyard'): Uint8Array {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (let block = 0; offset < size; block += 1) {
    const digest = createHash('sha256').update(`${seed}:${block}`).digest();
    bytes.set(
      digest.subarray(0, Math.min(digest.length, size - offset)),
      offset,
    );
    offset += digest.length;
  }
  return bytes;
}

/** Splits `bytes` into chunks of `chunkSize` bytes, yielded in order. */
export async function* chunks(
  bytes: Uint8Array,
  chunkSize: number,
): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < bytes.length; start += chunkSize) {
    yield bytes.slice(start, start + chunkSize);
  }
}

/** Hex SHA-256 of `bytes`, to compare large contents in one line. */
export function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
