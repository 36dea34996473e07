/**
 * Properties of the built-in codecs and of the structured CloudEvents
 * envelope: what a codec accepts comes back equal, what it cannot carry
 * is a ValidationError, and any bytes either decode or are a DecodeError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Codec } from '../../src/core/codec.ts';
import {
  codecForContentType,
  jsonCodec,
  msgpackCodec,
  rawCodec,
  resolveCodec,
} from '../../src/core/codecs.ts';
import { decodeStructured, encodeStructured } from '../../src/core/envelope.ts';
import { DecodeError, ValidationError } from '../../src/core/errors.ts';
import type { WireMessage } from '../../src/core/message.ts';
import { RESERVED_ATTRIBUTES } from '../../src/core/names.ts';

const RUNS = { numRuns: 500 };
const utf8 = new TextEncoder();

const CODECS: readonly Codec<unknown>[] = [
  jsonCodec,
  msgpackCodec,
  rawCodec as Codec<unknown>,
];

/** Values with no JSON or MessagePack form, wherever they sit. */
const unencodable = fc.oneof(
  fc.bigInt(),
  fc.constant(() => 1),
  fc.string().map((text) => Symbol(text)),
);

/** Object keys MessagePack reads back: its decoder refuses `__proto__`. */
const plainKey = fc.string().filter((key) => key !== '__proto__');

/** Values MessagePack carries: JSON's, plus bytes, dates, NaN, infinity. */
const msgpackValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.double(),
    fc.string({ unit: 'grapheme' }),
    fc.uint8Array(),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(plainKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** How deep, and through which containers, a value is nested. */
const nesting = fc.array(
  fc.oneof(
    fc.constant<PathStep>({ kind: 'array' }),
    plainKey.map((key): PathStep => ({ kind: 'object', key })),
  ),
  { maxLength: 5 },
);

type PathStep = { kind: 'array' } | { kind: 'object'; key: string };

/** Attribute names a message may carry. */
const attributeName = fc
  .stringMatching(/^[a-z][a-z0-9]{0,39}$/)
  .filter((name) => !RESERVED_ATTRIBUTES.has(name));

const anyText = fc.string({ unit: 'binary' });

/** A body with the content type it is published under. */
const body = fc.oneof(
  fc.record({
    contentType: fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/vnd.switchyard+json',
    ),
    body: fc
      .jsonValue({ stringUnit: 'binary' })
      .map((value) => utf8.encode(JSON.stringify(value))),
  }),
  fc.record({
    contentType: fc.constantFrom(
      'application/octet-stream',
      'application/msgpack',
      'image/png',
    ),
    body: fc.uint8Array({ maxLength: 64 }),
  }),
);

const wireMessage: fc.Arbitrary<WireMessage> = fc
  .tuple(
    fc.record(
      {
        id: fc.string({ unit: 'binary', minLength: 1 }),
        channel: anyText,
        attributes: fc.dictionary(attributeName, anyText, { maxKeys: 5 }),
        publishedAt: fc
          .date({ noInvalidDate: true })
          .map((date) => date.getTime()),
        publisherId: anyText,
        sequence: fc.maxSafeNat(),
        orderingKey: anyText,
        traceparent: anyText,
        tracestate: anyText,
      },
      {
        requiredKeys: [
          'id',
          'channel',
          'attributes',
          'publishedAt',
          'publisherId',
          'sequence',
        ],
      },
    ),
    body,
  )
  .map(([fields, data]) => ({ ...fields, ...data }));

/** A JSON object shaped like an event, with fields of any JSON type. */
const eventLike = fc.record(
  {
    specversion: fc.oneof(fc.constant('1.0'), fc.jsonValue()),
    id: fc.oneof(anyText, fc.jsonValue()),
    source: fc.oneof(anyText, fc.jsonValue()),
    type: fc.oneof(anyText, fc.jsonValue()),
    time: fc.oneof(
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      fc.jsonValue(),
    ),
    datacontenttype: fc.oneof(anyText, fc.jsonValue()),
    data: fc.jsonValue(),
    data_base64: fc.oneof(fc.base64String(), fc.jsonValue()),
    sequence: fc.oneof(fc.nat().map(String), fc.jsonValue()),
    channel: fc.jsonValue(),
    publisherid: fc.jsonValue(),
    orderingkey: fc.jsonValue(),
    extension: fc.jsonValue(),
  },
  { requiredKeys: ['specversion'] },
);

describe('codec lookup', () => {
  it('reads every content type back with the codec that wrote it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('json', 'msgpack', 'raw' as const),
        fc.constantFrom('', '; charset=utf-8', ' ; q=1'),
        fc.boolean(),
        (name, parameters, upper) => {
          const codec = resolveCodec(name);
          const type = `${codec.contentType}${parameters}`;

          const found = codecForContentType(upper ? type.toUpperCase() : type);

          expect(found).toBe(codec);
        },
      ),
    );
  });

  it('finds a codec for a content type or says none reads it', () => {
    fc.assert(
      fc.property(anyText, (contentType) => {
        const outcome = attempt(() => codecForContentType(contentType));

        if (outcome.ok) expect(CODECS).toContain(outcome.value);
        else expect(outcome.error).toBeInstanceOf(DecodeError);
      }),
      RUNS,
    );
  });
});

describe('the JSON codec', () => {
  it('decodes every JSON value it encoded, -0 as 0', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (value) => {
        const decoded = jsonCodec.decode(jsonCodec.encode(value));

        expect(decoded).toEqual(withoutNegativeZero(value));
      }),
      RUNS,
    );
  });

  it('refuses a BigInt anywhere in the value', () => {
    fc.assert(
      fc.property(fc.bigInt(), nesting, (big, path) => {
        const error = attempt(() => jsonCodec.encode(nest(big, path)));

        expectValidationError(error);
      }),
      RUNS,
    );
  });

  it('refuses undefined, a function or a symbol as the whole value', () => {
    fc.assert(
      fc.property(
        fc.oneof(unencodable.filter(isNotBigInt), fc.constant(undefined)),
        (value) => {
          expectValidationError(attempt(() => jsonCodec.encode(value)));
        },
      ),
    );
  });

  it('refuses a value that contains itself', () => {
    fc.assert(
      fc.property(fc.jsonValue(), nesting, (value, path) => {
        const cyclic = cycle(value, path);

        expectValidationError(attempt(() => jsonCodec.encode(cyclic)));
      }),
      RUNS,
    );
  });
});

describe('the MessagePack codec', () => {
  it('decodes every value it encoded, -0 as 0', () => {
    fc.assert(
      fc.property(msgpackValue, (value) => {
        const decoded = msgpackCodec.decode(msgpackCodec.encode(value));

        expect(decoded).toEqual(withoutNegativeZero(value));
      }),
      RUNS,
    );
  });

  it('refuses a BigInt, a function or a symbol anywhere in the value', () => {
    fc.assert(
      fc.property(unencodable, nesting, (bad, path) => {
        const error = attempt(() => msgpackCodec.encode(nest(bad, path)));

        expectValidationError(error);
      }),
      RUNS,
    );
  });

  it('refuses a value that contains itself', () => {
    fc.assert(
      fc.property(msgpackValue, nesting, (value, path) => {
        const cyclic = cycle(value, path);

        expectValidationError(attempt(() => msgpackCodec.encode(cyclic)));
      }),
      RUNS,
    );
  });

  it('decodes a cut or altered encoding or reports a DecodeError', () => {
    fc.assert(
      fc.property(
        msgpackValue,
        fc.nat(),
        fc.nat({ max: 255 }),
        fc.boolean(),
        (value, at, byte, cut) => {
          const bytes = msgpackCodec.encode(value).slice();
          const index = at % bytes.length;
          if (!cut) bytes[index] = byte;

          expectDecodedOrDecodeError(() =>
            msgpackCodec.decode(cut ? bytes.subarray(0, index) : bytes),
          );
        },
      ),
      RUNS,
    );
  });
});

describe('the raw codec', () => {
  it('passes bytes through as they are', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.boolean(), (bytes, asBuffer) => {
        const value = asBuffer ? Buffer.from(bytes) : bytes;

        const decoded = rawCodec.decode(rawCodec.encode(value));

        expect(decoded).toEqual(value);
      }),
      RUNS,
    );
  });

  it('refuses anything that is not a Uint8Array', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), unencodable, fc.constant(undefined)),
        (value) => {
          fc.pre(!(value instanceof Uint8Array));

          const error = attempt(() =>
            rawCodec.encode(value as unknown as Uint8Array),
          );

          expectValidationError(error);
        },
      ),
      RUNS,
    );
  });
});

describe('decoding any bytes', () => {
  it('gives a value or a DecodeError with every codec', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CODECS),
        fc.oneof(
          fc.uint8Array(),
          fc.jsonValue().map((value) => utf8.encode(JSON.stringify(value))),
          fc.string({ unit: 'binary' }).map((text) => utf8.encode(text)),
        ),
        (codec, bytes) => {
          expectDecodedOrDecodeError(() => codec.decode(bytes));
        },
      ),
      RUNS,
    );
  });
});

describe('the structured envelope', () => {
  it('gives back the message it carried', () => {
    fc.assert(
      fc.property(wireMessage, (message) => {
        const decoded = decodeStructured(encodeStructured(message));

        expect(decoded).toEqual(message);
      }),
      RUNS,
    );
  });

  it('reads any bytes as a message or reports a DecodeError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array(),
          fc.jsonValue().map((value) => utf8.encode(JSON.stringify(value))),
          eventLike.map((event) => utf8.encode(JSON.stringify(event))),
        ),
        (bytes) => {
          expectDecodedOrDecodeError(() => decodeStructured(bytes));
        },
      ),
      RUNS,
    );
  });
});

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

function attempt(work: () => unknown): Outcome {
  try {
    return { ok: true, value: work() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A ValidationError of an encoder, which is never a DecodeError. */
function expectValidationError(outcome: Outcome): void {
  expect(outcome.ok).toBe(false);
  if (outcome.ok) return;
  expect(outcome.error).toBeInstanceOf(ValidationError);
  expect(outcome.error).not.toBeInstanceOf(DecodeError);
}

function expectDecodedOrDecodeError(work: () => unknown): void {
  const outcome = attempt(work);
  if (!outcome.ok) expect(outcome.error).toBeInstanceOf(DecodeError);
}

function isNotBigInt(value: unknown): boolean {
  return typeof value !== 'bigint';
}

/** `value` placed inside containers along `path`, outermost first. */
function nest(value: unknown, path: readonly PathStep[]): unknown {
  return path.reduceRight<unknown>(
    (inner, step) => (step.kind === 'array' ? [inner] : { [step.key]: inner }),
    value,
  );
}

/** `value` inside containers along `path`, the innermost one pointing back. */
function cycle(value: unknown, path: readonly PathStep[]): unknown {
  const root: Record<string, unknown> = { value };
  let innermost: unknown[] | Record<string, unknown> = root;
  for (const step of path) {
    const next: unknown[] | Record<string, unknown> =
      step.kind === 'array' ? [] : {};
    if (Array.isArray(innermost)) innermost.push(next);
    else innermost.next = next;
    innermost = next;
  }
  if (Array.isArray(innermost)) innermost.push(root);
  else innermost.back = root;

  return root;
}

/** The value as a codec without a negative zero gives it back. */
function withoutNegativeZero(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(withoutNegativeZero);
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        withoutNegativeZero(inner),
      ]),
    );
  }
  return value;
}

/** An object literal or dictionary, with or without a prototype. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
