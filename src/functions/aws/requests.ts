/**
 * Request functions on Lambda: each request of an event is answered
 * with the function's return value, in the envelope the client's
 * `serve` makes, and sent to the requester's reply queue as the aws
 * request server sends it.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import type { Codec } from '../../core/codec.ts';
import { resolveCodec } from '../../core/codecs.ts';
import type { Logger } from '../../core/logger.ts';
import {
  decodeRequest,
  encodeFailure,
  encodeReply,
} from '../../core/request-envelope.ts';
import { describeError, errorFields } from '../../delivery/errors.ts';
import { isMissing } from '../../providers/aws/errors.ts';
import {
  decodeBody,
  replyInput,
  requestRoute,
} from '../../providers/aws/request-wire.ts';
import { runContext } from './function-context.ts';
import { type Deadline, invocationDeadline } from './invocation.ts';
import type { ResolvedLambdaOptions, SqsVisibilityClient } from './options.ts';
import type { RecordOutcome } from './record-delivery.ts';
import type { RequestRecord } from './request-records.ts';
import type { LambdaRuntime } from './runtime.ts';

/** Answers the requests of one event, one outcome per record, in order. */
export type RequestProcessor = (
  records: readonly RequestRecord[],
  context: Partial<Context> | undefined,
) => Promise<RecordOutcome[]>;

/**
 * The request processor of the function of `runtime()`. Replies go out
 * through `options.sqs`, or through an SQS client built on first use
 * from the environment (region, credentials, `AWS_ENDPOINT_URL_SQS`).
 * Requests run up to the function's `concurrency` (default 1) at once.
 */
export function requestProcessor(
  runtime: () => Promise<LambdaRuntime>,
  options: ResolvedLambdaOptions,
): RequestProcessor {
  let sqs = options.sqs;
  const client = (): SqsVisibilityClient => {
    sqs ??= new SQSClient({});
    return sqs;
  };
  // The codec the local runner serves with: the client's default.
  const codec = resolveCodec(undefined, 'request.codec');

  return async (records, context) => {
    const current = await runtime();
    const deadline = invocationDeadline(context, options.safetyMarginMs);
    const answering: Answering = {
      runtime: current,
      codec,
      sqs: client(),
      deadline,
    };

    try {
      return await eachAtMost(current.fn.concurrency ?? 1, records, (r) =>
        answer(answering, r),
      );
    } finally {
      deadline.clear();
    }
  };
}

/** What answering one request needs. */
interface Answering {
  runtime: LambdaRuntime;
  codec: Codec<unknown>;
  sqs: SqsVisibilityClient;
  deadline: Deadline;
}

/**
 * Answers one request and sends the reply. A request without a route,
 * or whose requester stopped waiting, is dropped; a reply queue that is
 * gone means nobody waits. A reply that could not be sent otherwise is
 * reported failed, so that the request comes back.
 */
async function answer(
  answering: Answering,
  record: RequestRecord,
): Promise<RecordOutcome> {
  const { runtime, deadline } = answering;
  const { id, message } = record;
  const log = runtime.logger.child({ messageId: id });
  const route = requestRoute(message);
  if (route === undefined) {
    log.warn('a request without a reply queue or correlation id is dropped');
    return { id, status: 'succeeded' };
  }
  if (route.deadline < Date.now()) {
    log.debug('a request nobody waits for any more is dropped');
    return { id, status: 'succeeded' };
  }
  if (deadline.signal.aborted) {
    return {
      id,
      status: 'failed',
      reason: 'not started before the invocation deadline',
    };
  }

  const reply = await replyInput(route, () =>
    run(answering, decodeBody(message), log),
  );
  try {
    await answering.sqs.send(new SendMessageCommand(reply));
  } catch (error) {
    const fields = { queueUrl: route.replyTo, ...errorFields(error) };
    if (isMissing(error)) {
      log.debug('the reply queue is gone: nobody waits', fields);
      return { id, status: 'succeeded' };
    }
    log.debug('a reply could not be sent; the request comes back', fields);
    return {
      id,
      status: 'failed',
      reason: `reply not sent to ${route.replyTo}: ${describeError(error)}`,
    };
  }

  return { id, status: 'succeeded' };
}

/**
 * Runs the handler on one request payload: the reply envelope of its
 * value, or the failed reply envelope that the requester turns into a
 * RemoteError when the request cannot be read or the handler throws.
 */
async function run(
  answering: Answering,
  payload: Uint8Array,
  log: Logger,
): Promise<Uint8Array> {
  const { runtime, codec, deadline } = answering;
  const { stats } = runtime;
  let request: unknown;
  try {
    request = decodeRequest(payload, codec);
  } catch (error) {
    log.debug('a request could not be read', errorFields(error));
    return encodeFailure(error);
  }

  stats.delivered++;
  stats.runs++;
  stats.inFlight++;
  try {
    const value = await runtime.fn.handler(
      request,
      runContext(runtime, { signal: deadline.signal, logger: log }),
    );
    const reply = encodeReply(codec, value);
    stats.succeeded++;
    return reply;
  } catch (error) {
    stats.failed++;
    log.debug('request handler failed', errorFields(error));
    return encodeFailure(error);
  } finally {
    stats.inFlight--;
  }
}

/** `work` on every item, up to `limit` at once; results in order. */
async function eachAtMost<T, R>(
  limit: number,
  items: readonly T[],
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) {
      results[index] = await work(items[index]!);
    }
  };
  const workers = Math.max(1, Math.min(limit, items.length));

  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}
