/**
 * Validation with any Standard Schema (zod, valibot, arktype...), sync or
 * async, turning its issues into one `ValidationError` that names the field.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ValidationError } from './errors.ts';

/** One problem a schema reported, with its dotted path. */
export interface SchemaIssue {
  /** E.g. `data.blocks.0.hash`; the root alone when the issue has no path. */
  path: string;
  message: string;
}

/**
 * Validates `value` against `schema` and resolves with the schema's output
 * (which may differ from the input when the schema transforms).
 *
 * On failure, rejects with a `ValidationError` whose message starts with
 * the first issue (`data.blocks.0.hash: expected string`), whose `field` is
 * that issue's path and whose `issues` list every issue. Paths start with
 * `root` (default `data`). A schema that throws is reported the same way,
 * with the thrown error as `cause`.
 *
 * @example
 * const event = await validateSchema(z.object({ id: z.string() }), input);
 */
export async function validateSchema<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
  root = 'data',
): Promise<T> {
  let result: StandardSchemaV1.Result<T>;
  try {
    result = await schema['~standard'].validate(value);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new ValidationError(`${root}: schema failed: ${message}`, {
      cause,
      field: root,
      issues: [{ path: root, message }],
    });
  }

  if (result.issues === undefined) return result.value;

  throw schemaError(result.issues, root);
}

/** Builds the error for a schema's issues. */
export function schemaError(
  issues: readonly StandardSchemaV1.Issue[],
  root = 'data',
): ValidationError {
  const listed: SchemaIssue[] = issues.map((issue) => ({
    path: issuePath(issue, root),
    message: issue.message,
  }));
  const first = listed[0] ?? { path: root, message: 'invalid' };
  const more =
    listed.length > 1
      ? ` (and ${listed.length - 1} more issue${listed.length > 2 ? 's' : ''})`
      : '';

  return new ValidationError(`${first.path}: ${first.message}${more}`, {
    field: first.path,
    issues: listed,
  });
}

function issuePath(issue: StandardSchemaV1.Issue, root: string): string {
  const segments = (issue.path ?? []).map((segment) =>
    typeof segment === 'object' && segment !== null
      ? String(segment.key)
      : String(segment),
  );
  return [root, ...segments].join('.');
}
