import type { WireMessage } from '../../../src/core/message.ts';

/** A wire message as the JSON codec would publish it. */
export function wireMessage(overrides: Partial<WireMessage> = {}): WireMessage {
  return {
    id: 'evt-0001',
    channel: 'kv-events',
    body: new TextEncoder().encode(
      JSON.stringify({ workerId: 3, removed: [] }),
    ),
    contentType: 'application/json',
    attributes: { tenant: 'acme', region: 'eu1' },
    publishedAt: Date.parse('2025-03-01T12:00:00.000Z'),
    publisherId: 'router-7',
    sequence: 12,
    orderingKey: 'worker-3',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    tracestate: 'vendor=1',
    ...overrides,
  };
}
