import type { Capabilities } from '../../../src/core/capabilities.ts';
import type { WireMessage } from '../../../src/core/message.ts';
import type {
  TransportConsumer,
  TransportDelivery,
} from '../../../src/core/provider.ts';

/** What was done to a fake delivery, in order. */
export type Settlement =
  | { kind: 'ack' }
  | { kind: 'nak'; delayMs: number }
  | { kind: 'extend'; leaseMs: number }
  | { kind: 'deadLetter'; reason: string };

export interface FakeDelivery extends TransportDelivery {
  readonly settlements: Settlement[];
}

/** Capabilities of a provider that supports everything. */
export function fullCapabilities(): Capabilities {
  return {
    maxPayloadBytes: 1_048_576,
    maxBatchSize: 100,
    dedupWindowMs: 0,
    native: { deadLetter: false, watch: false, requestReply: false },
    unsupported: {},
  };
}

let counter = 0;

/** A JSON message as a producer would have published it. */
export function jsonMessage(
  data: unknown,
  overrides: Partial<WireMessage> = {},
): WireMessage {
  counter++;
  return {
    id: `msg-${counter}`,
    channel: 'fake-events',
    body: new TextEncoder().encode(JSON.stringify(data)),
    contentType: 'application/json',
    attributes: {},
    publishedAt: Date.now(),
    publisherId: 'test',
    sequence: counter,
    ...overrides,
  };
}

/** A delivery that records how it was settled. */
export function fakeDelivery(message: WireMessage, attempt = 1): FakeDelivery {
  const settlements: Settlement[] = [];
  return {
    message,
    attempt,
    settlements,
    ack: async () => {
      settlements.push({ kind: 'ack' });
    },
    nak: async (delayMs) => {
      settlements.push({ kind: 'nak', delayMs });
    },
    extend: async (leaseMs) => {
      settlements.push({ kind: 'extend', leaseMs });
    },
    deadLetter: async (reason) => {
      settlements.push({ kind: 'deadLetter', reason });
    },
  };
}

/**
 * A consumer that answers each fetch with the next of `script` (throwing
 * it when it is an error), then waits for its wait or its signal and
 * answers nothing.
 */
export function scriptedConsumer(
  script: (TransportDelivery[] | Error)[],
): TransportConsumer & { closed: boolean; fetches: number } {
  const consumer = {
    closed: false,
    fetches: 0,
    async fetch(
      _max: number,
      options: { waitMs: number; signal?: AbortSignal },
    ): Promise<TransportDelivery[]> {
      consumer.fetches++;
      const next = script.shift();
      if (next instanceof Error) throw next;
      if (next !== undefined) return next;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.waitMs);
        options.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return [];
    },
    async close() {
      consumer.closed = true;
    },
  };
  return consumer;
}
