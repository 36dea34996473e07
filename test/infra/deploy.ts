/**
 * Deploys the reference stack to a moto server through CloudFormation's
 * CreateStack, for tests that need the resources the CDK app declares.
 *
 * `cdk deploy` cannot target moto (moto does not find the template in
 * the staging bucket), so the synthesized template is sent as the body,
 * with what moto cannot create taken out:
 *
 * - the Lambda functions and their event source mappings, whose code
 *   lies in the CDK asset bucket of a bootstrapped account, and what
 *   refers to a function: the EventBridge schedule rules (with their
 *   targets), the Lambda permissions and the SNS subscriptions of
 *   Lambda functions, which moto cannot create either, and the policies
 *   that name a removed resource;
 * - the bootstrap version parameter and the rule that checks it, which
 *   read SSM parameters of a bootstrapped account.
 *
 * moto's CloudFormation (5.2) creates topics, queues (with their redrive
 * policies), tables (keys, billing mode, stream), buckets (encryption),
 * the log group and the IAM role and policy. It drops table TTL and
 * point-in-time recovery and the bucket's lifecycle rules, public access
 * block and logging, and reports the rest CREATE_COMPLETE without
 * creating it: SNS subscriptions, topic, queue and bucket policies, and
 * alarms. A running pipeline needs the subscriptions, so this helper
 * makes each one through the SNS API with the template's own
 * properties; the rest it leaves as moto made it.
 *
 * The functions taken out are returned as the template declares them
 * (handler, environment, timeout, event source and, with `bundle`, the
 * folder of their code), for a test that runs them as Lambda would.
 * The cloud assembly is synthesized in a temporary folder, removed
 * after the deploy, or by `remove()` when the functions are bundled,
 * since their code lies in it.
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  ListTopicsCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import {
  bucketName,
  deadLetterQueueName,
  gatherTopicName,
  groupQueueName,
  requestQueueName,
  tableName,
  topicName,
} from '../../infra/aws/names.ts';
import type { PipelineStack } from '../../infra/aws/pipeline-stack.ts';
import { DEFAULT_IDEMPOTENCY_TABLE } from '../../src/delivery/policy.ts';
import { synthesizeReference } from './synth.ts';

/** Resource types taken out of the template before CreateStack. */
export const UNDEPLOYABLE_TYPES = [
  'AWS::Lambda::Function',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Lambda::Permission',
  'AWS::Events::Rule',
];

/** Resource types moto's CloudFormation accepts but does not create. */
export const UNIMPLEMENTED_TYPES = [
  'AWS::SNS::Subscription',
  'AWS::SNS::TopicPolicy',
  'AWS::SQS::QueuePolicy',
  'AWS::S3::BucketPolicy',
  'AWS::CloudWatch::Alarm',
];

/** Longest wait for the stack to be created, in ms. */
const STACK_TIMEOUT_MS = 60_000;

/** A queue as deployed. */
export interface DeployedQueue {
  name: string;
  url: string;
  arn: string;
}

/** A worker group's queues as deployed. */
export interface DeployedGroup {
  channel: string;
  group: string;
  queue: DeployedQueue;
  deadLetters: DeployedQueue;
}

/** A subject's request queue and gather topic as deployed. */
export interface DeployedSubject {
  subject: string;
  queue: DeployedQueue;
  gatherTopic: string;
}

/** The SQS event source of a function, as its mapping declares it. */
export interface DeployedEventSource {
  /** The group whose queue it polls, as a key of `groups`. */
  group?: string;
  /** The subject whose request queue it polls, as a key of `subjects`. */
  subject?: string;
  /** Messages handed to one invocation. */
  batchSize: number;
  /** Whether the function reports the records of a batch that failed. */
  reportBatchItemFailures: boolean;
}

/**
 * A Lambda function of the stack as its template declares it. moto runs
 * no Lambda function, so this is what a test needs to run it itself.
 */
export interface DeployedFunction {
  /** The pipeline function it runs. */
  name: string;
  functionName: string;
  /** `{file}.{export}` of the module Lambda loads. */
  handler: string;
  runtime: string;
  timeoutSeconds: number;
  memorySize: number;
  /** The variables the stack sets for it. */
  environment: Record<string, string>;
  /** The folder of its bundled code, when deployed with `bundle`. */
  code?: string;
  eventSource?: DeployedEventSource;
}

/** The names of everything the stack made, by Switchyard name. */
export interface DeployedPipeline {
  stackName: string;
  prefix: string;
  /** Topic ARNs by channel. */
  topics: Record<string, string>;
  /** Queues by `{channel}--{group}`. */
  groups: Record<string, DeployedGroup>;
  /** Table names by key-value bucket. */
  kvTables: Record<string, string>;
  /** The idempotency table, when a function is exactly-once. */
  idempotencyTable?: string;
  /** Bucket names by object bucket. */
  buckets: Record<string, string>;
  /** Request queues and gather topics by subject. */
  subjects: Record<string, DeployedSubject>;
  /** Logical ids of the resources taken out of the template. */
  removed: string[];
  /** The Lambda functions taken out, by pipeline function. */
  functions: Record<string, DeployedFunction>;
  /** The folder of the cloud assembly the stack was synthesized in. */
  assembly: string;
  /** Removes the cloud assembly, with the functions' code. Idempotent. */
  remove(): void;
}

/** The names of a deployment, as its stack's naming gives them. */
type DeployedNames = Omit<
  DeployedPipeline,
  'stackName' | 'removed' | 'functions' | 'assembly' | 'remove'
>;

/** Where and how to deploy. */
export interface DeployOptions {
  /** Prefix of every resource name. Default none. */
  prefix?: string;
  /** Default `SwitchyardKvRouter`. */
  stackName?: string;
  /** Default `AWS_REGION`, else us-east-1. */
  region?: string;
  /**
   * Bundle the functions, as `cdk deploy` would, so that each one's
   * `code` is set. Default false.
   */
  bundle?: boolean;
}

interface CfnTemplate {
  Parameters?: Record<string, unknown>;
  Rules?: Record<string, unknown>;
  Resources: Record<
    string,
    {
      Type: string;
      Properties?: Record<string, unknown>;
      DependsOn?: string | string[];
    }
  >;
}

/** The properties of a Lambda function that a test runs it by. */
interface CfnFunctionProperties {
  FunctionName: string;
  Handler: string;
  Runtime: string;
  Timeout: number;
  MemorySize: number;
  Code: { S3Key: string };
  Environment?: { Variables?: Record<string, string> };
}

/** The properties of an SQS event source mapping. */
interface CfnMappingProperties {
  FunctionName: { Ref: string };
  EventSourceArn: { 'Fn::GetAtt': [string, string] };
  BatchSize?: number;
  FunctionResponseTypes?: string[];
}

/**
 * `template` as moto can create it, and the logical ids of the
 * resources taken out.
 */
export function motoTemplate(template: CfnTemplate): {
  template: CfnTemplate;
  removed: string[];
} {
  const removed = Object.keys(template.Resources).filter((id) => {
    const { Type, Properties } = template.Resources[id]!;
    return (
      UNDEPLOYABLE_TYPES.includes(Type) ||
      (Type === 'AWS::SNS::Subscription' && Properties?.Protocol === 'lambda')
    );
  });
  // A policy moto does not create may name a removed rule or function.
  for (const [id, { Type, Properties }] of Object.entries(template.Resources)) {
    const text = JSON.stringify(Properties ?? {});
    const names = (gone: string) =>
      text.includes(`{"Ref":"${gone}"}`) ||
      text.includes(`{"Fn::GetAtt":["${gone}",`);
    const unimplemented = UNIMPLEMENTED_TYPES.includes(Type);
    if (unimplemented && !removed.includes(id) && removed.some(names)) {
      removed.push(id);
    }
  }
  const resources = Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([id]) => !removed.includes(id))
      .map(([id, resource]) => {
        const after = [resource.DependsOn ?? []]
          .flat()
          .filter((d) => !removed.includes(d));
        const { DependsOn: _, ...rest } = resource;
        return [id, after.length > 0 ? { ...rest, DependsOn: after } : rest];
      }),
  );
  const { Parameters: _p, Rules: _r, ...rest } = template;

  return { template: { ...rest, Resources: resources }, removed };
}

/**
 * Deploys the reference stack to the moto server at `endpoint` and
 * returns what it made. Throws when the stack does not reach
 * CREATE_COMPLETE.
 *
 * @example
 * ```ts
 * const moto = await startMotoServer();
 * const deployed = await deployToMoto(moto.endpoint, { prefix: 'it-' });
 * deployed.groups['kv-events--indexer'].queue.url;
 * ```
 */
export async function deployToMoto(
  endpoint: string,
  options: DeployOptions = {},
): Promise<DeployedPipeline> {
  const prefix = options.prefix ?? '';
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const config = { endpoint, region };
  const {
    stack,
    template: synthesized,
    templateFile,
  } = synthesizeReference({ prefix }, { bundle: options.bundle === true });
  const assembly = dirname(templateFile);
  const remove = () => rmSync(assembly, { recursive: true, force: true });
  try {
    const deployed = await create(stack, synthesized.toJSON() as CfnTemplate, {
      ...options,
      config,
      assembly,
    });
    return { ...deployed, assembly, remove };
  } finally {
    if (options.bundle !== true) remove();
  }
}

async function create(
  stack: PipelineStack,
  full: CfnTemplate,
  options: DeployOptions & {
    config: { endpoint: string; region: string };
    assembly: string;
  },
): Promise<Omit<DeployedPipeline, 'assembly' | 'remove'>> {
  const { config } = options;
  const stackName = options.stackName ?? stack.stackName;
  const { template, removed } = motoTemplate(full);

  const cloudformation = new CloudFormationClient(config);
  await cloudformation.send(
    new CreateStackCommand({
      StackName: stackName,
      TemplateBody: JSON.stringify(template),
      Capabilities: ['CAPABILITY_IAM'],
    }),
  );
  await waitCreated(cloudformation, stackName);
  cloudformation.destroy();

  const sns = new SNSClient(config);
  const sqs = new SQSClient(config);
  try {
    const deployed = await describe(stack, sns, sqs);
    await subscribe(template, deployed, sns);
    const functions = describeFunctions(stack, full, deployed, {
      assembly: options.assembly,
      bundled: options.bundle === true,
    });
    return { ...deployed, stackName, removed, functions };
  } finally {
    sns.destroy();
    sqs.destroy();
  }
}

async function waitCreated(
  client: CloudFormationClient,
  stackName: string,
): Promise<void> {
  const deadline = Date.now() + STACK_TIMEOUT_MS;
  for (;;) {
    const { Stacks } = await client.send(
      new DescribeStacksCommand({ StackName: stackName }),
    );
    const status = Stacks?.[0]?.StackStatus ?? 'UNKNOWN';
    if (status === 'CREATE_COMPLETE') return;
    if (!status.endsWith('_IN_PROGRESS') || Date.now() > deadline) {
      const reason = Stacks?.[0]?.StackStatusReason ?? 'no reason given';
      throw new Error(`stack ${stackName} is ${status}: ${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The deployed names, from the naming of the stack's resources. */
async function describe(
  stack: PipelineStack,
  sns: SNSClient,
  sqs: SQSClient,
): Promise<DeployedNames> {
  const { prefix, resources } = stack;
  const topics: Record<string, string> = {};
  const groups: Record<string, DeployedGroup> = {};
  for (const channel of resources.channels) {
    const name = topicName(prefix, channel.name, channel.ordered);
    topics[channel.name] = await topicArn(sns, name);
    for (const { group } of channel.groups) {
      groups[`${channel.name}--${group}`] = {
        channel: channel.name,
        group,
        queue: await queue(
          sqs,
          groupQueueName(prefix, channel.name, group, channel.ordered),
        ),
        deadLetters: await queue(
          sqs,
          deadLetterQueueName(prefix, channel.name, group, channel.ordered),
        ),
      };
    }
  }

  const subjects: Record<string, DeployedSubject> = {};
  for (const { subject } of resources.subjects) {
    subjects[subject] = {
      subject,
      queue: await queue(sqs, requestQueueName(subject, { prefix })),
      gatherTopic: await topicArn(sns, gatherTopicName(subject, { prefix })),
    };
  }

  return {
    prefix,
    topics,
    groups,
    subjects,
    kvTables: Object.fromEntries(
      resources.kv.map(({ name }) => [name, tableName(prefix, name)]),
    ),
    ...(stack.idempotencyTable !== undefined && {
      idempotencyTable: tableName(prefix, DEFAULT_IDEMPOTENCY_TABLE),
    }),
    buckets: Object.fromEntries(
      resources.objects.map(({ name }) => [name, bucketName(prefix, name)]),
    ),
  };
}

/** The ARN of topic `name`, found among the topics SNS lists. */
async function topicArn(sns: SNSClient, name: string): Promise<string> {
  let next: string | undefined;
  do {
    const page = await sns.send(new ListTopicsCommand({ NextToken: next }));
    const found = page.Topics?.find((t) => t.TopicArn?.endsWith(`:${name}`));
    if (found?.TopicArn !== undefined) return found.TopicArn;
    next = page.NextToken;
  } while (next !== undefined);
  throw new Error(`topic ${name} was not created`);
}

async function queue(sqs: SQSClient, name: string): Promise<DeployedQueue> {
  const { QueueUrl } = await sqs.send(
    new GetQueueUrlCommand({ QueueName: name }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: ['QueueArn'],
    }),
  );
  return { name, url: QueueUrl!, arn: Attributes!.QueueArn! };
}

/** Makes each SNS subscription of the template through the SNS API. */
async function subscribe(
  template: CfnTemplate,
  deployed: DeployedNames,
  sns: SNSClient,
): Promise<void> {
  const logical = logicalNames(template, deployed);
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::SNS::Subscription') continue;
    const props = resource.Properties as {
      Protocol: string;
      TopicArn: { Ref: string };
      Endpoint: { 'Fn::GetAtt': [string, string] };
      RawMessageDelivery?: boolean;
    };
    await sns.send(
      new SubscribeCommand({
        TopicArn: logical.get(props.TopicArn.Ref)!,
        Protocol: props.Protocol,
        Endpoint: logical.get(props.Endpoint['Fn::GetAtt'][0])!,
        Attributes: {
          RawMessageDelivery: String(props.RawMessageDelivery === true),
        },
      }),
    );
  }
}

/**
 * The Lambda functions of `template`, each with its event source and,
 * when the stack was bundled, the folder the asset manifest gives its
 * code.
 */
function describeFunctions(
  stack: PipelineStack,
  template: CfnTemplate,
  deployed: DeployedNames,
  where: { assembly: string; bundled: boolean },
): Record<string, DeployedFunction> {
  const groupByQueue = new Map<string, string>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    const name = resource.Properties?.QueueName;
    const key = Object.keys(deployed.groups).find(
      (k) => deployed.groups[k]!.queue.name === name,
    );
    if (key !== undefined) groupByQueue.set(id, key);
  }
  const subjectByQueue = new Map<string, string>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    const name = resource.Properties?.QueueName;
    const found = Object.values(deployed.subjects).find(
      (s) => s.queue.name === name,
    );
    if (found !== undefined) subjectByQueue.set(id, found.subject);
  }
  const mappings = Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping')
    .map((r) => r.Properties as unknown as CfnMappingProperties);
  const assets = where.bundled ? assetPaths(stack, where.assembly) : {};
  const sourceOf = (queue: string) => {
    const group = groupByQueue.get(queue);
    const subject = subjectByQueue.get(queue);
    return {
      ...(group !== undefined && { group }),
      ...(subject !== undefined && { subject }),
    };
  };

  const functions: Record<string, DeployedFunction> = {};
  for (const [name, created] of stack.functions) {
    const logicalId = stack.getLogicalId(
      created.function.node.defaultChild as CfnFunction,
    );
    const props = template.Resources[logicalId]!
      .Properties as unknown as CfnFunctionProperties;
    const mapping = mappings.find((m) => m.FunctionName.Ref === logicalId);
    const code = assets[props.Code.S3Key.replace(/\.zip$/, '')];
    functions[name] = {
      name,
      functionName: props.FunctionName,
      handler: props.Handler,
      runtime: props.Runtime,
      timeoutSeconds: props.Timeout,
      memorySize: props.MemorySize,
      environment: { ...props.Environment?.Variables },
      ...(code !== undefined && { code: join(where.assembly, code) }),
      ...(mapping !== undefined && {
        eventSource: {
          ...sourceOf(mapping.EventSourceArn['Fn::GetAtt'][0]),
          batchSize: mapping.BatchSize ?? 10,
          reportBatchItemFailures: (
            mapping.FunctionResponseTypes ?? []
          ).includes('ReportBatchItemFailures'),
        },
      }),
    };
  }
  return functions;
}

/** Folders of the stack's file assets, by asset hash. */
function assetPaths(
  stack: PipelineStack,
  assembly: string,
): Record<string, string> {
  const manifest = JSON.parse(
    readFileSync(join(assembly, `${stack.stackName}.assets.json`), 'utf8'),
  ) as { files: Record<string, { source: { path: string } }> };
  return Object.fromEntries(
    Object.entries(manifest.files).map(([hash, f]) => [hash, f.source.path]),
  );
}

/** ARNs of the template's topics and queues, by logical id. */
function logicalNames(
  template: CfnTemplate,
  deployed: DeployedNames,
): Map<string, string> {
  const byName = new Map<string, string>();
  for (const arn of Object.values(deployed.topics)) {
    byName.set(arn.slice(arn.lastIndexOf(':') + 1), arn);
  }
  for (const { queue: q, deadLetters } of Object.values(deployed.groups)) {
    byName.set(q.name, q.arn);
    byName.set(deadLetters.name, deadLetters.arn);
  }
  const logical = new Map<string, string>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    const name = (resource.Properties?.TopicName ??
      resource.Properties?.QueueName) as string | undefined;
    const arn = name === undefined ? undefined : byName.get(name);
    if (arn !== undefined) logical.set(id, arn);
  }
  return logical;
}
