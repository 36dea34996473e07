import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../../../src/core/errors.ts';
import { validateSchema } from '../../../src/core/schema.ts';

const RouterEvent = z.object({
  workerId: z.number(),
  blocks: z.array(z.object({ hash: z.string() })),
});

describe('validateSchema', () => {
  it('resolves with the schema output when the data is valid', async () => {
    const data = { workerId: 1, blocks: [{ hash: 'a' }] };

    const output = await validateSchema(RouterEvent, data);

    expect(output).toEqual(data);
  });

  it('names the field path of the failure in the message', async () => {
    const data = { workerId: 1, blocks: [{ hash: 'a' }, { hash: 42 }] };

    const error = await validateSchema(RouterEvent, data).catch((e) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/^data\.blocks\.1\.hash: .*expected string/);
    expect(error.field).toBe('data.blocks.1.hash');
  });

  it('lists every issue when several fields fail', async () => {
    const data = { workerId: 'one', blocks: [{ hash: 2 }] };

    const error = await validateSchema(RouterEvent, data).catch((e) => e);

    expect(error.issues.map((i: { path: string }) => i.path)).toEqual([
      'data.workerId',
      'data.blocks.0.hash',
    ]);
    expect(error.message).toContain('and 1 more issue');
  });

  it('supports a schema that validates asynchronously', async () => {
    const schema = asyncSchema((value) =>
      typeof value === 'string'
        ? { value }
        : { issues: [{ message: 'expected string', path: [{ key: 'id' }] }] },
    );

    const error = await validateSchema(schema, 5).catch((e) => e);

    expect(await validateSchema(schema, 'ok')).toBe('ok');
    expect(error.message).toBe('data.id: expected string');
  });

  it('reports a schema that throws as a ValidationError with the cause', async () => {
    const failure = new Error('schema crashed');
    const schema = asyncSchema(() => {
      throw failure;
    });

    const error = await validateSchema(schema, 1).catch((e) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect(error.cause).toBe(failure);
  });
});

function asyncSchema(
  check: (value: unknown) => StandardSchemaV1.Result<string>,
): StandardSchemaV1<unknown, string> {
  return {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: async (value) => check(value),
    },
  };
}
