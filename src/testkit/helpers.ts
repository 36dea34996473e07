/**
 * Small tools the conformance cases share: polling for a condition,
 * gates that hold a handler, unique names, error expectations and
 * loops that fetch until a count is reached. None of them asserts on
 * wall time: they wait for events and give up only after a timeout.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { Delivery, Handler, PullConsumer } from '../core/channel.ts';
import type { Message } from '../core/message.ts';
import type { DeadLetter } from '../core/provider.ts';
import type { Switchyard } from '../core/switchyard.ts';

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** How long to keep trying, in ms. Default 10000. */
  timeoutMs?: number;
  /** Pause between two tries, in ms. Default 50. */
  intervalMs?: number;
  /** Says what was awaited, for the error raised on timeout. */
  message?: string;
}

/**
 * Calls `check` until it returns something other than `false` without
 * throwing, and resolves with what it returned. On timeout, rethrows the
 * last error `check` threw (so an assertion keeps its diff), or an error
 * saying the condition stayed false.
 *
 * @example
 * await eventually(async () => {
 *   expect(await bucket.get('done')).toBeDefined();
 * }, { timeoutMs: 5000 });
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  options: EventuallyOptions = {},
): Promise<Exclude<T, false>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;

  for (;;) {
    try {
      const value = await check();
      if (value !== false) return value as Exclude<T, false>;
      last = undefined;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }

  if (last instanceof Error) throw last;
  throw new Error(
    `${options.message ?? 'condition'} did not hold within ${timeoutMs} ms`,
  );
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Races `promise` against a timer: rejects with an error naming `what`
 * when `ms` pass first. The timer never keeps the process alive.
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within ${ms} ms`)),
      ms,
    );
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A name valid for a channel, bucket or subject, unique to this run:
 * `prefix`, a hyphen and eight random lowercase characters.
 */
export function uniqueName(prefix: string): string {
  const suffix = randomBytes(8)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')
    .slice(0, 8);
  return `${prefix}-${suffix}`;
}

/** A latch a case opens to let blocked handlers go on. */
export interface Gate {
  /** Resolves once the gate is open. */
  readonly opened: Promise<void>;
  /** Whether `open()` was called. */
  readonly isOpen: boolean;
  /** Opens the gate. Idempotent. */
  open(): void;
}

/** Creates a closed {@link Gate}. */
export function createGate(): Gate {
  let release: () => void = () => {};
  let isOpen = false;
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });

  return {
    opened,
    get isOpen() {
      return isOpen;
    },
    open() {
      isOpen = true;
      release();
    },
  };
}

/**
 * Runs `action` and expects it to throw or reject with an instance of
 * `type`; resolves with the error for further assertions. A function
 * that returns an async iterable is iterated once, so a refusal raised
 * on the first `next()` counts as well.
 */
export async function expectError<E extends Error>(
  action: () => unknown,
  // biome-ignore lint/suspicious/noExplicitAny: error constructors vary
  type: abstract new (...args: any[]) => E,
): Promise<E> {
  try {
    const result = await action();
    if (isAsyncIterable(result)) {
      const iterator = result[Symbol.asyncIterator]();
      try {
        await iterator.next();
      } finally {
        await iterator.return?.();
      }
    }
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected a ${type.name}, but nothing was thrown`);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' && value !== null && Symbol.asyncIterator in value
  );
}

/** One run of a handler, as a {@link Recorder} keeps it. */
export interface HandlerRun<T> {
  message: Message<T>;
  /** The attempt the handler was told, 1 on the first delivery. */
  attempt: number;
  /** The group (or broadcast consumer) the handler was told. */
  group: string;
}

/** A handler that records every run, and the runs so far. */
export interface Recorder<T> {
  /** Every run so far, in the order they started. */
  readonly runs: HandlerRun<T>[];
  /** Ids of the messages handled, in the order of the runs. */
  ids(): string[];
  /** The handler to subscribe. */
  handler: Handler<T>;
}

/**
 * Creates a {@link Recorder}. `behaviour`, if given, runs after the run is
 * recorded and decides the outcome: its result or its error.
 */
export function createRecorder<T>(behaviour?: Handler<T>): Recorder<T> {
  const runs: HandlerRun<T>[] = [];

  return {
    runs,
    ids: () => runs.map((run) => run.message.id),
    handler: async (message, context) => {
      runs.push({ message, attempt: context.attempt, group: context.group });
      return behaviour?.(message, context);
    },
  };
}

/** Options of {@link fetchUntil}. */
export interface FetchUntilOptions {
  /** How long to keep fetching, in ms. */
  timeoutMs: number;
  /** Long-poll wait of each fetch, in ms. Default 250. */
  waitMs?: number;
  /** Acknowledge each delivery as it arrives. Default false. */
  ack?: boolean;
}

/**
 * Fetches until `count` deliveries arrived in total and returns them.
 * Fails when fewer arrive before the timeout; never fetches more than is
 * still missing.
 */
export async function fetchUntil<T>(
  consumer: PullConsumer<T>,
  count: number,
  options: FetchUntilOptions,
): Promise<Delivery<T>[]> {
  const deliveries: Delivery<T>[] = [];
  const deadline = Date.now() + options.timeoutMs;

  while (deliveries.length < count && Date.now() < deadline) {
    const batch = await consumer.fetch(count - deliveries.length, {
      waitMs: options.waitMs ?? 250,
    });
    for (const delivery of batch) {
      if (options.ack) await delivery.ack();
      deliveries.push(delivery);
    }
  }

  expect(
    deliveries.length,
    `deliveries received within ${options.timeoutMs} ms`,
  ).toBe(count);
  return deliveries;
}

/**
 * Fetches for `waitMs` and fails if anything arrives: the way to show
 * that a message is not delivered (again).
 */
export async function expectNothing<T>(
  consumer: PullConsumer<T>,
  waitMs: number,
): Promise<void> {
  const batch = await consumer.fetch(10, { waitMs });

  expect(batch.map((delivery) => delivery.message.id)).toEqual([]);
}

/** Whether two byte sequences hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** Gathers every item of an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** `count` distinct values, one per index, built by `make`. */
export function times<T>(count: number, make: (index: number) => T): T[] {
  return Array.from({ length: count }, (_, index) => make(index));
}

/**
 * Asserts that `group` has acknowledged everything on `channel`: no lag
 * and nothing in flight. Meant for `eventually`.
 */
export async function expectDrained(
  client: Switchyard,
  channel: string,
  group: string,
): Promise<void> {
  const stats = await client.admin.stats(channel);

  expect(stats.consumers[group]).toMatchObject({ lag: 0, inFlight: 0 });
}

/**
 * The dead letters of `channel`, asserting there are exactly `count`.
 * Meant for `eventually`, as dead-lettering may finish after the handler.
 */
export async function expectDeadLetters(
  client: Switchyard,
  channel: string,
  count: number,
): Promise<DeadLetter[]> {
  const letters = await client.admin.deadLetters(channel);

  expect(letters).toHaveLength(count);
  return letters;
}
