import { describe, expect, it } from 'vitest';
import type { Codec } from '../../../src/core/codec.ts';
import {
  codecForContentType,
  jsonCodec,
  msgpackCodec,
  rawCodec,
  resolveCodec,
} from '../../../src/core/codecs.ts';
import {
  ConfigurationError,
  DecodeError,
  ValidationError,
} from '../../../src/core/errors.ts';

const routerEvent = () => ({
  workerId: 7,
  eventId: 'evt-1',
  stored: [{ hash: 'a1', parent: null }],
  removed: ['b2'],
  cleared: false,
});

describe('jsonCodec', () => {
  it('round-trips a JSON value', () => {
    const event = routerEvent();

    const decoded = jsonCodec.decode(jsonCodec.encode(event));

    expect(decoded).toEqual(event);
  });

  it('refuses a BigInt with a ValidationError', () => {
    expect(() => jsonCodec.encode({ n: 1n })).toThrow(ValidationError);
  });

  it('refuses a cycle with a ValidationError', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;

    expect(() => jsonCodec.encode(cyclic)).toThrow(ValidationError);
  });

  it('refuses undefined and functions at the top level', () => {
    expect(() => jsonCodec.encode(undefined)).toThrow(ValidationError);
    expect(() => jsonCodec.encode(() => 1)).toThrow(ValidationError);
  });

  it('reports bytes that are not JSON as a DecodeError with the cause', () => {
    const bytes = new TextEncoder().encode('{not json');

    const error = catchError(() => jsonCodec.decode(bytes));

    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).cause).toBeInstanceOf(SyntaxError);
  });

  it('does not quote the payload in a decode error', () => {
    const bytes = new TextEncoder().encode('{secret-token');

    const error = catchError(() => jsonCodec.decode(bytes));

    expect((error as Error).message).toBe(
      '13 bytes are not valid JSON (error at position 1)',
    );
  });

  it('reports bytes that are not UTF-8 as a DecodeError', () => {
    expect(() => jsonCodec.decode(new Uint8Array([0xff, 0xfe]))).toThrow(
      DecodeError,
    );
  });
});

describe('msgpackCodec', () => {
  it('round-trips a value with binary fields', () => {
    const value = { hash: new Uint8Array([1, 2, 3]), count: 3 };

    const decoded = msgpackCodec.decode(msgpackCodec.encode(value));

    expect(decoded).toEqual(value);
  });

  it('refuses a function with a ValidationError', () => {
    expect(() => msgpackCodec.encode({ f: () => 1 })).toThrow(ValidationError);
  });

  it('refuses a cycle with a ValidationError', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;

    expect(() => msgpackCodec.encode(cyclic)).toThrow(ValidationError);
  });

  it('reports malformed bytes as a DecodeError', () => {
    expect(() => msgpackCodec.decode(new Uint8Array([0xc1]))).toThrow(
      DecodeError,
    );
  });
});

describe('rawCodec', () => {
  it('passes bytes through unchanged', () => {
    const bytes = new Uint8Array([9, 8, 7]);

    const decoded = rawCodec.decode(rawCodec.encode(bytes));

    expect(decoded).toEqual(bytes);
  });

  it('refuses anything that is not a Uint8Array', () => {
    const error = catchError(() =>
      rawCodec.encode('text' as unknown as Uint8Array),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain('string');
  });
});

describe('resolveCodec', () => {
  it('defaults to JSON and resolves the built-in names', () => {
    expect(resolveCodec()).toBe(jsonCodec);
    expect(resolveCodec('json')).toBe(jsonCodec);
    expect(resolveCodec('msgpack')).toBe(msgpackCodec);
    expect(resolveCodec('raw')).toBe(rawCodec);
  });

  it('returns a custom codec as given', () => {
    const custom = upperCaseCodec();

    expect(resolveCodec(custom)).toBe(custom);
  });

  it('refuses an unknown codec name with a ConfigurationError', () => {
    expect(() => resolveCodec('yaml' as 'json')).toThrow(ConfigurationError);
  });
});

describe('codecForContentType', () => {
  it('picks the codec by media type, ignoring parameters and case', () => {
    expect(codecForContentType('Application/JSON; charset=utf-8')).toBe(
      jsonCodec,
    );
    expect(codecForContentType('application/vnd.router+json')).toBe(jsonCodec);
    expect(codecForContentType('application/x-msgpack')).toBe(msgpackCodec);
    expect(codecForContentType('application/octet-stream')).toBe(rawCodec);
  });

  it('prefers the given codec when it reads the content type', () => {
    const custom = upperCaseCodec();

    expect(codecForContentType('text/upper', custom)).toBe(custom);
  });

  it('reports an unknown content type as a DecodeError naming it', () => {
    const error = catchError(() => codecForContentType('text/csv'));

    expect(error).toBeInstanceOf(DecodeError);
    expect((error as Error).message).toContain('text/csv');
  });
});

function upperCaseCodec(): Codec<string> {
  return {
    name: 'upper',
    contentType: 'text/upper',
    encode: (value) => new TextEncoder().encode(value.toUpperCase()),
    decode: (bytes) => new TextDecoder().decode(bytes),
  };
}

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
