/**
 * Errors raised by Switchyard. Every error is a {@link SwitchyardError};
 * callers branch on the subclass (`instanceof`) or on `code`, never on the
 * message text. Messages say what failed, why, and the value received.
 */

/** Identifiers attached to an error: what it concerns. */
export interface ErrorDetails {
  /** Provider that raised it, e.g. `local`, `nats`, `aws`. */
  provider?: string;
  /** The provider's own error code, when it gave one. */
  providerCode?: string;
  channel?: string;
  group?: string;
  bucket?: string;
  key?: string;
  messageId?: string;
  [name: string]: unknown;
}

/** Options common to every Switchyard error. */
export interface SwitchyardErrorOptions {
  cause?: unknown;
  details?: ErrorDetails;
}

/** Base class of every error Switchyard raises. */
export class SwitchyardError extends Error {
  /** Stable, machine-readable code, e.g. `CONFLICT`. */
  readonly code: string = 'SWITCHYARD_ERROR';
  /** Whether repeating the same operation later may succeed. */
  readonly retryable: boolean = false;
  readonly details: ErrorDetails;

  constructor(message: string, options: SwitchyardErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }
}

/** A configuration value is missing, malformed or not allowed. */
export class ConfigurationError extends SwitchyardError {
  override readonly code: string = 'CONFIGURATION';
  /** Dotted path of the field, e.g. `providers.local.dataDir`. */
  readonly field: string | undefined;
  /** The value that was received. */
  readonly value: unknown;

  constructor(
    message: string,
    options: SwitchyardErrorOptions & { field?: string; value?: unknown } = {},
  ) {
    super(message, options);
    this.field = options.field;
    this.value = options.value;
  }
}

/**
 * The chosen provider cannot give what was asked of it (ordering, broadcast,
 * watch...). Raised when the channel, bucket or subscription is set up,
 * never at the first message.
 */
export class CapabilityError extends ConfigurationError {
  override readonly code = 'CAPABILITY';
  /** The feature that was asked for. */
  readonly feature: string;

  constructor(
    message: string,
    options: SwitchyardErrorOptions & { feature: string },
  ) {
    super(message, { ...options, field: options.feature });
    this.feature = options.feature;
  }
}

/** What a {@link NotFoundError} refers to. */
export type ResourceKind =
  | 'channel'
  | 'consumer'
  | 'kv-bucket'
  | 'key'
  | 'object-bucket'
  | 'object'
  | 'provider'
  | 'dead-letter';

/** A channel, bucket, key, object, consumer or provider does not exist. */
export class NotFoundError extends SwitchyardError {
  override readonly code = 'NOT_FOUND';
  readonly kind: ResourceKind;
  readonly resource: string;

  constructor(
    kind: ResourceKind,
    resource: string,
    options: SwitchyardErrorOptions & { message?: string } = {},
  ) {
    super(options.message ?? `${kind} '${resource}' does not exist`, options);
    this.kind = kind;
    this.resource = resource;
  }
}

/**
 * A conditional write lost: the key already exists, the revision or etag no
 * longer matches, or an idempotency record is held by someone else.
 */
export class ConflictError extends SwitchyardError {
  override readonly code = 'CONFLICT';
  /** The revision (or etag) the caller expected, if any. */
  readonly expected: string | undefined;
  /** The revision (or etag) found, when the provider reports it. */
  readonly actual: string | undefined;

  constructor(
    message: string,
    options: SwitchyardErrorOptions & {
      expected?: string;
      actual?: string;
    } = {},
  ) {
    super(message, options);
    this.expected = options.expected;
    this.actual = options.actual;
  }
}

/** A payload is larger than the transport accepts. */
export class PayloadTooLargeError extends SwitchyardError {
  override readonly code = 'PAYLOAD_TOO_LARGE';
  /** Size of the payload, in bytes. */
  readonly size: number;
  /** Largest size the transport accepts, in bytes. */
  readonly limit: number;

  /**
   * `what` names the payload (default `payload`); `hint`, when given, is
   * appended to say how the payload could be carried.
   */
  constructor(
    size: number,
    limit: number,
    options: SwitchyardErrorOptions & { what?: string; hint?: string } = {},
  ) {
    super(
      `${options.what ?? 'payload'} is ${size} bytes, over the limit of ${limit} bytes${options.hint === undefined ? '' : `: ${options.hint}`}`,
      options,
    );
    this.size = size;
    this.limit = limit;
  }
}

/** Data does not match its schema, a name pattern or an expected shape. */
export class ValidationError extends SwitchyardError {
  override readonly code: string = 'VALIDATION';
  /** Path of the offending field, e.g. `data.items.0.price`. */
  readonly field: string | undefined;
  readonly value: unknown;
  /** Individual problems, when a schema reported several. */
  readonly issues: readonly { path: string; message: string }[];

  constructor(
    message: string,
    options: SwitchyardErrorOptions & {
      field?: string;
      value?: unknown;
      issues?: readonly { path: string; message: string }[];
    } = {},
  ) {
    super(message, options);
    this.field = options.field;
    this.value = options.value;
    this.issues = options.issues ?? [];
  }
}

/** Bytes could not be decoded by a codec, or an envelope is malformed. */
export class DecodeError extends ValidationError {
  override readonly code = 'DECODE';
}

/** The transport cannot be reached now; the operation may be retried. */
export class TransportUnavailableError extends SwitchyardError {
  override readonly code = 'TRANSPORT_UNAVAILABLE';
  override readonly retryable = true;
}

/** A request got no reply within its timeout, or an operation timed out. */
export class TimeoutError extends SwitchyardError {
  override readonly code = 'TIMEOUT';
  override readonly retryable = true;
  readonly timeoutMs: number;

  constructor(
    message: string,
    timeoutMs: number,
    options: SwitchyardErrorOptions = {},
  ) {
    super(message, options);
    this.timeoutMs = timeoutMs;
  }
}

/** A request found nobody serving its subject. */
export class NoRespondersError extends SwitchyardError {
  override readonly code = 'NO_RESPONDERS';
  override readonly retryable = true;
}

/** A request's server answered with an error. */
export class RemoteError extends SwitchyardError {
  override readonly code = 'REMOTE';
  /** Name of the error class thrown by the server's handler. */
  readonly remoteName: string;

  constructor(
    message: string,
    remoteName: string,
    options: SwitchyardErrorOptions = {},
  ) {
    super(message, options);
    this.remoteName = remoteName;
  }
}

/** An operation was attempted on a closed client, subscription or bucket. */
export class ClosedError extends SwitchyardError {
  override readonly code = 'CLOSED';
}

/**
 * Thrown by a handler to say the message can never succeed: it goes to the
 * dead-letter channel at once, without further attempts.
 */
export class PermanentError extends SwitchyardError {
  override readonly code: string = 'PERMANENT';
}

/**
 * Thrown by a handler to ask for the message again after `delayMs`, without
 * it counting as a failure in the logs. It still counts as an attempt.
 */
export class RetryLaterError extends SwitchyardError {
  override readonly code = 'RETRY_LATER';
  override readonly retryable = true;
  readonly delayMs: number;

  constructor(delayMs: number, message = `retry in ${delayMs} ms`) {
    super(message);
    this.delayMs = delayMs;
  }
}

/** Whether `error` says the same operation may succeed if repeated. */
export function isRetryable(error: unknown): boolean {
  return error instanceof SwitchyardError && error.retryable;
}
