/**
 * The AWS Lambda side of the functions layer: a Switchyard function as
 * a Lambda handler for SQS, SNS, S3 and EventBridge scheduled events,
 * or as a middy middleware. Import it from `switchyard/aws-lambda`; it loads no
 * provider but the one its configuration selects.
 *
 * @example
 * ```ts
 * import { toLambda } from 'switchyard/aws-lambda';
 * export const handler = toLambda(indexer, { pipeline });
 * ```
 */

export {
  LambdaBatchError,
  LambdaEventError,
  type RecordFailure,
} from './errors.ts';
export {
  type BatchMiddleware,
  type BatchRequest,
  switchyardBatch,
} from './middy.ts';
export {
  DEFAULT_SAFETY_MARGIN_MS,
  type LambdaOptions,
  type ProviderSource,
  type SqsVisibilityClient,
} from './options.ts';
export type { RecordOutcome, RecordStatus } from './record-delivery.ts';
export {
  gatherTopicName,
  type RequestNameOptions,
  requestQueueName,
} from './request-names.ts';
export { type SwitchyardLambdaHandler, toLambda } from './to-lambda.ts';
