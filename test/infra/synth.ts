/**
 * Synthesizing pipeline stacks for the infra tests: an app with the
 * feature flags of the CDK app, in a temporary cloud assembly, with or
 * without bundling the functions; and finding resources and policy
 * statements in the template.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, expect } from 'vitest';
import { createApp } from '../../infra/aws/create-app.ts';
import type {
  PipelineStack,
  PipelineStackProps,
} from '../../infra/aws/pipeline-stack.ts';
import { createReferenceStack } from '../../infra/aws/reference.ts';

/** Cloud assemblies written by this test file, removed after its tests. */
const written = new Set<string>();

afterAll(() => {
  for (const folder of written)
    rmSync(folder, { recursive: true, force: true });
  written.clear();
});

/** A synthesized stack, its template and where the template was written. */
export interface Synthesized {
  app: App;
  stack: PipelineStack;
  template: Template;
  templateFile: string;
}

/** What {@link synthesize} builds the app with. */
export interface SynthOptions {
  /**
   * Bundle the functions with esbuild. Default false: the template is
   * the same, only the assets are left empty.
   */
  bundle?: boolean;
  /** Run the cdk-nag pack when the app synthesizes. Default false. */
  nag?: boolean;
}

/**
 * Synthesizes the stack `build` adds to a fresh app. Without bundling,
 * the adapter module need not exist: the entries are written and not
 * bundled.
 */
export function synthesize(
  build: (app: App) => PipelineStack,
  options: SynthOptions = {},
): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-cdk-'));
  written.add(outdir);
  const app = createApp({
    nag: options.nag ?? false,
    outdir,
    context: options.bundle === true ? {} : { 'aws:cdk:bundling-stacks': [] },
  });
  const stack = build(app);
  const assembly = app.synth();

  return {
    app,
    stack,
    template: Template.fromStack(stack),
    templateFile: join(assembly.directory, stack.templateFile),
  };
}

/** The reference pipeline's stack, synthesized. */
export function synthesizeReference(
  props: Partial<PipelineStackProps> = {},
  options: SynthOptions = {},
): Synthesized {
  return synthesize((app) => createReferenceStack(app, props), options);
}

/**
 * The logical id of the one resource of `type` whose properties match
 * `props`. Fails the test unless exactly one does.
 */
export function logicalId(
  template: Template,
  type: string,
  props: Record<string, unknown>,
): string {
  const found = Object.keys(
    template.findResources(type, { Properties: Match.objectLike(props) }),
  );
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** A statement of an IAM policy, as the template writes it. */
export interface PolicyStatement {
  Action: string | string[];
  Resource: unknown;
  [field: string]: unknown;
}

/**
 * The statements of the policies attached to the role of the Lambda
 * function named `functionName` (its full name, prefix included).
 */
export function policyStatementsOf(
  template: Template,
  functionName: string,
): PolicyStatement[] {
  const fn = logicalId(template, 'AWS::Lambda::Function', {
    FunctionName: functionName,
  });
  const role = (
    template.findResources('AWS::Lambda::Function')[fn]!.Properties as {
      Role: { 'Fn::GetAtt': [string, string] };
    }
  ).Role['Fn::GetAtt'][0];
  const policies = Object.values(
    template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: role }] },
    }),
  );

  return policies.flatMap(
    (p) =>
      (p.Properties as { PolicyDocument: { Statement: PolicyStatement[] } })
        .PolicyDocument.Statement,
  );
}
