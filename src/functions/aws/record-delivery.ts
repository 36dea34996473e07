/**
 * A record of a Lambda batch as a {@link TransportDelivery}, so that the
 * core delivery processing (retries, dead letters, exactly-once) runs on
 * it unchanged. Settling a record decides its place in the batch
 * response:
 *
 * - `ack`: succeeded; Lambda deletes it from the queue;
 * - `nak(delay)`: failed, so the queue delivers it again; with an SQS
 *   client, after `delay` (its visibility is set to it);
 * - `extend(ms)`: with an SQS client, its visibility is pushed back;
 * - `deadLetter(reason)`: through the channel transport's `deadLetter`
 *   when the provider offers it (a record that is not a Switchyard
 *   message with its body as it came), and the record then counts as
 *   succeeded so that it leaves the queue; otherwise it is reported
 *   failed and the queue's redrive policy moves it to the dead-letter
 *   queue once its receive count passes `maxReceiveCount`.
 */
import { CapabilityError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type {
  ChannelTransport,
  TransportDelivery,
} from '../../core/provider.ts';
import type { BatchItem } from './batch-item.ts';
import type { Visibility } from './visibility.ts';

/** What became of a record. */
export type RecordStatus =
  /** Not settled (yet): reported failed, so it comes back. */
  | 'pending'
  | 'succeeded'
  | 'failed'
  /** Stored as a dead letter through the transport. */
  | 'dead-lettered';

/** The outcome of one record. */
export interface RecordOutcome {
  /** The record's message id; undefined when it has none. */
  readonly id: string | undefined;
  status: RecordStatus;
  /** Why it failed or was dead-lettered. */
  reason?: string;
}

/** What settling records may use. */
export interface SettlePorts {
  channel: string;
  group: string;
  channels: ChannelTransport | undefined;
  visibility: Visibility | undefined;
  logger: Logger;
}

/** The delivery of `item`, which records its settlement in `outcome`. */
export function recordDelivery(
  item: BatchItem,
  outcome: RecordOutcome,
  ports: SettlePorts,
): TransportDelivery {
  const { visibility } = ports;
  const receipt = item.receipt;

  return {
    message: item.wire,
    attempt: item.attempt,
    async ack() {
      outcome.status = 'succeeded';
    },
    async nak(delayMs) {
      outcome.status = 'failed';
      if (visibility !== undefined && receipt !== undefined) {
        await visibility.change(receipt, delayMs);
      }
    },
    async extend(leaseMs) {
      if (visibility === undefined || receipt === undefined) {
        throw new CapabilityError(
          'extendLease needs the sqs option of the Lambda adapter and a record with a receipt handle',
          { feature: 'extendLease' },
        );
      }
      await visibility.change(receipt, leaseMs);
    },
    async deadLetter(reason) {
      outcome.reason = reason;
      const transport = ports.channels;
      if (transport?.deadLetter === undefined) {
        outcome.status = 'failed';
        ports.logger.warn(
          'no dead-letter transport: record reported failed for the queue redrive policy to dead-letter',
          { messageId: item.id, attempt: item.attempt, reason },
        );
        return;
      }
      await transport.deadLetter(ports.channel, {
        message: item.wire,
        group: ports.group,
        reason,
        attempts: item.attempt,
        // An item with a problem carries the record's body as it came.
        ...(item.problem !== undefined && { body: item.wire.body }),
      });
      outcome.status = 'dead-lettered';
    },
  };
}
