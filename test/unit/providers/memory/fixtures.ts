/** Factories and helpers shared by the memory provider's tests. */
import { randomUUID } from 'node:crypto';
import type { WireMessage } from '../../../../src/core/message.ts';
import type {
  ChannelTransport,
  ConsumerSpec,
  Provider,
} from '../../../../src/core/provider.ts';
import {
  createMemoryProvider,
  resetMemoryNamespace,
} from '../../../../src/providers/memory/index.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A wire message with `text` as its body. */
export function wireMessage(
  channel: string,
  text: string,
  overrides: Partial<WireMessage> = {},
): WireMessage {
  return {
    id: randomUUID(),
    channel,
    body: encoder.encode(text),
    contentType: 'text/plain',
    attributes: {},
    publishedAt: Date.now(),
    publisherId: 'test-publisher',
    sequence: 1,
    ...overrides,
  };
}

/** The body of a message as text. */
export function text(message: WireMessage): string {
  return decoder.decode(message.body);
}

/** A consumer spec of a worker group with a short lease. */
export function groupSpec(
  channel: string,
  name: string,
  leaseMs = 200,
): ConsumerSpec {
  return { channel, mode: 'group', name, leaseMs, maxAttempts: 5 };
}

/**
 * Providers on a fresh namespace, closed and dropped by `cleanup`, so
 * that tests share nothing.
 */
export function namespaceFixture() {
  const namespace = `test-${randomUUID()}`;
  const providers: Provider[] = [];

  return {
    namespace,
    async provider(): Promise<Provider> {
      const provider = await createMemoryProvider({ namespace });
      providers.push(provider);
      return provider;
    },
    async cleanup(): Promise<void> {
      const open = providers.splice(0);
      await Promise.all(open.map((p) => p.close()));
      resetMemoryNamespace(namespace);
    },
  };
}

/** The channel transport of `provider`, which the memory provider has. */
export function channelsOf(provider: Provider): ChannelTransport {
  if (provider.channels === undefined) throw new Error('no channels');
  return provider.channels;
}

/** Polls `check` until it returns a value other than undefined. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
