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

  if ((fn.grants.watchTables ?? []).length > 0) {
    validations.acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams, which watching a table needs, has no resource-level permissions; the stream reads themselves are granted on the table stream only.',
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

/** How cdk-nag names a bucket's ARN in a finding: its logical id. */
function bucketToken(bucket: IBucket): string {
  const resource = bucket.node.defaultChild as CfnBucket;
  return Stack.of(bucket).getLogicalId(resource);
}
