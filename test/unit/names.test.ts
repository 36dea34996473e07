import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.ts';
import {
  assertAttributes,
  assertKey,
  assertKeyPrefix,
  assertMessageId,
  assertName,
  assertObjectName,
} from '../../src/core/names.ts';

function refusal(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('names valid on every provider', () => {
  it.each(['kv-events', 'abc', 'a1-b2-c3', 'x'.repeat(40)])(
    'accepts channel name %s',
    (name) => {
      expect(assertName('channel', name)).toBe(name);
    },
  );

  it.each([
    'ab',
    'Orders',
    '1orders',
    'orders-',
    'or--ders',
    'or_ders',
    'or.ders',
    'x'.repeat(41),
    '',
  ])('refuses channel name %j and quotes it', (name) => {
    const error = refusal(() => assertName('channel', name));

    expect(error.value).toBe(name);
    expect(error.message).toContain(JSON.stringify(name));
  });

  it('accepts a one-letter group but not a group of 31 characters', () => {
    expect(assertName('group', 'g')).toBe('g');
    refusal(() => assertName('group', 'g'.repeat(31)));
  });

  it('accepts dotted keys and refuses empty parts and other characters', () => {
    expect(assertKey('worker.12.blocks')).toBe('worker.12.blocks');
    expect(assertKey('A_b-c=d')).toBe('A_b-c=d');
    for (const key of ['', '.a', 'a.', 'a..b', 'a b', 'a/b', 'a*']) {
      refusal(() => assertKey(key));
    }
  });

  it('accepts a key prefix that ends with a dot', () => {
    expect(assertKeyPrefix('worker.')).toBe('worker.');
    expect(assertKeyPrefix('')).toBe('');
    refusal(() => assertKeyPrefix('a..'));
  });

  it('accepts object paths and refuses traversal', () => {
    expect(assertObjectName('snapshots/2026/12/index.json')).toBe(
      'snapshots/2026/12/index.json',
    );
    for (const name of ['', '/a', 'a/', 'a//b', '../a', 'a/./b', 'a b']) {
      refusal(() => assertObjectName(name));
    }
  });

  it('refuses reserved and badly formed attribute names', () => {
    expect(assertAttributes({ tenant: 'a', region2: 'b' })).toEqual({
      tenant: 'a',
      region2: 'b',
    });
    expect(refusal(() => assertAttributes({ id: 'x' })).field).toBe(
      'attributes.id',
    );
    refusal(() => assertAttributes({ 'Content-Type': 'x' }));
    refusal(() => assertAttributes({ tenant: 7 }));
  });

  it('accepts message ids up to 128 characters', () => {
    expect(assertMessageId('evt:1-a_b.c')).toBe('evt:1-a_b.c');
    refusal(() => assertMessageId('x'.repeat(129)));
    refusal(() => assertMessageId('a b'));
  });
});
