/**
 * NATS failures as Switchyard errors. Every error carries
 * `details.provider` `nats`, and, where NATS gave one, its own code in
 * `details.providerCode`: the JetStream API's `err_code` (e.g. `10071`,
 * wrong last sequence), a status such as `503`, or the client error's
 * name.
 */
import {
  ConflictError,
  type ErrorDetails,
  NotFoundError,
  type ResourceKind,
  SwitchyardError,
  TimeoutError,
  TransportUnavailableError,
} from '../../core/errors.ts';
import { providerErrors } from '../../core/provider-kit.ts';

/** The provider's name, in configuration and in error details. */
export const PROVIDER = 'nats';

/** JetStream API error codes the provider acts on. */
export const API_CODES = {
  consumerNotFound: 10014,
  streamNotFound: 10059,
  streamNameInUse: 10058,
  noMessageFound: 10037,
  wrongLastSequence: 10071,
} as const;

/** Error constructors with `details.provider` set to `nats`. */
export const { notFound, conflict, closed } = providerErrors(PROVIDER);

/** How to report a failure of one operation. */
export interface NatsErrorContext {
  /** Identifiers of what the operation concerned. */
  details?: ErrorDetails;
  /** What a "not found" answer of the server means for this operation. */
  notFound?: { kind: ResourceKind; resource: string };
  /** How long the operation was allowed, for a TimeoutError. */
  timeoutMs?: number;
}

/**
 * The JetStream API code (`err_code`) of `error`, if it is an API error
 * the server answered with.
 */
export function apiCode(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const api = error as Error & { code?: unknown; apiError?: unknown };
  if (typeof api.code === 'number' && typeof api.apiError === 'function') {
    return api.code;
  }
  return undefined;
}

/**
 * `error` from the NATS client as a Switchyard error that says which
 * operation failed: TransportUnavailableError (retryable) for a lost or
 * closed connection and for JetStream not answering (503), TimeoutError
 * for a timeout, NotFoundError for a missing stream, consumer or message
 * when `context.notFound` says what that means, ConflictError for a
 * wrong last sequence. A Switchyard error passes through unchanged.
 */
export function natsError(
  error: unknown,
  operation: string,
  context: NatsErrorContext = {},
): SwitchyardError {
  if (error instanceof SwitchyardError) return error;

  const cause = error instanceof Error ? error : new Error(String(error));
  const code = apiCode(error);
  const details: ErrorDetails = { provider: PROVIDER, ...context.details };
  const reason = describe(cause);

  if (code !== undefined) {
    details.providerCode = String(code);
    const missing =
      code === API_CODES.streamNotFound ||
      code === API_CODES.consumerNotFound ||
      code === API_CODES.noMessageFound;
    if (missing && context.notFound !== undefined) {
      const { kind, resource } = context.notFound;
      return new NotFoundError(kind, resource, { cause, details });
    }
    if (code === API_CODES.wrongLastSequence) {
      return new ConflictError(`cannot ${operation}: ${reason}`, {
        cause,
        details,
      });
    }
    return new SwitchyardError(`cannot ${operation}: ${reason}`, {
      cause,
      details,
    });
  }

  details.providerCode = providerCode(cause);
  if (isTimeout(cause)) {
    const timeoutMs = context.timeoutMs ?? 0;
    return new TimeoutError(
      `cannot ${operation}: no answer from the nats server in time`,
      timeoutMs,
      { cause, details },
    );
  }
  if (isUnavailable(cause)) {
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

/** Whether `error` is a request that nobody (here, JetStream) answered. */
export function isNoResponders(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'NoRespondersError') return true;
  const request = error as { isNoResponders?: () => boolean };
  if (typeof request.isNoResponders === 'function') {
    return request.isNoResponders();
  }
  return error.cause !== undefined && isNoResponders(error.cause);
}

/** Whether `error` is a timeout of the client. */
export function isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'TimeoutError') return true;
  if (error.name === 'RequestError' && !isNoResponders(error)) {
    return error.cause !== undefined && isTimeout(error.cause);
  }
  return false;
}

function isUnavailable(error: Error): boolean {
  return (
    isNoResponders(error) ||
    [
      'ConnectionError',
      'ClosedConnectionError',
      'DrainingConnectionError',
      'JetStreamNotEnabled',
    ].includes(error.name)
  );
}

/** The code NATS gave `error`: 503, a status code, or the error's name. */
function providerCode(error: Error): string {
  if (isNoResponders(error)) return '503';
  const status = (error as { code?: unknown }).code;
  if (typeof status === 'number' || typeof status === 'string') {
    return String(status);
  }
  return error.name;
}

function describe(error: Error): string {
  if (isNoResponders(error)) {
    return 'no responders (503): JetStream is not enabled or not reachable';
  }
  return error.message === '' ? error.name : error.message;
}

/** A key-value or object bucket, for the errors of its operations. */
export interface BucketRef {
  kind: 'kv-bucket' | 'object-bucket';
  bucket: string;
}

/**
 * `error` of `operation` on `key` (or the whole bucket) as a Switchyard
 * error. JetStream answers 503 when no stream takes the bucket's
 * subjects: the bucket was deleted while open, a NotFoundError.
 */
export function bucketError(
  ref: BucketRef,
  error: unknown,
  operation: string,
  key?: string,
): SwitchyardError {
  const { kind, bucket } = ref;
  const details = key === undefined ? { bucket } : { bucket, key };
  if (isNoResponders(error)) return notFound(kind, bucket, details);
  return natsError(error, `${operation} in bucket '${bucket}'`, {
    details,
    notFound: { kind, resource: bucket },
  });
}

/** Runs `work`, its failure mapped by {@link bucketError}. */
export async function inBucket<T>(
  ref: BucketRef,
  operation: string,
  key: string | undefined,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw bucketError(ref, error, operation, key);
  }
}
