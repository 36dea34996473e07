/**
 * Errors of the Lambda adapter: an event it cannot read, and a batch of
 * an asynchronous trigger (SNS, S3) in which some records failed.
 */
import { SwitchyardError, ValidationError } from '../../core/errors.ts';

/**
 * The event a Lambda handler received cannot be read at all, or is of a
 * kind the function's trigger does not take and that has no per-record
 * failure report. `value` describes what was received.
 */
export class LambdaEventError extends ValidationError {
  override readonly code = 'LAMBDA_EVENT';
}

/** One record of a batch that was not handled, and why. */
export interface RecordFailure {
  /** The record's message id, or the object's name. */
  id: string;
  reason: string;
}

/**
 * Some records of an asynchronously invoked batch (SNS, S3) failed.
 * Thrown so that Lambda retries the invocation and, after its last
 * retry, hands the event to the function's on-failure destination.
 */
export class LambdaBatchError extends SwitchyardError {
  override readonly code = 'LAMBDA_BATCH';
  override readonly retryable = true;
  readonly failures: readonly RecordFailure[];

  constructor(
    what: string,
    failures: readonly RecordFailure[],
    options: { total: number; function: string },
  ) {
    const first = failures[0];
    super(
      `${failures.length} of ${options.total} ${what} failed in function '${options.function}'; first: ${first?.id}: ${first?.reason}`,
      { details: { function: options.function } },
    );
    this.failures = failures;
  }
}

/** A short description of a received value, for error messages. */
export function describeReceived(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== 'object') return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const keys = Object.keys(value).slice(0, 6);
  return `an object with keys ${keys.length > 0 ? keys.join(', ') : '(none)'}`;
}
