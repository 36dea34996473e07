/**
 * The CDK `App` the Switchyard stacks are built in, with the same
 * feature flags and checks under `cdk synth` and in tests.
 */
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import nag from 'cdk-nag';

/**
 * Feature flags of the app: IAM policies merged where they can be,
 * partitions written as literals where known, access-log buckets
 * granted by bucket policy, and SQS subscriptions that may decrypt
 * only with the key they need.
 */
export const FEATURE_FLAGS: Readonly<Record<string, boolean>> = {
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/core:enablePartitionLiterals': true,
  '@aws-cdk/aws-s3:createDefaultLoggingPolicy': true,
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-sns-subscriptions:restrictSqsDescryption': true,
};

/** Props of {@link createApp}. */
export interface SwitchyardAppProps extends AppProps {
  /**
   * Check every stack with cdk-nag's AWS Solutions rules when the app
   * synthesizes: a finding that no stack acknowledges fails the synth.
   *
   * @default true
   */
  readonly nag?: boolean;
}

/**
 * An app with {@link FEATURE_FLAGS} under the given context, no version
 * reporting (the template carries no analytics metadata), and the
 * cdk-nag AWS Solutions pack as a validation plugin.
 *
 * @example
 * ```ts
 * const app = createApp({ outdir: 'cdk.out' });
 * ```
 */
export function createApp(props: SwitchyardAppProps = {}): App {
  const { nag: check = true, ...appProps } = props;
  const app = new App({
    analyticsReporting: false,
    ...appProps,
    context: { ...FEATURE_FLAGS, ...appProps.context },
  });
  if (check) {
    Validations.of(app).addPlugins(
      new nag.AwsSolutionsChecks(app, { verbose: true }),
    );
  }

  return app;
}
