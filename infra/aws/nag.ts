/**
 * The cdk-nag findings a pipeline stack accepts, each acknowledged on
 * the construct it concerns with its reason.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { CfnBucket, IBucket } from 'aws-cdk-lib/aws-s3';
import type { PipelineFunction } from './pipeline-function.ts';
import type { PipelineStack } from './pipeline-stack.ts';

/** The managed policy every Lambda role gets to write its logs. */
const BASIC_EXECUTION =
  'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';

/** Wildcard actions of CDK's grants to read a bucket. */
const S3_READ_ACTIONS = ['s3:GetBucket*', 's3:GetObject*', 's3:List*'];

/** Wildcard actions a grant to write a bucket adds. */
const S3_WRITE_ACTIONS = ['s3:Abort*', 's3:DeleteObject*'];

/** Acknowledges the accepted findings on the constructs of `stack`. */
export function acknowledgeNagFindings(stack: PipelineStack): void {
  for (const fn of stack.functions.values()) acknowledgeFunction(fn);
  for (const schedule of stack.schedules.values()) {
    Validations.of(schedule.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "The queue is the dead-letter queue of the schedule rule's target, which EventBridge names in the target, not in a redrive policy.",
    });
  }
  for (const subject of stack.subjects.values()) {
    Validations.of(subject.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'A request is kept 60 seconds, as long as a requester waits for it; one not answered in time expires and its requester times out, so there is nothing to redrive.',
    });
  }
}

function acknowledgeFunction(fn: PipelineFunction): void {
  const validations = Validations.of(fn);
  validations.acknowledge(
    {
      id: 'AwsSolutions-L1',
      reason:
        'The bundle targets Node.js 22, the version the package supports and is tested on.',
    },
    {
      id: `AwsSolutions-IAM4[${BASIC_EXECUTION}]`,
      reason:
        'The AWS managed basic execution policy only lets the function write its own logs.',
    },
  );

  const watches = (fn.grants.watchTables ?? []).length > 0;
  const readChannels = fn.grants.readChannels ?? [];
  const everywhere = [
    ...(watches
      ? [
          'dynamodb:ListStreams, which watching a table needs, has no resource-level permissions; the stream reads themselves are granted on the table stream only.',
        ]
      : []),
    ...(readChannels.length > 0
      ? [
          "sns:ListTopics and sqs:ListQueues, with which the provider finds a channel's topic and queues, have no resource-level permissions; the reads of attributes and tags are granted on the channel's own topic and queues only.",
        ]
      : []),
  ];
  if (everywhere.length > 0) {
    validations.acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: everywhere.join(' '),
    });
  }
  for (const channel of readChannels) {
    validations.acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(fn, channel.queueArns)}]`,
      reason:
        "A channel's consumer queues are its worker groups' queues and dead-letter queues and the queues of broadcast consumers made at run time; the grant covers the queues named after this one channel.",
    });
  }
  if (fn.grants.replyQueues !== undefined) {
    validations.acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(fn, fn.grants.replyQueues)}]`,
      reason:
        "Each requester makes its own reply queue at run time, with a random name after the deployment's reply prefix; the grant allows only sqs:SendMessage to queues of that prefix in this account and region.",
    });
  }

  const { claimCheck } = fn.grants;
  if (claimCheck !== undefined) {
    const objects = claimCheck.bucket.arnForObjects(`${claimCheck.prefix}*`);
    validations.acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(fn, objects)}]`,
      reason:
        "Claim-check objects are named at run time after the channel and the message id; the grant covers only the objects under the claim check's prefix of its bucket.",
    });
  }

  const { readBuckets = [], writeBuckets = [] } = fn.grants;
  for (const bucket of [...readBuckets, ...writeBuckets]) {
    const name = bucketToken(bucket);
    validations.acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${name}.Arn>/*]`,
        reason:
          'Object names are chosen at run time; the grant covers the objects of this one bucket.',
      },
      ...S3_READ_ACTIONS.map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `${action} is the set of read actions CDK grants on one bucket, limited to that bucket.`,
      })),
    );
  }
  for (const action of writeBuckets.length > 0 ? S3_WRITE_ACTIONS : []) {
    validations.acknowledge({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: `${action} lets the function replace and delete objects of the buckets it writes, and only those.`,
    });
  }
}

/**
 * How cdk-nag writes `arn` in a finding: literals as they are, and a
 * reference to a pseudo parameter or resource in angle brackets.
 */
function nagArn(scope: PipelineFunction, arn: string): string {
  const resolved: unknown = Stack.of(scope).resolve(arn);
  const part = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const { Ref: ref, 'Fn::GetAtt': att } = value as {
      Ref?: string;
      'Fn::GetAtt'?: [string, string];
    };
    if (ref !== undefined) return `<${ref}>`;
    if (att !== undefined) return `<${att[0]}.${att[1]}>`;
    throw new TypeError(`no finding name for ${JSON.stringify(value)}`);
  };
  if (typeof resolved === 'string') return resolved;
  const [, parts] = (resolved as { 'Fn::Join': [string, unknown[]] })[
    'Fn::Join'
  ];
  return parts.map(part).join('');
}

/** How cdk-nag names a bucket's ARN in a finding: its logical id. */
function bucketToken(bucket: IBucket): string {
  const resource = bucket.node.defaultChild as CfnBucket;
  return Stack.of(bucket).getLogicalId(resource);
}
