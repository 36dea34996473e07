/**
 * Acknowledgements as batched deletes: the deletes asked for in one turn
 * of the event loop go to SQS together, ten to a `DeleteMessageBatch`
 * call, and each caller learns the fate of its own message.
 */
import {
  type BatchResultErrorEntry,
  DeleteMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  SwitchyardError,
  TransportUnavailableError,
} from '../../core/errors.ts';
import { awsError, PROVIDER } from './errors.ts';

/** The most entries SQS takes in one batch call. */
export const SQS_BATCH_SIZE = 10;

/** One delete waiting for its batch. */
interface PendingDelete {
  receiptHandle: string;
  messageId: string;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * The deletes of one queue. `delete` resolves once SQS has deleted the
 * message and rejects with a SwitchyardError carrying the SQS code (e.g.
 * `ReceiptHandleIsInvalid`) when SQS refused that entry, while the
 * others of its batch succeed.
 *
 * @example
 * const deletes = new BatchedDeletes(sqs, queueUrl);
 * await deletes.delete(message.ReceiptHandle, id);
 */
export class BatchedDeletes {
  readonly #sqs: Pick<SQSClient, 'send'>;
  readonly #queueUrl: string;
  #pending: PendingDelete[] = [];
  #scheduled = false;
  readonly #sending = new Set<Promise<void>>();

  constructor(sqs: Pick<SQSClient, 'send'>, queueUrl: string) {
    this.#sqs = sqs;
    this.#queueUrl = queueUrl;
  }

  /** Deletes the message received with `receiptHandle`. */
  delete(receiptHandle: string, messageId: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ receiptHandle, messageId, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    });
  }

  /** Resolves once every delete asked for so far has been answered. */
  async drain(): Promise<void> {
    while (this.#scheduled || this.#sending.size > 0) {
      if (this.#scheduled) this.#flush();
      await Promise.allSettled([...this.#sending]);
    }
  }

  #flush(): void {
    this.#scheduled = false;
    const pending = this.#pending;
    this.#pending = [];
    for (let i = 0; i < pending.length; i += SQS_BATCH_SIZE) {
      const batch = pending.slice(i, i + SQS_BATCH_SIZE);
      const sent = this.#send(batch).finally(() => this.#sending.delete(sent));
      this.#sending.add(sent);
    }
  }

  async #send(batch: PendingDelete[]): Promise<void> {
    let failed: BatchResultErrorEntry[];
    try {
      const answer = await this.#sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.#queueUrl,
          Entries: batch.map((entry, index) => ({
            Id: String(index),
            ReceiptHandle: entry.receiptHandle,
          })),
        }),
      );
      failed = answer.Failed ?? [];
    } catch (error) {
      const mapped = awsError(error, 'acknowledge a message');
      for (const entry of batch) entry.reject(mapped);
      return;
    }

    const failures = new Map(failed.map((entry) => [entry.Id, entry]));
    for (const [index, entry] of batch.entries()) {
      const failure = failures.get(String(index));
      if (failure === undefined) entry.resolve();
      else entry.reject(deleteError(failure, entry.messageId));
    }
  }
}

function deleteError(
  failure: BatchResultErrorEntry,
  messageId: string,
): SwitchyardError {
  const message = `cannot acknowledge message '${messageId}': SQS refused its delete: ${failure.Message ?? failure.Code} (${failure.Code})`;
  const details = {
    provider: PROVIDER,
    providerCode: failure.Code,
    messageId,
    senderFault: failure.SenderFault,
  };
  // A fault of the service, not of the request: the delete may be retried.
  return failure.SenderFault === false
    ? new TransportUnavailableError(message, { details })
    : new SwitchyardError(message, { details });
}
