import type { App } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import nag from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import type { PipelineStack as Stack } from '../../infra/aws/pipeline-stack.ts';
import { PipelineStack } from '../../infra/aws/pipeline-stack.ts';
import { createReferenceStack } from '../../infra/aws/reference.ts';
import { SAMPLE_MODULE, samplePipeline } from './sample-pipeline.ts';
import { synthesize, synthesizeReference } from './synth.ts';

/** Findings of the AWS Solutions pack left unacknowledged in `stack`. */
function findings(stack: Stack): string[] {
  const report = new nag.AwsSolutionsChecks().validateScope(stack);

  return report.violations.flatMap((violation) =>
    violation.violatingResources.map(
      (resource) =>
        `${violation.severity} ${violation.ruleName} on ${resource.resourceLogicalId ?? resource.locations.join(', ')}`,
    ),
  );
}

describe('cdk-nag on a pipeline stack', () => {
  it('leaves no finding of the AWS Solutions pack unacknowledged in the reference stack', () => {
    const { stack } = synthesizeReference();

    expect(findings(stack)).toEqual([]);
  });

  it('leaves none in a stack of standard queues, watches and publish grants either', () => {
    const { stack } = synthesize(
      (app) =>
        new PipelineStack(app, 'Shop', {
          pipeline: samplePipeline,
          pipelineModule: SAMPLE_MODULE,
          functions: {
            billing: {
              access: {
                publish: ['orders'],
                writeKv: ['carts'],
                watchKv: ['carts'],
                readObjects: ['receipts'],
              },
            },
            shipping: { access: { writeObjects: ['receipts'] } },
          },
        }),
    );

    expect(findings(stack)).toEqual([]);
  });

  it('lets the app synthesize with the pack as its validation plugin', () => {
    expect(() => synthesizeReference({}, { nag: true })).not.toThrow();
  });

  it('fails the synth on a finding nobody acknowledged', () => {
    const build = (app: App) => {
      const stack = createReferenceStack(app);
      new Bucket(stack, 'Unchecked');
      return stack;
    };

    expect(() => synthesize(build, { nag: true })).toThrow(/AwsSolutions-S1/);
  });
});
