/**
 * AWS failures as Switchyard errors. Every error carries
 * `details.provider` `aws`, the service's error name in
 * `details.providerCode` (e.g. `ConditionalCheckFailedException`,
 * `QueueDoesNotExist`, `PreconditionFailed`) and, where the service
 * answered, its HTTP status in `details.statusCode`.
 */
import {
  ConflictError,
  type ErrorDetails,
  NotFoundError,
  PayloadTooLargeError,
  type ResourceKind,
  SwitchyardError,
  TimeoutError,
  TransportUnavailableError,
} from '../../core/errors.ts';
import { providerErrors } from '../../core/provider-kit.ts';

/** The provider's name, in configuration and in error details. */
export const PROVIDER = 'aws';

/** Error constructors with `details.provider` set to `aws`. */
export const { notFound, conflict, closed } = providerErrors(PROVIDER);

/** How to report a failure of one operation. */
export interface AwsErrorContext {
  /** Identifiers of what the operation concerned. */
  details?: ErrorDetails;
  /** What a "not found" answer means for this operation. */
  notFound?: { kind: ResourceKind; resource: string };
  /** How long the operation was allowed, for a TimeoutError. */
  timeoutMs?: number;
}

/** Names the services give a missing queue, topic, table, bucket or key. */
const MISSING = new Set([
  'ResourceNotFoundException',
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'NotFoundException',
  'NotFound',
  'NoSuchBucket',
  'NoSuchKey',
  'NoSuchUpload',
]);

/** Names of a failed condition: someone else wrote first. */
const CONFLICT = new Set([
  'ConditionalCheckFailedException',
  'TransactionConflictException',
  'PreconditionFailed',
  'ConditionalRequestConflict',
]);

/** Names of a service that is busy or failing for now: retry later. */
const UNAVAILABLE = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottled',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalError',
  'InternalFailure',
  'SlowDown',
  'KMSThrottlingException',
]);

/** Error codes of a connection that could not be made or was lost. */
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** The service's error name of `error`: its `name`, or the S3 `Code`. */
export function awsCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const coded = error as Error & { Code?: unknown; code?: unknown };
  if (typeof coded.Code === 'string') return coded.Code;
  if (error.name !== 'Error') return error.name;
  return typeof coded.code === 'string' ? coded.code : undefined;
}

/** The HTTP status the service answered `error` with, if it answered. */
export function httpStatus(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } })
    ?.$metadata;
  const status = metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Whether `error` says the resource does not exist. */
export function isMissing(error: unknown): boolean {
  const code = awsCode(error);
  return (code !== undefined && MISSING.has(code)) || httpStatus(error) === 404;
}

/** Whether `error` is a failed condition of a conditional write. */
export function isConflict(error: unknown): boolean {
  const code = awsCode(error);
  return (
    (code !== undefined && CONFLICT.has(code)) || httpStatus(error) === 412
  );
}

/**
 * `error` from the AWS SDK as a Switchyard error that says which
 * operation failed: NotFoundError for a missing resource when
 * `context.notFound` says what that means, ConflictError for a failed
 * condition, TransportUnavailableError (retryable) for throttling, a
 * failing service or a connection that could not be made, TimeoutError
 * for a request that took too long. A Switchyard error passes through
 * unchanged.
 */
export function awsError(
  error: unknown,
  operation: string,
  context: AwsErrorContext = {},
): SwitchyardError {
  if (error instanceof SwitchyardError) return error;

  const cause = error instanceof Error ? error : new Error(String(error));
  const code = awsCode(cause) ?? cause.name;
  const status = httpStatus(cause);
  const details: ErrorDetails = {
    provider: PROVIDER,
    providerCode: code,
    ...(status !== undefined && { statusCode: status }),
    ...context.details,
  };
  const reason = describe(cause, code);

  if (isMissing(cause) && context.notFound !== undefined) {
    const { kind, resource } = context.notFound;
    return new NotFoundError(kind, resource, { cause, details });
  }
  if (isConflict(cause)) {
    return new ConflictError(`cannot ${operation}: ${reason}`, {
      cause,
      details,
    });
  }
  if (isTimeout(cause, code)) {
    return new TimeoutError(
      `cannot ${operation}: no answer from AWS in time`,
      context.timeoutMs ?? 0,
      { cause, details },
    );
  }
  if (
    UNAVAILABLE.has(code) ||
    NETWORK.has(code) ||
    (status !== undefined && status >= 500)
  ) {
    return new TransportUnavailableError(`cannot ${operation}: ${reason}`, {
      cause,
      details,
    });
  }
  return new SwitchyardError(`cannot ${operation}: ${reason}`, {
    cause,
    details,
  });
}

/**
 * A PayloadTooLargeError for a message or value of `size` bytes over the
 * service's `limit`.
 */
export function tooLarge(
  size: number,
  limit: number,
  what: string,
  details: ErrorDetails = {},
): PayloadTooLargeError {
  return new PayloadTooLargeError(size, limit, {
    what,
    details: { provider: PROVIDER, ...details },
  });
}

function isTimeout(error: Error, code: string): boolean {
  return (
    code === 'TimeoutError' ||
    code === 'RequestTimeout' ||
    code === 'RequestTimeoutException' ||
    code === 'ETIMEDOUT' ||
    error.name === 'TimeoutError'
  );
}

function describe(error: Error, code: string): string {
  const message = error.message === '' ? code : error.message;
  return message === code ? code : `${message} (${code})`;
}
