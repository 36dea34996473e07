/**
 * A pipeline of every kind of resource, unlike the reference pipeline:
 * an unordered channel with two worker groups, an ordered one with a
 * broadcast consumer only, a bucket with a TTL, objects that expire, a
 * schedule. Its default export is the pipeline, so the
 * module can be a stack's `pipelineModule`.
 */
import { fileURLToPath } from 'node:url';
import { defineFunction } from '../../src/functions/define-function.ts';
import { definePipeline } from '../../src/functions/define-pipeline.ts';
import { every, onBroadcast, onChannel } from '../../src/functions/triggers.ts';

/** This module, whose default export is {@link samplePipeline}. */
export const SAMPLE_MODULE = fileURLToPath(import.meta.url);

const noop = () => {};

/** The sample pipeline. */
export const samplePipeline = definePipeline({
  name: 'shop',
  channels: { orders: {}, prices: { ordered: true } },
  kv: { carts: { ttlMs: 3_600_000 } },
  objects: { receipts: { expireAfterMs: 2.5 * 24 * 3_600_000 } },
  functions: [
    defineFunction({
      name: 'billing',
      trigger: onChannel('orders', { group: 'billing' }),
      maxAttempts: 3,
      timeoutMs: 60_000,
      leaseMs: 20_000,
      handler: noop,
    }),
    defineFunction({
      name: 'shipping',
      trigger: onChannel('orders', { group: 'shipping' }),
      guarantee: 'at-most-once',
      handler: noop,
    }),
    defineFunction({
      name: 'ticker',
      trigger: onBroadcast('prices'),
      handler: noop,
    }),
    defineFunction({
      name: 'report',
      trigger: every(300_000),
      handler: noop,
    }),
  ],
});

export default samplePipeline;
