/**
 * `defineFunction`: a handler bound to a trigger, checked when defined.
 */
import type { Message } from '../core/message.ts';
import type {
  BroadcastTrigger,
  ChannelTrigger,
  FunctionHandler,
  FunctionHook,
  FunctionOptions,
  ObjectEvent,
  ObjectsTrigger,
  RequestTrigger,
  ScheduleEvent,
  ScheduleTrigger,
  SwitchyardFunction,
  Trigger,
} from './types.ts';
import {
  assertCallable,
  assertFunctionName,
  assertFunctionOptions,
  assertTrigger,
} from './validate-function.ts';

/** What every function spec has besides its trigger and handler. */
export interface FunctionSpecBase extends FunctionOptions {
  /** Unique in its pipeline: 1 to 30 lowercase letters, digits, hyphens. */
  name: string;
  /** Runs once per instance before the trigger is bound. */
  onStart?: FunctionHook;
  /** Runs once per instance after the trigger is unbound at stop. */
  onStop?: FunctionHook;
  description?: string;
}

/** A function on a channel's group or on its broadcast. */
export interface ChannelFunctionSpec<T> extends FunctionSpecBase {
  trigger: ChannelTrigger | BroadcastTrigger;
  handler: FunctionHandler<Message<T>>;
}

/** A function on a timer. */
export interface ScheduleFunctionSpec extends FunctionSpecBase {
  trigger: ScheduleTrigger;
  handler: FunctionHandler<ScheduleEvent>;
}

/** A function on object writes and deletes. */
export interface ObjectsFunctionSpec extends FunctionSpecBase {
  trigger: ObjectsTrigger;
  handler: FunctionHandler<ObjectEvent>;
}

/** A function that answers requests: the returned value is the reply. */
export interface RequestFunctionSpec<Req, Res> extends FunctionSpecBase {
  trigger: RequestTrigger;
  handler: FunctionHandler<Req, Res>;
}

/** Any function spec. */
export type FunctionSpec =
  | ChannelFunctionSpec<unknown>
  | ScheduleFunctionSpec
  | ObjectsFunctionSpec
  | RequestFunctionSpec<unknown, unknown>;

/**
 * Defines a function: a handler, the trigger that runs it, and the options
 * of its delivery. The definition is plain, frozen data plus the handler,
 * so the local runner binds it and infra code reads its trigger and
 * options.
 *
 * The event type follows the trigger: a `Message<T>` for channel and
 * broadcast triggers (`T` from the handler's annotation), a
 * `ScheduleEvent`, an `ObjectEvent`, or the request's data.
 *
 * Throws a `ValidationError` naming the field (`name`, `trigger.channel`,
 * `trigger.group`, `trigger.everyMs`, `concurrency`, `handler`...) and the
 * value when the definition is invalid.
 *
 * Defaults, applied by the runner: `guarantee` at-least-once,
 * `concurrency` 1, `maxAttempts` 5, `leaseMs` 30000.
 *
 * @example
 * ```ts
 * export const indexer = defineFunction({
 *   name: 'indexer',
 *   trigger: onChannel('kv-events', { group: 'indexer' }),
 *   guarantee: 'exactly-once',
 *   handler: async (message: Message<RouterEvent>, context) => {
 *     await applyEvent(context.switchyard, message.data);
 *   },
 * });
 * ```
 */
export function defineFunction<T = unknown>(
  spec: ChannelFunctionSpec<T>,
): SwitchyardFunction<Message<T>>;
export function defineFunction(
  spec: ScheduleFunctionSpec,
): SwitchyardFunction<ScheduleEvent>;
export function defineFunction(
  spec: ObjectsFunctionSpec,
): SwitchyardFunction<ObjectEvent>;
export function defineFunction<Req = unknown, Res = unknown>(
  spec: RequestFunctionSpec<Req, Res>,
): SwitchyardFunction<Req>;
export function defineFunction(spec: FunctionSpec): SwitchyardFunction {
  if (typeof spec !== 'object' || spec === null) {
    throw new TypeError('defineFunction needs a spec object');
  }
  const name = assertFunctionName(spec.name);
  const where = `function '${name}'`;
  const trigger = assertTrigger(spec.trigger, where);
  assertFunctionOptions(spec, where);
  assertCallable(spec.handler, 'handler', where, true);
  assertCallable(spec.onStart, 'onStart', where, false);
  assertCallable(spec.onStop, 'onStop', where, false);

  return Object.freeze({
    ...spec,
    name,
    trigger: freezeTrigger(trigger),
  }) as SwitchyardFunction;
}

function freezeTrigger(trigger: Trigger): Trigger {
  if (trigger.type === 'objects' && trigger.events !== undefined) {
    return Object.freeze({
      ...trigger,
      events: Object.freeze([...trigger.events]),
    });
  }
  return Object.freeze({ ...trigger });
}
