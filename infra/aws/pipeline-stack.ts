/**
 * `PipelineStack`: every AWS resource of one pipeline definition, in one
 * stack.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Annotations,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { Pipeline } from '../../src/functions/define-pipeline.ts';
import {
  describePipeline,
  type PipelineResources,
} from '../../src/functions/resources.ts';
import type { SwitchyardFunction, Trigger } from '../../src/functions/types.ts';
import { REQUEST_QUEUE_ATTRIBUTES } from '../../src/providers/aws/request-server.ts';
import { type FunctionAccess, resolveGrants } from './access.ts';
import { AccessLogsBucket } from './access-logs-bucket.ts';
import { ChannelTopic } from './channel-topic.ts';
import { claimCheckGrant } from './claim-check-access.ts';
import { writeEntry } from './entry.ts';
import { IdempotencyTable } from './idempotency-table.ts';
import { KvTable } from './kv-table.ts';
import { acknowledgeNagFindings } from './nag.ts';
import { replyQueuePrefix } from './names.ts';
import { ObjectBucket } from './object-bucket.ts';
import {
  DEFAULT_TIMEOUT_MS,
  PipelineFunction,
  type PipelineFunctionProps,
} from './pipeline-function.ts';
import { RequestSubject } from './request-subject.ts';
import { ScheduleRule } from './schedule-rule.ts';

/** The repository this file lies in. */
const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

/** The Lambda adapter of the repository. */
const ADAPTER_MODULE = join(REPOSITORY, 'src/functions/aws/index.ts');

/** The kinds of trigger the stack deploys a function for. */
type DeployedTrigger = Extract<
  Trigger,
  { type: 'channel' | 'schedule' | 'request' }
>;

/** Why a function of each other kind of trigger is not deployed. */
const UNDEPLOYED: Record<
  Exclude<Trigger['type'], DeployedTrigger['type']>,
  string
> = {
  broadcast:
    'a broadcast needs a queue per live instance, which Lambda does not have',
  objects: 'the stack declares no S3 event notifications yet',
};

/** How one function is deployed, besides what its definition says. */
export interface FunctionDeployment {
  /**
   * What the function uses besides its trigger.
   *
   * @default - only its trigger (and the idempotency table when it is
   * exactly-once)
   */
  readonly access?: FunctionAccess;

  /**
   * Messages handed to one run, for a channel trigger.
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * How long Lambda gathers messages before a run, for a channel that is
   * not ordered.
   *
   * @default - no window
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Memory of the function, in MiB.
   *
   * @default 256
   */
  readonly memorySize?: number;
}

/** Props of {@link PipelineStack}. */
export interface PipelineStackProps extends StackProps {
  /** The pipeline definition to deploy. */
  readonly pipeline: Pipeline;

  /**
   * The module whose default export is `pipeline`, which each Lambda
   * entry imports.
   */
  readonly pipelineModule: string;

  /**
   * The module that exports `toLambda`.
   *
   * @default - `src/functions/aws/index.ts` of this repository
   */
  readonly adapterModule?: string;

  /**
   * Prefix of every resource name, as the aws provider's `prefix`
   * option: lowercase letters, digits and `-`.
   *
   * @default - none
   */
  readonly prefix?: string;

  /**
   * Deployment settings of functions, by function name.
   *
   * @default - every function with the defaults of FunctionDeployment
   */
  readonly functions?: Readonly<Record<string, FunctionDeployment>>;

  /**
   * The folder of the lock file and `node_modules` that bundling
   * resolves in.
   *
   * @default - this repository
   */
  readonly projectRoot?: string;

  /**
   * Where the Lambda entry module of each function is written; under
   * `projectRoot`, where bundling looks for entries.
   *
   * @default - `cdk.out/entries/{stack name}` under `projectRoot`
   */
  readonly entryFolder?: string;

  /**
   * What happens to tables, buckets and log groups when they leave the
   * stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Keep server access logs of the object buckets in a bucket of the
   * stack.
   *
   * @default true
   */
  readonly accessLogs?: boolean;
}

/**
 * The resources of a pipeline, from `describePipeline`: a
 * {@link ChannelTopic} per channel (a queue and dead-letter queue per
 * worker group), a {@link KvTable} per key-value bucket, an
 * {@link IdempotencyTable} when a function is exactly-once, an
 * {@link ObjectBucket} per object bucket (the claim check's bucket with a
 * rule that expires its prefix), and a {@link PipelineFunction}
 * per function of a worker group, schedule or request subject.
 *
 * With a claim check declared, a worker group's function may read the
 * objects under its prefix (its records may carry references) and a
 * function that publishes (`access.publish`) may write them; either gets
 * the claim check's bucket and prefix in its environment, so that its
 * client has the claim check. Functions remove no object: the bucket's
 * expiry rule does.
 *
 * Each function runs through the Lambda adapter (`toLambda`): a worker
 * group's function consumes its group's queue; a schedule function is
 * run by a {@link ScheduleRule} at its period, rounded up to whole
 * minutes; a request function consumes its subject's request queue and
 * is subscribed to its gather topic (a {@link RequestSubject}), and may
 * send to the requesters' reply queues. Its timeout is at most the
 * request queue's visibility timeout (5 s), as Lambda requires of a
 * queue it polls, with a warning when the function declares a longer
 * one. Other functions are left out with a synth-time warning that says
 * why: object events need S3 notifications, which this stack does not
 * declare yet; a broadcast needs a queue per live instance.
 *
 * @example
 * ```ts
 * new PipelineStack(app, 'KvRouter', {
 *   pipeline,
 *   pipelineModule: 'functions/pipeline.ts',
 *   prefix: 'dev-',
 * });
 * ```
 */
export class PipelineStack extends Stack {
  /** Resources as `describePipeline` lists them. */
  readonly resources: PipelineResources;

  /** The deployment prefix. */
  readonly prefix: string;

  readonly channels = new Map<string, ChannelTopic>();
  readonly kvTables = new Map<string, KvTable>();
  readonly objectBuckets = new Map<string, ObjectBucket>();
  readonly functions = new Map<string, PipelineFunction>();
  /** The schedule rule of each schedule function, by function name. */
  readonly schedules = new Map<string, ScheduleRule>();
  /** The request queue and gather topic of each subject served. */
  readonly subjects = new Map<string, RequestSubject>();
  readonly idempotencyTable: IdempotencyTable | undefined;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, {
      description: `Switchyard pipeline ${props.pipeline.name}`,
      ...props,
    });
    const { pipeline } = props;
    const prefix = props.prefix ?? '';
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const settings = props.functions ?? {};
    checkSettings(pipeline, settings);
    this.prefix = prefix;
    this.resources = describePipeline(pipeline);

    for (const channel of this.resources.channels) {
      this.channels.set(
        channel.name,
        new ChannelTopic(this, `Channel-${channel.name}`, {
          prefix,
          channel,
          functionTimeouts: groupTimeouts(pipeline, channel.name),
        }),
      );
    }
    for (const { name, ttlMs } of this.resources.kv) {
      this.kvTables.set(
        name,
        new KvTable(this, `Kv-${name}`, {
          prefix,
          bucket: name,
          ...(ttlMs !== undefined && { ttlMs }),
          removalPolicy,
        }),
      );
    }
    const exactlyOnce = pipeline.functions.some(
      (fn) => fn.guarantee === 'exactly-once',
    );
    this.idempotencyTable = exactlyOnce
      ? new IdempotencyTable(this, 'Idempotency', { prefix, removalPolicy })
      : undefined;
    const accessLogs =
      props.accessLogs !== false && this.resources.objects.length > 0
        ? new AccessLogsBucket(this, 'AccessLogs', { removalPolicy }).bucket
        : undefined;
    for (const { name, expireAfterMs } of this.resources.objects) {
      this.objectBuckets.set(
        name,
        new ObjectBucket(this, `Objects-${name}`, {
          prefix,
          bucket: name,
          ...(expireAfterMs !== undefined && { expireAfterMs }),
          ...(this.resources.claimCheck?.bucket === name && {
            claimCheck: this.resources.claimCheck,
          }),
          ...(accessLogs !== undefined && { accessLogs }),
          removalPolicy,
        }),
      );
    }

    const projectRoot = props.projectRoot ?? REPOSITORY;
    const entries =
      props.entryFolder ??
      join(projectRoot, 'cdk.out', 'entries', this.stackName);
    for (const fn of pipeline.functions) {
      const trigger = fn.trigger;
      if (trigger.type === 'broadcast' || trigger.type === 'objects') {
        Annotations.of(this).addWarningV2(
          '@switchyard/infra:notDeployed',
          `function ${fn.name} is not deployed: ${UNDEPLOYED[trigger.type]}`,
        );
        continue;
      }
      const entry = writeEntry({
        folder: entries,
        pipelineModule: props.pipelineModule,
        adapterModule: props.adapterModule ?? ADAPTER_MODULE,
        pipeline: pipeline.name,
        name: fn.name,
        sqs: trigger.type === 'channel',
      });
      this.#addFunction(fn, trigger, settings[fn.name] ?? {}, {
        entry,
        projectRoot,
        removalPolicy,
      });
    }

    acknowledgeNagFindings(this);
  }

  #addFunction(
    fn: SwitchyardFunction,
    trigger: DeployedTrigger,
    deployment: FunctionDeployment,
    options: {
      entry: string;
      projectRoot: string;
      removalPolicy: RemovalPolicy;
    },
  ): void {
    const grants = resolveGrants(
      deployment.access ?? {},
      this.#index(),
      `functions.${fn.name}`,
    );
    const idempotency: ITable[] =
      fn.guarantee === 'exactly-once' && this.idempotencyTable !== undefined
        ? [this.idempotencyTable.table]
        : [];
    const claimCheck = this.#claimCheckOf(
      trigger,
      deployment.access?.publish?.length ?? 0,
    );

    const created = new PipelineFunction(this, `Function-${fn.name}`, {
      prefix: this.prefix,
      pipeline: this.resources.pipeline,
      fn,
      entry: options.entry,
      projectRoot: options.projectRoot,
      depsLockFilePath: join(options.projectRoot, 'package-lock.json'),
      ...this.#triggerProps(fn, trigger),
      ...(deployment.batchSize !== undefined && {
        batchSize: deployment.batchSize,
      }),
      ...(deployment.maxBatchingWindow !== undefined && {
        maxBatchingWindow: deployment.maxBatchingWindow,
      }),
      ...(deployment.memorySize !== undefined && {
        memorySize: deployment.memorySize,
      }),
      grants: {
        ...grants,
        recordTables: idempotency,
        ...(trigger.type === 'request' && {
          replyQueues: this.formatArn({
            service: 'sqs',
            resource: `${replyQueuePrefix(this.prefix)}*`,
          }),
        }),
        ...(claimCheck !== undefined && { claimCheck }),
      },
      removalPolicy: options.removalPolicy,
    });
    this.functions.set(fn.name, created);
    if (trigger.type === 'schedule') {
      const rule = new ScheduleRule(this, `Schedule-${fn.name}`, {
        prefix: this.prefix,
        pipeline: this.resources.pipeline,
        name: fn.name,
        everyMs: trigger.everyMs,
        target: created.function,
      });
      this.schedules.set(fn.name, rule);
    }
  }

  /** What the function's trigger adds to its props. */
  #triggerProps(
    fn: SwitchyardFunction,
    trigger: DeployedTrigger,
  ): Partial<PipelineFunctionProps> {
    if (trigger.type === 'channel') {
      const channel = this.channels.get(trigger.channel)!;
      return { queue: channel.groups.get(trigger.group)!.queue };
    }
    if (trigger.type === 'schedule') return {};

    const subject = this.#subject(trigger.subject);
    const visibleMs = Number(REQUEST_QUEUE_ATTRIBUTES.VisibilityTimeout) * 1000;
    if (fn.timeoutMs !== undefined && fn.timeoutMs > visibleMs) {
      Annotations.of(this).addWarningV2(
        '@switchyard/infra:requestTimeout',
        `function ${fn.name} runs at most ${visibleMs} ms on Lambda, not ${fn.timeoutMs} ms: Lambda requires the request queue's visibility timeout, which the provider fixes, to be at least the function's timeout`,
      );
    }

    return {
      queue: subject.queue,
      gatherTopic: subject.gatherTopic,
      timeout: Duration.millis(
        Math.min(fn.timeoutMs ?? DEFAULT_TIMEOUT_MS, visibleMs),
      ),
    };
  }

  /**
   * The claim check of a function of `trigger` that publishes on
   * `publishes` channels, when the pipeline declares one.
   */
  #claimCheckOf(trigger: DeployedTrigger, publishes: number) {
    const declared = this.resources.claimCheck;
    if (declared === undefined) return undefined;
    const bucket = this.objectBuckets.get(declared.bucket)!.bucket;

    return claimCheckGrant(
      { bucket, name: declared.bucket, prefix: declared.prefix },
      trigger.type,
      publishes,
    );
  }

  /** The request queue and gather topic of `subject`, made once. */
  #subject(subject: string): RequestSubject {
    let found = this.subjects.get(subject);
    if (found === undefined) {
      found = new RequestSubject(this, `Subject-${subject}`, {
        prefix: this.prefix,
        subject,
      });
      this.subjects.set(subject, found);
    }
    return found;
  }

  #index() {
    const tables = new Map<string, ITable>();
    for (const [name, kv] of this.kvTables) tables.set(name, kv.table);
    const buckets = new Map<string, IBucket>();
    for (const [name, o] of this.objectBuckets) buckets.set(name, o.bucket);
    const topics = new Map<string, ITopic>();
    for (const [name, c] of this.channels) topics.set(name, c.topic);
    return {
      kv: tables,
      objects: buckets,
      channels: topics,
      prefix: this.prefix,
    };
  }
}

/** The run-time limit of each group's function on `channel`. */
function groupTimeouts(
  pipeline: Pipeline,
  channel: string,
): Record<string, Duration> {
  const timeouts: Record<string, Duration> = {};
  for (const fn of pipeline.functions) {
    const { trigger } = fn;
    if (trigger.type !== 'channel' || trigger.channel !== channel) continue;
    timeouts[trigger.group] = Duration.millis(
      fn.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
  }
  return timeouts;
}

function checkSettings(
  pipeline: Pipeline,
  settings: Readonly<Record<string, FunctionDeployment>>,
): void {
  const names = pipeline.functions.map((fn) => fn.name);
  for (const name of Object.keys(settings)) {
    if (!names.includes(name)) {
      throw new RangeError(
        `functions.${name} names no function of pipeline '${pipeline.name}' (its functions: ${names.join(', ')})`,
      );
    }
  }
}
