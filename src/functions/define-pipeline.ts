/**
 * `definePipeline`: channels, buckets, functions and producers in one
 * definition, checked as a whole when defined.
 */
import type { Switchyard } from '../core/switchyard.ts';
import {
  type ClaimCheckDeclaration,
  checkClaimCheckDeclaration,
} from '../delivery/claim-check-options.ts';
import type {
  ChannelDeclaration,
  CheckResult,
  KvDeclaration,
  ObjectsDeclaration,
  Producer,
  SwitchyardFunction,
} from './types.ts';
import {
  checkDeclarations,
  checkFunctions,
  checkProducers,
  checkSpec,
} from './validate-pipeline.ts';

/** What {@link definePipeline} takes. */
export interface PipelineSpec {
  /** 1 to 30 lowercase letters, digits and single hyphens. */
  name: string;
  description?: string;
  /** Channels by name; every channel a trigger uses must be here. */
  channels?: Record<string, ChannelDeclaration>;
  /** Key-value buckets by name. */
  kv?: Record<string, KvDeclaration>;
  /** Object buckets by name; every bucket a trigger uses must be here. */
  objects?: Record<string, ObjectsDeclaration>;
  functions: readonly SwitchyardFunction[];
  /** Sources of messages the local runner starts with the pipeline. */
  producers?: readonly Producer[];
  /**
   * The bucket and prefix where clients of the pipeline keep bodies too
   * large for the channels provider (their `claimCheck` setting), so that
   * the infra code declares the bucket with an expiry rule on the prefix.
   */
  claimCheck?: ClaimCheckDeclaration;
  /**
   * Checks the pipeline's state once it is idle, e.g. compares what it
   * built with what it should have built.
   */
  check?: (switchyard: Switchyard) => Promise<CheckResult>;
}

/**
 * A checked pipeline definition: plain, frozen data plus handlers, which
 * the runner binds and infra code reads (see `describePipeline`).
 */
export interface Pipeline {
  readonly name: string;
  readonly description?: string;
  readonly channels: Readonly<Record<string, ChannelDeclaration>>;
  readonly kv: Readonly<Record<string, KvDeclaration>>;
  readonly objects: Readonly<Record<string, ObjectsDeclaration>>;
  readonly functions: readonly SwitchyardFunction[];
  readonly producers: readonly Producer[];
  readonly claimCheck?: Readonly<Required<ClaimCheckDeclaration>>;
  readonly check?: (switchyard: Switchyard) => Promise<CheckResult>;
}

/**
 * Defines a pipeline and checks it as a whole: channel, bucket, function
 * and producer names are valid, function and producer names unique,
 * every trigger's channel or bucket declared, no worker group of a
 * channel and no request subject shared by two functions.
 *
 * Throws a `ConfigurationError` whose `field` is the path of the problem
 * (`functions.indexer.trigger.channel`, `channels.Bad`, `producers.1`)
 * and whose `value` is the value found.
 *
 * @example
 * ```ts
 * export default definePipeline({
 *   name: 'kv-router',
 *   channels: { 'kv-events': { schema: RouterEventSchema, ordered: true } },
 *   kv: { 'router-index': {} },
 *   objects: { 'router-snapshots': {} },
 *   functions: [indexer, snapshot, stats],
 * });
 * ```
 */
export function definePipeline(spec: PipelineSpec): Pipeline {
  const name = checkSpec(spec);
  const channels = checkDeclarations(spec.channels, 'channels', 'channel');
  const kv = checkDeclarations(spec.kv, 'kv', 'bucket');
  const objects = checkDeclarations(spec.objects, 'objects', 'bucket');
  const functions = checkFunctions(spec.functions, { channels, objects });
  const producers = checkProducers(spec.producers);
  const claimCheck =
    spec.claimCheck === undefined
      ? undefined
      : checkClaimCheckDeclaration(spec.claimCheck);

  return Object.freeze({
    name,
    ...(spec.description !== undefined && { description: spec.description }),
    channels: Object.freeze(channels),
    kv: Object.freeze(kv),
    objects: Object.freeze(objects),
    functions: Object.freeze(functions),
    producers: Object.freeze(producers),
    ...(claimCheck !== undefined && { claimCheck: Object.freeze(claimCheck) }),
    ...(spec.check !== undefined && { check: spec.check }),
  });
}
