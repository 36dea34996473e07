/**
 * Mapping of messages onto table rows: `messages` and `dead_letters` keep
 * a message in the same columns.
 */
import { jsonProblem } from '../../core/codecs.ts';
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

/** A row as a consumer reads it: its message, and what is wrong with it. */
export type RowRead =
  | { ok: true; message: WireMessage }
  | { ok: false; message: WireMessage; reason: string };

/**
 * The message a row holds, as published on `channel`. A row whose
 * attributes column is not a JSON object of strings (another program
 * wrote it, or it was damaged) is read without attributes.
 */
export function toWireMessage(row: MessageRow, channel: string): WireMessage {
  return readMessageRow(row, channel).message;
}

/**
 * The message a row holds, or, for a row no message can come from (an
 * empty id, an attributes column that is not a JSON object of strings),
 * the message as far as it reads and a reason that says what is wrong,
 * so that a consumer dead-letters it instead of handing it out or
 * failing every fetch that takes it.
 */
export function readMessageRow(row: MessageRow, channel: string): RowRead {
  const attributes = attributesOf(row.attributes);
  const body = row.body;
  const message: WireMessage = {
    id: row.id,
    channel,
    // A plain view on the same bytes: the SQLite binding returns Buffers.
    body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    contentType: row.content_type,
    attributes: typeof attributes === 'string' ? {} : attributes,
    publishedAt: row.published_at,
    publisherId: row.publisher_id,
    sequence: row.sequence,
  };
  if (row.ordering_key !== null) message.orderingKey = row.ordering_key;
  if (row.traceparent !== null) message.traceparent = row.traceparent;
  if (row.tracestate !== null) message.tracestate = row.tracestate;

  const problem =
    row.id === ''
      ? 'its id is empty'
      : typeof attributes === 'string'
        ? `its attributes column ${JSON.stringify(excerpt(row.attributes ?? ''))} is not a JSON object of strings: ${attributes}`
        : undefined;
  if (problem !== undefined) {
    const reason = `message ${row.seq} of channel '${channel}' cannot be read: ${problem}`;
    return { ok: false, message, reason };
  }
  return { ok: true, message };
}

/** The attributes of a column, or what is wrong with it. */
function attributesOf(column: string | null): Record<string, string> | string {
  if (column === null) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(column);
  } catch (cause) {
    return `it is not ${jsonProblem(cause)}`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return `it holds ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`}`;
  }
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') {
      return `attribute ${JSON.stringify(name)} is a ${value === null ? 'null' : typeof value}`;
    }
  }
  return parsed as Record<string, string>;
}

function excerpt(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

function hasKeys(record: Record<string, string>): boolean {
  for (const _ in record) return true;
  return false;
}
