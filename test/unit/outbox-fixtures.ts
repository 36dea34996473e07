/**
 * What the outbox's unit tests share: a scripted transport that records
 * every send and answers as the test tells it, wire messages, and
 * outboxes on temporary files that are closed and removed afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransportUnavailableError } from '../../src/core/errors.ts';
import type { WireMessage } from '../../src/core/message.ts';
import type { TransportPublishOutcome } from '../../src/core/provider.ts';
import {
  type Outbox,
  type OutboxOptions,
  openOutbox,
} from '../../src/delivery/outbox.ts';

/** How the scripted transport answers one message. */
export type Answer = 'accept' | Error;

/** One call of the scripted transport's `send`. */
export interface SendCall {
  channel: string;
  ids: string[];
}

/**
 * A transport whose answers a test scripts: `answer` decides each
 * message (default accept), `gate` (when set) holds every send until it
 * resolves. It records the calls, the ids it accepted per ordering key
 * in order, and any message sent while an earlier one of its key was not
 * yet accepted or while the same id was already being sent.
 */
export class ScriptedTransport {
  readonly calls: SendCall[] = [];
  /** Accepted ids, in the order they were accepted. */
  readonly accepted: string[] = [];
  /** Per `channel/key`, the accepted ids in order. */
  readonly acceptedByKey = new Map<string, string[]>();
  /** What broke the ordering or was sent twice at once. */
  readonly violations: string[] = [];
  /** Ids refused for good by the test: they do not hold their key. */
  readonly refused = new Set<string>();
  answer: (message: WireMessage, attempt: number) => Answer = () => 'accept';
  gate: Promise<void> | undefined;
  /** Pause of every send before it answers, in ms. */
  delayMs = 0;
  readonly #attempts = new Map<string, number>();
  readonly #inFlight = new Set<string>();
  /** Per `channel/key`, the ids published in order (from the test). */
  readonly #expected = new Map<string, string[]>();

  /** Tells the transport the order the test published `messages` in. */
  expect(messages: readonly WireMessage[]): void {
    for (const message of messages) {
      if (message.orderingKey === undefined) continue;
      const key = `${message.channel}/${message.orderingKey}`;
      const list = this.#expected.get(key) ?? [];
      list.push(message.id);
      this.#expected.set(key, list);
    }
  }

  readonly send = async (
    channel: string,
    messages: readonly WireMessage[],
  ): Promise<TransportPublishOutcome[]> => {
    this.calls.push({ channel, ids: messages.map((m) => m.id) });
    for (const message of messages) this.#check(message);
    if (this.gate !== undefined) await this.gate;
    if (this.delayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    }

    return messages.map((message) => {
      this.#inFlight.delete(message.id);
      const attempt = (this.#attempts.get(message.id) ?? 0) + 1;
      this.#attempts.set(message.id, attempt);
      const answer = this.answer(message, attempt);
      if (answer !== 'accept') return { ok: false, error: answer };

      this.accepted.push(message.id);
      if (message.orderingKey !== undefined) {
        const key = `${channel}/${message.orderingKey}`;
        const list = this.acceptedByKey.get(key) ?? [];
        list.push(message.id);
        this.acceptedByKey.set(key, list);
      }
      return { ok: true, duplicate: false };
    });
  };

  /** Attempts made at message `id`. */
  attempts(id: string): number {
    return this.#attempts.get(id) ?? 0;
  }

  #check(message: WireMessage): void {
    if (this.#inFlight.has(message.id)) {
      this.violations.push(`${message.id} sent while already being sent`);
    }
    this.#inFlight.add(message.id);
    if (message.orderingKey === undefined) return;
    const key = `${message.channel}/${message.orderingKey}`;
    const expected = this.#expected.get(key) ?? [];
    const earlier = expected.slice(0, expected.indexOf(message.id));
    const done = new Set(this.acceptedByKey.get(key) ?? []);
    const missing = earlier.filter(
      (id) => !done.has(id) && !this.refused.has(id),
    );
    if (missing.length > 0) {
      this.violations.push(
        `${message.id} sent before ${missing.join(', ')} of ${key}`,
      );
    }
  }
}

/** The error a transport that is down answers with. */
export function down(): TransportUnavailableError {
  return new TransportUnavailableError('connection refused');
}

/** Message `index` of a test producer on `channel`. */
export function message(
  channel: string,
  index: number,
  orderingKey?: string,
): WireMessage {
  return {
    id: `${channel}-${orderingKey ?? 'none'}-${index}`,
    channel,
    body: new TextEncoder().encode(JSON.stringify({ index })),
    contentType: 'application/json',
    attributes: { index: String(index) },
    publishedAt: Date.now(),
    publisherId: 'outbox-test',
    sequence: index + 1,
    ...(orderingKey !== undefined && { orderingKey }),
  };
}

/** Temporary outbox files and the outboxes opened on them. */
export class OutboxFixture {
  readonly #dirs: string[] = [];
  readonly #open: Outbox[] = [];

  /** A path for an outbox file in a fresh temporary folder. */
  async path(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-outbox-'));
    this.#dirs.push(dir);
    return join(dir, 'outbox.db');
  }

  /** Opens an outbox with short timings, closed on release. */
  open(options: OutboxOptions): Outbox {
    const outbox = openOutbox({
      backoff: { initialDelayMs: 5, maxDelayMs: 20 },
      pollIntervalMs: 20,
      ...options,
    });
    this.#open.push(outbox);
    return outbox;
  }

  /**
   * Opens an outbox on a fresh file that sends through `transport`, with
   * the short timings of {@link open} unless `options` sets others.
   */
  async openWith(
    transport: ScriptedTransport,
    options: Omit<OutboxOptions, 'path' | 'send'> = {},
  ): Promise<Outbox> {
    return this.open({
      path: await this.path(),
      send: transport.send,
      ...options,
    });
  }

  /** Closes every outbox without flushing and removes the folders. */
  async release(): Promise<void> {
    await Promise.all(
      this.#open.splice(0).map((o) => o.close({ timeoutMs: 0 })),
    );
    await Promise.all(
      this.#dirs
        .splice(0)
        .map((dir) => rm(dir, { recursive: true, force: true })),
    );
  }
}
