/**
 * The SQS event source mapping of a deployed function, played by the
 * test since moto runs none: receive a batch from the function's queue,
 * hand it over as the `SQSEvent` Lambda builds, and delete the records
 * the function did not report failed.
 *
 * As Lambda does: a batch is at most the mapping's batch size (and the
 * 10 messages of one ReceiveMessage) and is received with the queue's
 * visibility timeout and every system and message attribute; a function
 * error, or a batch response that names a record not in the batch,
 * leaves the whole batch to come back after that timeout; without
 * `ReportBatchItemFailures` any response deletes the whole batch. A
 * mapping is one poller invoking one environment at a time.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type {
  SQSBatchResponse,
  SQSEvent,
  SQSMessageAttributes,
  SQSRecord,
  SQSRecordAttributes,
} from 'aws-lambda';
import type { DeployedEventSource, DeployedQueue } from './deploy.ts';

/** The most messages one ReceiveMessage returns. */
const MAX_RECEIVE = 10;

/** How long one receive waits for a message, in s. */
const RECEIVE_WAIT_SECONDS = 1;

/** Options of {@link runSqsEventSource}. */
export interface SqsEventSourceOptions {
  sqs: SQSClient;
  queue: DeployedQueue;
  source: DeployedEventSource;
  region: string;
  /** Invokes the function; rejects on a function error. */
  invoke(event: SQSEvent): Promise<unknown>;
  /**
   * Whether nothing more is sent to the queue: the mapping stops at the
   * first moment after this is true that the queue holds nothing.
   */
  finished(): boolean;
  /** Fails once the queue has not drained after this long, in ms. */
  timeoutMs: number;
}

/** What a mapping did until its queue drained. */
export interface EventSourceReport {
  invocations: number;
  /** Records handed to the function, records received again included. */
  records: number;
  /** Records deleted after the function handled them, in order. */
  deleted: SQSRecord[];
  /** Records the function reported failed. */
  reportedFailures: number;
  /** The function errors of invocations, as their messages. */
  functionErrors: string[];
}

/**
 * Polls the queue and invokes the function with each batch until
 * `finished()` and the queue is empty. Rejects after `timeoutMs` with
 * what was left.
 *
 * @example
 * ```ts
 * const report = await runSqsEventSource({
 *   sqs, queue, source: fn.eventSource!, region: 'us-east-1',
 *   invoke: (event) => instance.invoke(event),
 *   finished: () => true, timeoutMs: 60_000,
 * });
 * ```
 */
export async function runSqsEventSource(
  options: SqsEventSourceOptions,
): Promise<EventSourceReport> {
  const { sqs, queue, source } = options;
  const visibility = await visibilityTimeout(sqs, queue);
  const report: EventSourceReport = {
    invocations: 0,
    records: 0,
    deleted: [],
    reportedFailures: 0,
    functionErrors: [],
  };
  const deadline = Date.now() + options.timeoutMs;

  for (;;) {
    const finished = options.finished();
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: Math.min(source.batchSize, MAX_RECEIVE),
        VisibilityTimeout: visibility,
        WaitTimeSeconds: RECEIVE_WAIT_SECONDS,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) {
      if (finished && (await isEmpty(sqs, queue))) return report;
      if (Date.now() > deadline) {
        throw new Error(
          `queue ${queue.name} did not drain in ${options.timeoutMs} ms: ${JSON.stringify({ ...report, deleted: report.deleted.length })}`,
        );
      }
      continue;
    }

    const event = sqsEvent(Messages, queue.arn, options.region);
    const handled = await invokeWith(event, options, report);
    await deleteRecords(sqs, queue, handled);
    report.deleted.push(...handled);
  }
}

/**
 * The `SQSEvent` Lambda builds of `messages` received from the queue
 * of `queueArn`.
 */
export function sqsEvent(
  messages: readonly Message[],
  queueArn: string,
  region: string,
): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body ?? '',
      attributes: { ...m.Attributes } as unknown as SQSRecordAttributes,
      messageAttributes: recordAttributes(m),
      md5OfBody: m.MD5OfBody!,
      ...(m.MD5OfMessageAttributes !== undefined && {
        md5OfMessageAttributes: m.MD5OfMessageAttributes,
      }),
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: region,
    })),
  };
}

/** Lambda spells message attributes in camel case, binary in base64. */
function recordAttributes(message: Message): SQSMessageAttributes {
  const attributes: SQSMessageAttributes = {};
  for (const [name, a] of Object.entries(message.MessageAttributes ?? {})) {
    attributes[name] = {
      dataType: a.DataType ?? 'String',
      ...(a.StringValue !== undefined && { stringValue: a.StringValue }),
      ...(a.BinaryValue !== undefined && {
        binaryValue: Buffer.from(a.BinaryValue).toString('base64'),
      }),
      stringListValues: a.StringListValues ?? [],
      binaryListValues: (a.BinaryListValues ?? []).map((b) =>
        Buffer.from(b).toString('base64'),
      ),
    };
  }
  return attributes;
}

/** Invokes the function; returns the records to delete. */
async function invokeWith(
  event: SQSEvent,
  options: SqsEventSourceOptions,
  report: EventSourceReport,
): Promise<SQSRecord[]> {
  report.invocations += 1;
  report.records += event.Records.length;
  let response: unknown;
  try {
    response = await options.invoke(event);
  } catch (error) {
    report.functionErrors.push(
      error instanceof Error ? error.message : String(error),
    );
    return [];
  }
  if (!options.source.reportBatchItemFailures) return event.Records;

  const failures = (response as SQSBatchResponse | null)?.batchItemFailures;
  if (failures === undefined || failures === null) return event.Records;
  const ids = new Set(event.Records.map((r) => r.messageId));
  const failed = new Set(failures.map((f) => f.itemIdentifier));
  report.reportedFailures += failed.size;
  // A failure Lambda cannot match to a record fails the whole batch.
  if ([...failed].some((id) => !ids.has(id))) return [];

  return event.Records.filter((r) => !failed.has(r.messageId));
}

async function deleteRecords(
  sqs: SQSClient,
  queue: DeployedQueue,
  records: readonly SQSRecord[],
): Promise<void> {
  if (records.length === 0) return;
  const { Failed = [] } = await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: queue.url,
      Entries: records.map((r, i) => ({
        Id: String(i),
        ReceiptHandle: r.receiptHandle,
      })),
    }),
  );
  if (Failed.length > 0) {
    throw new Error(
      `deleting from ${queue.name} failed: ${JSON.stringify(Failed)}`,
    );
  }
}

async function visibilityTimeout(
  sqs: SQSClient,
  queue: DeployedQueue,
): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['VisibilityTimeout'],
    }),
  );
  return Number(Attributes?.VisibilityTimeout ?? 30);
}

async function isEmpty(sqs: SQSClient, queue: DeployedQueue): Promise<boolean> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return Object.values(Attributes).every((n) => Number(n) === 0);
}
