/**
 * Checks of a pipeline definition as a whole. Every problem is a
 * `ConfigurationError` whose `field` is the dotted path of the problem in
 * the definition and whose `value` is the value found.
 */
import { ConfigurationError, ValidationError } from '../core/errors.ts';
import { assertName, type NameKind } from '../core/names.ts';
import type { PipelineSpec } from './define-pipeline.ts';
import type { Producer, SwitchyardFunction } from './types.ts';
import {
  assertCallable,
  assertFunctionName,
  assertFunctionOptions,
  assertTrigger,
} from './validate-function.ts';

/** Checks the spec's shape and name; returns the name. */
export function checkSpec(spec: PipelineSpec): string {
  if (typeof spec !== 'object' || spec === null) {
    throw new ConfigurationError('definePipeline needs a spec object', {
      field: 'pipeline',
      value: spec,
    });
  }
  const name = asConfiguration(
    'name',
    () => assertFunctionName(spec.name, 'pipeline'),
    true,
  );
  if (!Array.isArray(spec.functions)) {
    throw new ConfigurationError(
      `pipeline '${name}': functions must be a list of functions`,
      { field: 'functions', value: spec.functions },
    );
  }
  if (spec.check !== undefined && typeof spec.check !== 'function') {
    throw new ConfigurationError(
      `pipeline '${name}': check must be a function`,
      { field: 'check', value: typeof spec.check },
    );
  }

  return name;
}

/** Checks the names of declared channels or buckets; returns a copy. */
export function checkDeclarations<D extends object>(
  declarations: Record<string, D> | undefined,
  section: 'channels' | 'kv' | 'objects',
  kind: NameKind,
): Record<string, D> {
  if (declarations === undefined) return {};
  if (typeof declarations !== 'object' || declarations === null) {
    throw new ConfigurationError(`${section} must be an object by name`, {
      field: section,
      value: declarations,
    });
  }
  const copy: Record<string, D> = {};
  for (const [name, declaration] of Object.entries(declarations)) {
    const field = `${section}.${name}`;
    asConfiguration(field, () => assertName(kind, name), true);
    if (typeof declaration !== 'object' || declaration === null) {
      throw new ConfigurationError(`${field} must be an object`, {
        field,
        value: declaration,
      });
    }
    copy[name] = Object.freeze({ ...declaration });
  }

  return copy;
}

/**
 * Checks each function on its own, then against the others and the
 * declarations; returns the list.
 */
export function checkFunctions(
  functions: readonly SwitchyardFunction[],
  declared: { channels: object; objects: object },
): SwitchyardFunction[] {
  const names = new Set<string>();
  const groups = new Map<string, string>();
  const subjects = new Map<string, string>();

  for (const [index, fn] of functions.entries()) {
    const name = checkFunction(fn, index);
    const at = `functions.${name}`;
    if (names.has(name)) {
      throw new ConfigurationError(
        `${at}.name: function name '${name}' is used twice`,
        { field: `${at}.name`, value: name },
      );
    }
    names.add(name);

    const { trigger } = fn;
    if (trigger.type === 'channel' || trigger.type === 'broadcast') {
      mustBeDeclared(declared.channels, trigger.channel, at, 'channel');
    }
    if (trigger.type === 'objects') {
      mustBeDeclared(declared.objects, trigger.bucket, at, 'bucket');
    }
    if (trigger.type === 'channel') {
      const key = `${trigger.channel}/${trigger.group}`;
      unique(groups, key, name, `${at}.trigger.group`, trigger.group);
    }
    if (trigger.type === 'request') {
      const { subject } = trigger;
      unique(subjects, subject, name, `${at}.trigger.subject`, subject);
    }
  }

  return [...functions];
}

/** Checks producers: an object each, a valid unique name, a `run`. */
export function checkProducers(
  producers: readonly Producer[] | undefined,
): Producer[] {
  if (producers === undefined) return [];
  if (!Array.isArray(producers)) {
    throw new ConfigurationError('producers must be a list', {
      field: 'producers',
      value: producers,
    });
  }
  const names = new Set<string>();
  for (const [index, producer] of producers.entries()) {
    const name = asConfiguration(
      `producers.${index}.name`,
      () => assertFunctionName(producer?.name, 'producer'),
      true,
    );
    const at = `producers.${name}`;
    if (names.has(name)) {
      throw new ConfigurationError(
        `${at}.name: producer name '${name}' is used twice`,
        { field: `${at}.name`, value: name },
      );
    }
    names.add(name);
    asConfiguration(at, () =>
      assertCallable(producer.run, 'run', `producer '${name}'`, true),
    );
  }

  return [...producers];
}

function checkFunction(fn: SwitchyardFunction, index: number): string {
  if (typeof fn !== 'object' || fn === null) {
    throw new ConfigurationError(
      `functions.${index} must be a function made by defineFunction`,
      { field: `functions.${index}`, value: fn },
    );
  }
  const name = asConfiguration(`functions.${index}`, () =>
    assertFunctionName(fn.name),
  );
  const at = `functions.${name}`;
  const where = `function '${name}'`;
  asConfiguration(at, () => {
    assertTrigger(fn.trigger, where);
    assertFunctionOptions(fn, where);
    assertCallable(fn.handler, 'handler', where, true);
    assertCallable(fn.onStart, 'onStart', where, false);
    assertCallable(fn.onStop, 'onStop', where, false);
  });

  return name;
}

function mustBeDeclared(
  declarations: object,
  name: string,
  at: string,
  what: 'channel' | 'bucket',
): void {
  if (Object.hasOwn(declarations, name)) return;
  const section = what === 'channel' ? 'channels' : 'objects';
  const field = `${at}.trigger.${what}`;
  throw new ConfigurationError(
    `${field}: ${what} '${name}' is not declared in the pipeline's ${section}`,
    { field, value: name },
  );
}

function unique(
  seen: Map<string, string>,
  key: string,
  owner: string,
  field: string,
  value: string,
): void {
  const other = seen.get(key);
  if (other !== undefined) {
    throw new ConfigurationError(
      `${field}: '${value}' is already used by function '${other}'`,
      { field, value },
    );
  }
  seen.set(key, owner);
}

/**
 * Runs `check`, turning a `ValidationError` into a `ConfigurationError`
 * whose field is `prefix` followed by the error's own field, or `prefix`
 * alone when `exact`.
 */
function asConfiguration<T>(prefix: string, check: () => T, exact = false): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const own = exact ? undefined : error.field;
    const field = own === undefined ? prefix : `${prefix}.${own}`;
    const message = exact ? `${field}: ${error.message}` : error.message;
    throw new ConfigurationError(message, {
      field,
      value: error.value,
      cause: error,
      details: error.details,
    });
  }
}
