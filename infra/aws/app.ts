/**
 * The CDK app of the reference pipeline (`functions/pipeline.ts`): one
 * stack, `cdk synth` and `cdk deploy` from the repository root.
 *
 * The prefix of resource names is the `prefix` context value
 * (`cdk synth -c prefix=dev-`), else `SWITCHYARD_AWS_PREFIX`, else none.
 * The stack is environment-agnostic unless `CDK_DEFAULT_ACCOUNT` and
 * `CDK_DEFAULT_REGION` are both set, as the CLI does with credentials.
 */
import { createApp } from './create-app.ts';
import { createReferenceStack } from './reference.ts';

const app = createApp();
const prefix =
  (app.node.tryGetContext('prefix') as string | undefined) ??
  process.env.SWITCHYARD_AWS_PREFIX ??
  '';
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;

createReferenceStack(app, {
  prefix,
  ...(account !== undefined &&
    region !== undefined && { env: { account, region } }),
});
app.synth();
