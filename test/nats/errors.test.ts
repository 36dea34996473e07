import { JetStreamApiError } from '@nats-io/jetstream';
import { errors } from '@nats-io/transport-node';
import { describe, expect, test } from 'vitest';
import {
  ConflictError,
  NotFoundError,
  SwitchyardError,
  TimeoutError,
  TransportUnavailableError,
} from '../../src/core/errors.ts';
import { natsError } from '../../src/providers/nats/errors.ts';

/** A JetStream API error as the server answers it. */
function apiError(errCode: number, code: number, description: string) {
  return new JetStreamApiError({ err_code: errCode, code, description });
}

describe('nats error mapping', () => {
  test('a missing stream is the not-found error the operation names', () => {
    const error = natsError(
      apiError(10059, 404, 'stream not found'),
      'open bucket',
      { notFound: { kind: 'kv-bucket', resource: 'workers' } },
    );

    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ kind: 'kv-bucket', resource: 'workers' });
    expect(error.details).toMatchObject({
      provider: 'nats',
      providerCode: '10059',
    });
  });

  test('a wrong last sequence is a conflict with the API code', () => {
    const error = natsError(
      apiError(10071, 400, 'wrong last sequence: 4'),
      'update a key',
    );

    expect(error).toBeInstanceOf(ConflictError);
    expect(error.details.providerCode).toBe('10071');
  });

  test('another API error keeps its code and description', () => {
    const error = natsError(
      apiError(10058, 400, 'stream name already in use'),
      'create a stream',
    );

    expect(error.constructor).toBe(SwitchyardError);
    expect(error.message).toBe(
      'cannot create a stream: stream name already in use',
    );
    expect(error.details.providerCode).toBe('10058');
  });

  test('no responders is a retryable unavailability with code 503', () => {
    const cause = new errors.RequestError('no responders', {
      cause: new errors.NoRespondersError('$JS.API.INFO'),
    });

    const error = natsError(cause, 'open JetStream');

    expect(error).toBeInstanceOf(TransportUnavailableError);
    expect(error.retryable).toBe(true);
    expect(error.details.providerCode).toBe('503');
  });

  test('a client timeout is a timeout error with the time allowed', () => {
    const error = natsError(new errors.TimeoutError(), 'read a key', {
      timeoutMs: 5000,
    });

    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(5000);
  });

  test('a closed connection is a retryable unavailability', () => {
    const error = natsError(new errors.ClosedConnectionError(), 'put a key');

    expect(error).toBeInstanceOf(TransportUnavailableError);
    expect(error.details.providerCode).toBe('ClosedConnectionError');
  });

  test('a Switchyard error passes through unchanged', () => {
    const original = new ConflictError('lost');

    expect(natsError(original, 'anything')).toBe(original);
  });
});
