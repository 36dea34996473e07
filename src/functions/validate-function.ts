/**
 * Checks of a function's definition: its name, trigger, options and
 * handler, each refused with a `ValidationError` naming the field.
 */
import type { Guarantee } from '../core/channel.ts';
import { ValidationError } from '../core/errors.ts';
import { assertName, type NameKind } from '../core/names.ts';
import { assertSubject } from '../core/request-handle.ts';
import type { FunctionOptions, Trigger } from './types.ts';

const TRIGGER_TYPES: readonly Trigger['type'][] = [
  'channel',
  'broadcast',
  'schedule',
  'objects',
  'request',
];
const GUARANTEES: readonly Guarantee[] = [
  'at-most-once',
  'at-least-once',
  'exactly-once',
];
const OBJECT_EVENTS = ['put', 'delete'];

/**
 * Throws a `ValidationError` unless `name` is valid for a function or a
 * producer: 1 to 30 lowercase letters, digits and single hyphens,
 * starting with a letter, so that it can name a group, a Lambda function
 * or a Cloud Run service.
 */
export function assertFunctionName(
  name: unknown,
  what = 'function',
  field = 'name',
): string {
  return checkName('group', name, field, `${what} name`);
}

/** Throws a `ValidationError` naming the field unless `trigger` is valid. */
export function assertTrigger(trigger: unknown, where: string): Trigger {
  if (typeof trigger !== 'object' || trigger === null) {
    throw invalid(where, 'trigger', 'must be an object', trigger);
  }
  const t = trigger as Record<string, unknown>;
  if (!TRIGGER_TYPES.includes(t.type as Trigger['type'])) {
    const expected = `must be one of ${TRIGGER_TYPES.join(', ')}`;
    throw invalid(where, 'trigger.type', expected, t.type);
  }

  switch (t.type) {
    case 'channel':
      checkName('channel', t.channel, 'trigger.channel', where);
      checkName('group', t.group, 'trigger.group', where);
      break;
    case 'broadcast':
      checkName('channel', t.channel, 'trigger.channel', where);
      break;
    case 'schedule':
      positive(t.everyMs, 'trigger.everyMs', where);
      break;
    case 'objects':
      checkObjectsTrigger(t, where);
      break;
    case 'request':
      checkSubject(t.subject, where);
      break;
  }

  return trigger as Trigger;
}

/** Throws a `ValidationError` naming the option unless it is valid. */
export function assertFunctionOptions(
  options: FunctionOptions,
  where: string,
): void {
  const { guarantee, concurrency, maxAttempts, leaseMs, timeoutMs } = options;
  if (guarantee !== undefined && !GUARANTEES.includes(guarantee)) {
    const expected = `must be one of ${GUARANTEES.join(', ')}`;
    throw invalid(where, 'guarantee', expected, guarantee);
  }
  if (concurrency !== undefined) integer(concurrency, 'concurrency', where);
  if (maxAttempts !== undefined) integer(maxAttempts, 'maxAttempts', where);
  if (leaseMs !== undefined) positive(leaseMs, 'leaseMs', where);
  if (timeoutMs !== undefined) positive(timeoutMs, 'timeoutMs', where);
}

/** Throws a `ValidationError` unless `value` is a function or absent. */
export function assertCallable(
  value: unknown,
  field: string,
  where: string,
  required: boolean,
): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'function') {
    throw invalid(where, field, 'must be a function', typeof value);
  }
}

function checkObjectsTrigger(t: Record<string, unknown>, where: string): void {
  checkName('bucket', t.bucket, 'trigger.bucket', where);
  if (t.prefix !== undefined && typeof t.prefix !== 'string') {
    throw invalid(where, 'trigger.prefix', 'must be a string', t.prefix);
  }
  if (t.events !== undefined) {
    const events = t.events;
    if (
      !Array.isArray(events) ||
      events.length === 0 ||
      !events.every((e) => OBJECT_EVENTS.includes(e))
    ) {
      const expected = "must be a non-empty list of 'put' and 'delete'";
      throw invalid(where, 'trigger.events', expected, events);
    }
  }
  if (t.pollIntervalMs !== undefined) {
    positive(t.pollIntervalMs, 'trigger.pollIntervalMs', where);
  }
}

function checkName(
  kind: NameKind,
  name: unknown,
  field: string,
  where: string,
): string {
  try {
    return assertName(kind, name);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(`${where}: ${field}: ${error.message}`, {
      field,
      value: name,
      cause: error,
    });
  }
}

function checkSubject(subject: unknown, where: string): void {
  try {
    assertSubject(subject);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(`${where}: trigger.subject: ${error.message}`, {
      field: 'trigger.subject',
      value: subject,
      cause: error,
    });
  }
}

function positive(value: unknown, field: string, where: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(where, field, 'must be a number of ms above 0', value);
  }
}

function integer(value: unknown, field: string, where: string): void {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw invalid(where, field, 'must be an integer >= 1', value);
  }
}

function invalid(
  where: string,
  field: string,
  expected: string,
  value: unknown,
): ValidationError {
  const shown = JSON.stringify(value) ?? String(value);
  return new ValidationError(`${where}: ${field} ${expected}, got ${shown}`, {
    field,
    value,
  });
}
