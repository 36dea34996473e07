/**
 * Mapping of messages onto table rows: `messages` and `dead_letters` keep
 * a message in the same columns.
 */
import type { WireMessage } from '../../core/message.ts';

/** The message columns, in the order {@link messageParams} gives them. */
export const MESSAGE_COLUMNS =
  'id, body, content_type, attributes, published_at, publisher_id, sequence, ordering_key, traceparent, tracestate';

/** Placeholders for {@link MESSAGE_COLUMNS}. */
export const MESSAGE_PLACEHOLDERS = '?, ?, ?, ?, ?, ?, ?, ?, ?, ?';

/** A message as a row holds it. */
export interface MessageRow {
  seq: number;
  id: string;
  body: Uint8Array;
  content_type: string;
  attributes: string | null;
  published_at: number;
  publisher_id: string;
  sequence: number;
  ordering_key: string | null;
  traceparent: string | null;
  tracestate: string | null;
}

/** Values of {@link MESSAGE_COLUMNS} for `message`. */
export function messageParams(message: WireMessage): unknown[] {
  const attributes = message.attributes ?? {};
  return [
    message.id,
    message.body,
    message.contentType,
    hasKeys(attributes) ? JSON.stringify(attributes) : null,
    message.publishedAt,
    message.publisherId,
    message.sequence,
    message.orderingKey ?? null,
    message.traceparent ?? null,
    message.tracestate ?? null,
  ];
}

/** The message a row holds, as published on `channel`. */
export function toWireMessage(row: MessageRow, channel: string): WireMessage {
  const body = row.body;
  const message: WireMessage = {
    id: row.id,
    channel,
    // A plain view on the same bytes: the SQLite binding returns Buffers.
    body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    contentType: row.content_type,
    attributes: row.attributes === null ? {} : JSON.parse(row.attributes),
    publishedAt: row.published_at,
    publisherId: row.publisher_id,
    sequence: row.sequence,
  };
  if (row.ordering_key !== null) message.orderingKey = row.ordering_key;
  if (row.traceparent !== null) message.traceparent = row.traceparent;
  if (row.tracestate !== null) message.tracestate = row.tracestate;
  return message;
}

function hasKeys(record: Record<string, string>): boolean {
  for (const _ in record) return true;
  return false;
}
