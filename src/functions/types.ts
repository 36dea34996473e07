/**
 * Functions and pipelines: handlers bound to triggers, and one pipeline
 * definition that the runtime binds and that infra code reads to declare
 * cloud resources. The same handler runs under the local runner, and later
 * under the AWS Lambda, Cloud Run functions and Azure Functions adapters,
 * with the same event shape.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { BackoffOptions, Guarantee } from '../core/channel.ts';
import type { CodecOption } from '../core/codec.ts';
import type { Logger } from '../core/logger.ts';
import type { Message } from '../core/message.ts';
import type { ObjectInfo } from '../core/provider.ts';
import type { Switchyard } from '../core/switchyard.ts';
import type { PipelineStats } from './stats.ts';

/** What starts a function. */
export type Trigger =
  /** Messages of a channel, as one member of a worker group. */
  | { type: 'channel'; channel: string; group: string }
  /** Messages of a channel, on every live instance. */
  | { type: 'broadcast'; channel: string }
  /** A timer: every `everyMs`, first after `everyMs`. */
  | { type: 'schedule'; everyMs: number }
  /** Writes and deletes of objects in a bucket, optionally under a prefix. */
  | {
      type: 'objects';
      bucket: string;
      prefix?: string;
      events?: readonly ('put' | 'delete')[];
      /**
       * How often the local runner lists the bucket to find changes, in
       * ms. Default 1000.
       */
      pollIntervalMs?: number;
    }
  /** Requests on a subject: the function's return value is the reply. */
  | { type: 'request'; subject: string };

/** The event a schedule trigger passes. */
export interface ScheduleEvent {
  /** When this run was due. */
  scheduledAt: Date;
}

/** The event an objects trigger passes. */
export interface ObjectEvent {
  type: 'put' | 'delete';
  bucket: string;
  name: string;
  /** The object's metadata after a put. */
  info?: ObjectInfo;
}

/** The event each kind of trigger passes to the handler. */
export type TriggerEvent<T, K extends Trigger['type']> = K extends
  | 'channel'
  | 'broadcast'
  ? Message<T>
  : K extends 'schedule'
    ? ScheduleEvent
    : K extends 'objects'
      ? ObjectEvent
      : T;

/** What a function's handler receives besides its event. */
export interface FunctionContext {
  /** The function's name. */
  readonly name: string;
  /** 1 on the first delivery of a message; 1 for other triggers. */
  readonly attempt: number;
  /** Aborted when the pipeline stops past its deadline. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /**
   * Channel triggers, where the runner offers it: keeps the message
   * leased for `ms` more from now (default: the function's lease).
   * Throws a CapabilityError when the transport cannot, as on Lambda
   * without the adapter's `sqs` option. Absent for other triggers.
   */
  extendLease?(ms?: number): Promise<void>;
  /**
   * The client the function runs on: publish, key-value, objects,
   * request/reply. Publishes through it are counted in the run's stats.
   */
  readonly switchyard: Switchyard;
  /**
   * The counters of the pipeline as it runs on this instance (under the
   * local runner: this process), e.g. for a stats function to report.
   */
  stats(): PipelineStats;
}

/** Options of a function that a trigger may use. */
export interface FunctionOptions {
  /** Channel triggers: default `at-least-once`. */
  guarantee?: Guarantee;
  /** Handlers running at once. Default 1. */
  concurrency?: number;
  /** Channel triggers: attempts before dead-lettering. Default 5. */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** Channel triggers: the lease, in ms. Default 30000. */
  leaseMs?: number;
  /**
   * Largest run time the function needs, in ms (Lambda timeout). Read by
   * infra code; the local runner does not enforce it.
   */
  timeoutMs?: number;
}

/** A trigger on a channel's worker group. */
export type ChannelTrigger = Extract<Trigger, { type: 'channel' }>;
/** A trigger on every message of a channel, on every live instance. */
export type BroadcastTrigger = Extract<Trigger, { type: 'broadcast' }>;
/** A timer trigger. */
export type ScheduleTrigger = Extract<Trigger, { type: 'schedule' }>;
/** A trigger on writes and deletes in an object bucket. */
export type ObjectsTrigger = Extract<Trigger, { type: 'objects' }>;
/** A trigger on requests to a subject. */
export type RequestTrigger = Extract<Trigger, { type: 'request' }>;

/**
 * Handles one event. For channel triggers, returning acknowledges the
 * message and throwing retries it (a `RetryLaterError` after its delay, a
 * `PermanentError` never: it is dead-lettered at once). For a request
 * trigger, the returned value is the reply and a throw is sent back as a
 * `RemoteError`.
 */
export type FunctionHandler<E, R = unknown> = (
  event: E,
  context: FunctionContext,
) => R | Promise<R>;

/**
 * A hook run once per instance: `onStart` before the function's trigger is
 * bound (a throw fails `runPipeline`), `onStop` after it is unbound at
 * `stop()` (a throw is logged).
 */
export type FunctionHook = (context: FunctionContext) => void | Promise<void>;

/** A function: a handler bound to a trigger, with its options. */
export interface SwitchyardFunction<E = unknown> extends FunctionOptions {
  /** Unique in its pipeline; a group name pattern (`indexer`). */
  readonly name: string;
  readonly trigger: Trigger;
  /** Declared as a method so that functions of any event type mix. */
  handler(event: E, context: FunctionContext): unknown;
  readonly onStart?: FunctionHook;
  readonly onStop?: FunctionHook;
  /** What the function does, for humans and generated infra. */
  readonly description?: string;
}

/**
 * A simulated or real source of messages that the local runner starts with
 * the pipeline: `run` publishes through `context.switchyard` and resolves
 * when done. `idle()` waits for every producer to finish; `stop()` aborts
 * `context.signal` and waits for `run` to return.
 */
export interface Producer {
  /** Unique among the pipeline's producers; a group name pattern. */
  readonly name: string;
  run(context: FunctionContext): Promise<void>;
  readonly description?: string;
}

/** A channel as a pipeline declares it. */
export interface ChannelDeclaration {
  codec?: CodecOption;
  schema?: StandardSchemaV1;
  /** Deliver messages of one ordering key in order. */
  ordered?: boolean;
}

/** A key-value bucket as a pipeline declares it. */
export interface KvDeclaration {
  codec?: CodecOption;
  ttlMs?: number;
}

/** An object bucket as a pipeline declares it. */
export interface ObjectsDeclaration {
  /** Objects expire this long after their last write (lifecycle rule). */
  expireAfterMs?: number;
}

/** The result of a pipeline's own check of its state. */
export interface CheckResult {
  ok: boolean;
  /** What was compared, for humans. */
  summary: string;
  details?: Record<string, unknown>;
}
