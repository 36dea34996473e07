/**
 * Taking and settling deliveries in SQL. Each method runs inside a write
 * transaction of the {@link Writer}, so taking a batch and settling it
 * are atomic across processes.
 *
 * A take first hands out rows of `deliveries` whose `visible_at` passed
 * (leases that expired, naks whose delay is over, replayed dead letters),
 * then messages past the consumer's cursor. On an ordered channel new
 * messages first join `deliveries` as waiting rows, and a row is handed
 * out only while no earlier row with its ordering key is in `deliveries`
 * (in flight, or waiting for redelivery).
 *
 * Every hand-out draws a fresh lease token, and settling checks it: a
 * consumer whose lease expired and whose message was handed to another
 * cannot acknowledge, retry, extend or dead-letter the new delivery.
 */
import type { WireMessage } from '../../core/message.ts';
import type { Db, Statement } from './database.ts';
import {
  MESSAGE_COLUMNS,
  MESSAGE_PLACEHOLDERS,
  type MessageRow,
  messageParams,
} from './messages.ts';
import { notFound, randomToken } from './support.ts';

/**
 * Most rows an ordered consumer keeps waiting behind busy ordering keys
 * before it stops reading further into the channel.
 */
const MAX_WAITING = 10_000;

/** How often a consumer's `active_at` is refreshed by its fetches, in ms. */
const ACTIVITY_REFRESH_MS = 1000;

/** The consumer a take is for. */
export interface ConsumerRef {
  id: number;
  name: string;
  channel: string;
  channelId: number;
  ordered: boolean;
}

/** A message handed out by a take. */
export interface Taken {
  row: MessageRow;
  attempt: number;
  token: number;
}

interface Due {
  seq: number;
  attempt: number;
}

/** The prepared statements of deliveries, shared by all consumers. */
export class Leases {
  readonly #consumer: Statement;
  readonly #touch: Statement;
  readonly #due: Statement;
  readonly #eligible: Statement;
  readonly #handOut: Statement;
  readonly #message: Statement;
  readonly #forget: Statement;
  readonly #fresh: Statement;
  readonly #freshKeys: Statement;
  readonly #insert: Statement;
  readonly #waiting: Statement;
  readonly #anyFresh: Statement;
  readonly #settle: Statement;
  readonly #delay: Statement;
  readonly #deadLetter: Statement;

  constructor(db: Db) {
    this.#consumer = db.prepare(
      'SELECT cursor, active_at FROM consumers WHERE id = ?',
    );
    this.#touch = db.prepare(
      'UPDATE consumers SET cursor = ?, active_at = ? WHERE id = ?',
    );
    this.#due = db.prepare(
      `SELECT seq, attempt FROM deliveries
       WHERE consumer_id = @consumer AND visible_at <= @now
       ORDER BY visible_at, seq LIMIT @max`,
    );
    this.#eligible = db.prepare(
      `SELECT f.seq, f.attempt FROM deliveries f
       WHERE f.consumer_id = @consumer AND f.visible_at <= @now
         AND (f.ordering_key IS NULL OR NOT EXISTS (
           SELECT 1 FROM deliveries g
           WHERE g.consumer_id = @consumer AND g.ordering_key = f.ordering_key
             AND g.seq < f.seq))
       ORDER BY f.seq LIMIT @max`,
    );
    this.#handOut = db.prepare(
      `UPDATE deliveries SET attempt = attempt + 1, visible_at = ?, token = ?
       WHERE consumer_id = ? AND seq = ?`,
    );
    this.#message = db.prepare(
      `SELECT seq, ${MESSAGE_COLUMNS} FROM messages WHERE seq = ?`,
    );
    this.#forget = db.prepare(
      'DELETE FROM deliveries WHERE consumer_id = ? AND seq = ?',
    );
    this.#fresh = db.prepare(
      `SELECT seq, ${MESSAGE_COLUMNS} FROM messages
       WHERE channel_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    );
    this.#freshKeys = db.prepare(
      `SELECT seq, ordering_key FROM messages
       WHERE channel_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    );
    this.#insert = db.prepare(
      `INSERT INTO deliveries
         (consumer_id, seq, attempt, visible_at, token, ordering_key)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.#waiting = db.prepare(
      'SELECT count(*) AS n FROM deliveries WHERE consumer_id = ? AND attempt = 0',
    );
    this.#anyFresh = db.prepare(
      'SELECT 1 FROM messages WHERE channel_id = ? AND seq > ? LIMIT 1',
    );
    this.#settle = db.prepare(
      'DELETE FROM deliveries WHERE consumer_id = ? AND seq = ? AND token = ?',
    );
    this.#delay = db.prepare(
      `UPDATE deliveries SET visible_at = ?
       WHERE consumer_id = ? AND seq = ? AND token = ?`,
    );
    this.#deadLetter = db.prepare(
      `INSERT INTO dead_letters (channel_id, consumer, seq, ${MESSAGE_COLUMNS},
         reason, attempts, dead_lettered_at)
       VALUES (?, ?, ?, ${MESSAGE_PLACEHOLDERS}, ?, ?, ?)`,
    );
  }

  /**
   * Hands out up to `max` messages to `consumer`, leased until
   * `now + leaseMs`. NotFoundError if the consumer was deleted.
   */
  take(consumer: ConsumerRef, max: number, leaseMs: number): Taken[] {
    const now = Date.now();
    const state = this.#state(consumer);
    let cursor = state.cursor;
    const visibleAt = now + leaseMs;

    if (consumer.ordered) cursor = this.#admit(consumer, cursor);
    const due = (consumer.ordered ? this.#eligible : this.#due).all({
      consumer: consumer.id,
      now,
      max,
    }) as Due[];
    const taken = this.#handOutDue(consumer, due, visibleAt);

    if (!consumer.ordered && taken.length < max) {
      const rows = this.#fresh.all(
        consumer.channelId,
        cursor,
        max - taken.length,
      ) as MessageRow[];
      for (const row of rows) {
        const token = randomToken();
        this.#insert.run(
          consumer.id,
          row.seq,
          1,
          visibleAt,
          token,
          row.ordering_key,
        );
        taken.push({ row, attempt: 1, token });
        cursor = row.seq;
      }
    }

    if (
      cursor !== state.cursor ||
      now - state.active_at >= ACTIVITY_REFRESH_MS
    ) {
      this.#touch.run(cursor, now, consumer.id);
    }
    return taken;
  }

  /**
   * Whether a take would find something now, read without the write lock;
   * NotFoundError if the consumer was deleted.
   */
  ready(consumer: ConsumerRef): boolean {
    const { cursor } = this.#state(consumer);
    if (this.#anyFresh.get(consumer.channelId, cursor) !== undefined) {
      return true;
    }
    const query = consumer.ordered ? this.#eligible : this.#due;
    const due = { consumer: consumer.id, now: Date.now(), max: 1 };
    return query.get(due) !== undefined;
  }

  /** Removes a delivery; false if its lease token is no longer current. */
  ack(consumerId: number, seq: number, token: number): boolean {
    return this.#settle.run(consumerId, seq, token).changes > 0;
  }

  /**
   * Makes a delivery visible again at `visibleAt` (a retry, an extension,
   * a release); false if its lease token is no longer current.
   */
  delay(
    consumerId: number,
    seq: number,
    token: number,
    visibleAt: number,
  ): boolean {
    return this.#delay.run(visibleAt, consumerId, seq, token).changes > 0;
  }

  /**
   * Removes a delivery and stores its message as a dead letter; false (and
   * nothing stored) if its lease token is no longer current.
   */
  deadLetter(
    consumer: ConsumerRef,
    delivery: { seq: number; token: number; attempt: number },
    message: WireMessage,
    reason: string,
  ): boolean {
    if (!this.ack(consumer.id, delivery.seq, delivery.token)) return false;
    this.#deadLetter.run(
      consumer.channelId,
      consumer.name,
      delivery.seq,
      ...messageParams(message),
      reason,
      delivery.attempt,
      Date.now(),
    );
    return true;
  }

  #state(consumer: ConsumerRef): { cursor: number; active_at: number } {
    const state = this.#consumer.get(consumer.id) as
      | { cursor: number; active_at: number }
      | undefined;
    if (state === undefined) {
      throw notFound('consumer', consumer.name, {
        channel: consumer.channel,
        group: consumer.name,
      });
    }
    return state;
  }

  /** Moves new messages of an ordered channel into waiting rows. */
  #admit(consumer: ConsumerRef, cursor: number): number {
    const waiting = (this.#waiting.get(consumer.id) as { n: number }).n;
    if (waiting >= MAX_WAITING) return cursor;

    const rows = this.#freshKeys.all(
      consumer.channelId,
      cursor,
      Math.min(MAX_WAITING - waiting, 1000),
    ) as { seq: number; ordering_key: string | null }[];
    for (const row of rows) {
      this.#insert.run(consumer.id, row.seq, 0, 0, 0, row.ordering_key);
    }
    return rows.length > 0 ? rows[rows.length - 1]!.seq : cursor;
  }

  #handOutDue(
    consumer: ConsumerRef,
    due: readonly Due[],
    visibleAt: number,
  ): Taken[] {
    const taken: Taken[] = [];
    for (const { seq, attempt } of due) {
      const row = this.#message.get(seq) as MessageRow | undefined;
      if (row === undefined) {
        // Its message was purged; nothing is left to deliver.
        this.#forget.run(consumer.id, seq);
        continue;
      }
      const token = randomToken();
      this.#handOut.run(visibleAt, token, consumer.id, seq);
      taken.push({ row, attempt: attempt + 1, token });
    }
    return taken;
  }
}
