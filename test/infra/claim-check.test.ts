/**
 * The claim check in the stack: the bucket of a pipeline's claim check
 * expires the objects under its prefix, declared or not among the
 * pipeline's object buckets.
 */
import { fileURLToPath } from 'node:url';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PipelineStack } from '../../infra/aws/pipeline-stack.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { defineFunction } from '../../src/functions/define-function.ts';
import {
  definePipeline,
  type PipelineSpec,
} from '../../src/functions/define-pipeline.ts';
import { describePipeline } from '../../src/functions/resources.ts';
import { onChannel } from '../../src/functions/triggers.ts';
import { synthesize } from './synth.ts';

/** Any module will do: the entries are written, not bundled. */
const MODULE = fileURLToPath(import.meta.url);

/** A pipeline of one channel and one function, with `extra` on top. */
function pipelineWith(extra: Partial<PipelineSpec>) {
  return definePipeline({
    name: 'media',
    channels: { uploads: {} },
    functions: [
      defineFunction({
        name: 'thumbnails',
        trigger: onChannel('uploads', { group: 'thumbnails' }),
        handler: () => {},
      }),
    ],
    ...extra,
  });
}

function synthesizeWith(extra: Partial<PipelineSpec>) {
  return synthesize(
    (app) =>
      new PipelineStack(app, 'Media', {
        pipeline: pipelineWith(extra),
        pipelineModule: MODULE,
      }),
  );
}

describe('the bucket of a claim check', () => {
  it('is declared with a rule that expires the prefix after 15 days by default', () => {
    const { template } = synthesizeWith({ claimCheck: { bucket: 'large' } });

    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'large',
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          {
            Id: 'expire-claim-checks',
            Prefix: 'claim-check/',
            ExpirationInDays: 15,
            Status: 'Enabled',
          },
        ]),
      },
    });
  });

  it('expires its own prefix after the days configured', () => {
    const { template } = synthesizeWith({
      claimCheck: {
        bucket: 'large',
        prefix: 'big/bodies/',
        expireAfterDays: 3,
      },
    });

    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'large',
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'expire-claim-checks',
            Prefix: 'big/bodies/',
            ExpirationInDays: 3,
          }),
        ]),
      },
    });
  });

  it('keeps the rules of a bucket the pipeline declares itself', () => {
    const { template } = synthesizeWith({
      objects: { large: { expireAfterMs: 30 * 24 * 3_600_000 } },
      claimCheck: { bucket: 'large', expireAfterDays: 2 },
    });

    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'large',
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'expire-claim-checks', ExpirationInDays: 2 }),
          Match.objectLike({ Id: 'expire-objects', ExpirationInDays: 30 }),
        ]),
      },
    });
  });

  it('is not there without a claim check', () => {
    const { template } = synthesizeWith({});

    template.resourceCountIs('AWS::S3::Bucket', 0);
  });
});

describe('the claim check of a pipeline definition', () => {
  it('is listed among the resources with its defaults', () => {
    const resources = describePipeline(
      pipelineWith({ claimCheck: { bucket: 'large' } }),
    );

    expect(resources.claimCheck).toEqual({
      bucket: 'large',
      prefix: 'claim-check/',
      expireAfterDays: 15,
    });
    expect(resources.objects.map((o) => o.name)).toEqual(['large']);
  });

  it('refuses an expiry that is not a whole number of days, naming the field', () => {
    let caught: unknown;
    try {
      pipelineWith({ claimCheck: { bucket: 'large', expireAfterDays: 0.5 } });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as ConfigurationError).field).toBe(
      'claimCheck.expireAfterDays',
    );
    expect((caught as Error).message).toContain('got 0.5');
  });
});
