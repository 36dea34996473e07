/**
 * What the stack grants functions of the claim check's bucket: reading
 * the objects under its prefix to a worker group's function, writing
 * them to one that publishes, nothing else of the bucket's objects, and
 * the claim check in the environment of either. cdk-nag and cfn-lint
 * stay clean on such a stack.
 */
import { fileURLToPath } from 'node:url';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import nag from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { PipelineStack } from '../../infra/aws/pipeline-stack.ts';
import { defineFunction } from '../../src/functions/define-function.ts';
import {
  definePipeline,
  type PipelineSpec,
} from '../../src/functions/define-pipeline.ts';
import { every, onChannel } from '../../src/functions/triggers.ts';
import { lintErrors } from './cfn-lint.ts';
import {
  logicalId,
  type PolicyStatement,
  policyStatementsOf,
  type Synthesized,
  synthesize,
} from './synth.ts';

/** Any module will do: the entries are written, not bundled. */
const MODULE = fileURLToPath(import.meta.url);

const noop = () => {};

/**
 * A pipeline of two channels: `thumbnails` consumes `uploads` and
 * publishes on `thumbs`, `catalog` consumes `thumbs`, `report` runs on a
 * schedule and publishes, `nightly` runs on a schedule and does not.
 */
function pipelineWith(extra: Partial<PipelineSpec>) {
  return definePipeline({
    name: 'media',
    channels: { uploads: {}, thumbs: {} },
    functions: [
      defineFunction({
        name: 'thumbnails',
        trigger: onChannel('uploads', { group: 'thumbnails' }),
        handler: noop,
      }),
      defineFunction({
        name: 'catalog',
        trigger: onChannel('thumbs', { group: 'catalog' }),
        handler: noop,
      }),
      defineFunction({
        name: 'report',
        trigger: every(3_600_000),
        handler: noop,
      }),
      defineFunction({
        name: 'nightly',
        trigger: every(86_400_000),
        handler: noop,
      }),
    ],
    ...extra,
  });
}

function synthesizeWith(extra: Partial<PipelineSpec>): Synthesized {
  return synthesize(
    (app) =>
      new PipelineStack(app, 'Media', {
        pipeline: pipelineWith(extra),
        pipelineModule: MODULE,
        functions: {
          thumbnails: { access: { publish: ['thumbs'] } },
          report: { access: { publish: ['uploads'] } },
        },
      }),
  );
}

const DECLARED = { claimCheck: { bucket: 'large' } };

/** The statements of the role policy of function `name` of `media`. */
function statementsOf(template: Template, name: string): PolicyStatement[] {
  return policyStatementsOf(template, `media-${name}`);
}

/** The S3 statements of function `name`, as action lists and resources. */
function s3Of(template: Template, name: string) {
  return statementsOf(template, name)
    .map((s) => ({ actions: [s.Action].flat(), resource: s.Resource }))
    .filter((s) => s.actions.some((a) => a.startsWith('s3:')));
}

/** The environment variables of function `name` of `media`. */
function environmentOf(template: Template, name: string) {
  const fn = logicalId(template, 'AWS::Lambda::Function', {
    FunctionName: `media-${name}`,
  });
  return (
    template.findResources('AWS::Lambda::Function')[fn]!.Properties as {
      Environment: { Variables: Record<string, string> };
    }
  ).Environment.Variables;
}

/** `<bucket ARN>/{prefix}*`, as CloudFormation writes it. */
function objectsArn(bucket: string, prefix: string) {
  return {
    'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, `/${prefix}*`]],
  };
}

function bucketArn(bucket: string) {
  return { 'Fn::GetAtt': [bucket, 'Arn'] };
}

function bucketOf(template: Template): string {
  return logicalId(template, 'AWS::S3::Bucket', { BucketName: 'large' });
}

describe('the claim check grants of a pipeline stack', () => {
  it("lets a worker group's function read the objects under the prefix only, and tells its client the bucket and prefix", () => {
    const { template } = synthesizeWith(DECLARED);
    const bucket = bucketOf(template);

    expect(s3Of(template, 'catalog')).toEqual([
      {
        actions: ['s3:GetObject'],
        resource: objectsArn(bucket, 'claim-check/'),
      },
      { actions: ['s3:ListBucket'], resource: bucketArn(bucket) },
    ]);
    expect(environmentOf(template, 'catalog')).toMatchObject({
      SWITCHYARD_CLAIM_CHECK_BUCKET: 'large',
      SWITCHYARD_CLAIM_CHECK_PREFIX: 'claim-check/',
    });
  });

  it('lets a function that consumes and publishes read and write them, and delete none', () => {
    const { template } = synthesizeWith(DECLARED);
    const bucket = bucketOf(template);

    expect(s3Of(template, 'thumbnails')).toEqual([
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        resource: objectsArn(bucket, 'claim-check/'),
      },
      { actions: ['s3:ListBucket'], resource: bucketArn(bucket) },
    ]);
  });

  it('lets a schedule function that publishes write them, and not read them', () => {
    const { template } = synthesizeWith(DECLARED);
    const bucket = bucketOf(template);

    expect(s3Of(template, 'report')).toEqual([
      {
        actions: ['s3:PutObject'],
        resource: objectsArn(bucket, 'claim-check/'),
      },
      { actions: ['s3:ListBucket'], resource: bucketArn(bucket) },
    ]);
    expect(environmentOf(template, 'report')).toMatchObject({
      SWITCHYARD_CLAIM_CHECK_BUCKET: 'large',
    });
  });

  it('gives a function that neither consumes a channel nor publishes nothing of the bucket, and no claim check', () => {
    const { template } = synthesizeWith(DECLARED);

    expect(s3Of(template, 'nightly')).toEqual([]);
    expect(environmentOf(template, 'nightly')).not.toHaveProperty(
      'SWITCHYARD_CLAIM_CHECK_BUCKET',
    );
  });

  it('grants the prefix the pipeline declares, on the bucket of the deployment prefix', () => {
    const { template } = synthesize(
      (app) =>
        new PipelineStack(app, 'Media', {
          pipeline: pipelineWith({
            claimCheck: { bucket: 'large', prefix: 'big/bodies/' },
          }),
          pipelineModule: MODULE,
          prefix: 'dev-',
        }),
    );
    const fn = 'dev-media-catalog';
    const bucket = logicalId(template, 'AWS::S3::Bucket', {
      BucketName: 'dev-large',
    });

    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:GetObject',
            Resource: objectsArn(bucket, 'big/bodies/'),
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: fn,
      Environment: {
        Variables: Match.objectLike({
          SWITCHYARD_AWS_PREFIX: 'dev-',
          SWITCHYARD_CLAIM_CHECK_BUCKET: 'large',
          SWITCHYARD_CLAIM_CHECK_PREFIX: 'big/bodies/',
        }),
      },
    });
  });

  it('grants nothing of the kind without a claim check', () => {
    const { template } = synthesizeWith({});

    for (const name of ['thumbnails', 'catalog', 'report', 'nightly']) {
      expect(s3Of(template, name)).toEqual([]);
      expect(environmentOf(template, name)).not.toHaveProperty(
        'SWITCHYARD_CLAIM_CHECK_BUCKET',
      );
    }
  });
});

describe('a stack with a claim check', () => {
  it('leaves no finding of the AWS Solutions pack unacknowledged', () => {
    const { stack } = synthesizeWith(DECLARED);

    const report = new nag.AwsSolutionsChecks().validateScope(stack);
    const findings = report.violations.flatMap((violation) =>
      violation.violatingResources.map(
        (resource) =>
          `${violation.severity} ${violation.ruleName} on ${resource.resourceLogicalId ?? resource.locations.join(', ')}`,
      ),
    );

    expect(findings).toEqual([]);
  });

  it('passes cfn-lint with no errors', async () => {
    const { templateFile } = synthesizeWith(DECLARED);

    const errors = await lintErrors(templateFile);

    expect(errors).toEqual([]);
  });
});
