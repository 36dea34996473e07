/**
 * Switchyard: a transport-agnostic event pipeline. This module is the
 * package's public surface; nothing else is part of the API.
 *
 * @example
 * ```ts
 * import { connect } from 'switchyard';
 *
 * const sy = await connect();
 * await sy.channel('orders').publish({ sku: 'apple' });
 * await sy.close();
 * ```
 */

export {
  type ConnectOptions,
  connect,
  loadConfig,
  parseConfig,
  providerNames,
  registerProvider,
  type SwitchyardConfig,
  type SwitchyardConfigInput,
} from './config/index.ts';
export {
  type Capabilities,
  type Feature,
  supports,
} from './core/capabilities.ts';
export type {
  BackoffOptions,
  Channel,
  ChannelOptions,
  ConsumerMode,
  ConsumerOptions,
  Delivery,
  Guarantee,
  Handler,
  HandlerContext,
  PullConsumer,
  SubscribeOptions,
  Subscription,
  SubscriptionStats,
} from './core/channel.ts';
export { createSwitchyard } from './core/client.ts';
export {
  type CloudEventJson,
  cloudEventToMessage,
  fromCloudEvent,
  messageToCloudEvent,
  toCloudEvent,
} from './core/cloudevents.ts';
export type { Codec, CodecOption } from './core/codec.ts';
export {
  codecForContentType,
  jsonCodec,
  msgpackCodec,
  rawCodec,
  resolveCodec,
} from './core/codecs.ts';
export {
  type BinaryEnvelope,
  decodeBinary,
  decodeStructured,
  encodeBinary,
  encodeStructured,
  STRUCTURED_CONTENT_TYPE,
} from './core/envelope.ts';
export * from './core/errors.ts';
export type { KvBucket, KvEntry, KvEvent, KvOptions } from './core/kv.ts';
export { type LogFields, type Logger, silentLogger } from './core/logger.ts';
export type {
  BatchEntry,
  BatchResult,
  Message,
  PublishOptions,
  PublishReceipt,
  WireMessage,
} from './core/message.ts';
export {
  assertAttributes,
  assertKey,
  assertMessageId,
  assertName,
  assertObjectName,
} from './core/names.ts';
export type {
  ObjectBody,
  ObjectBucket,
  ObjectBucketOptions,
} from './core/objects.ts';
export type * from './core/provider.ts';
export type {
  GatherOptions,
  GatherReply,
  RequestHandler,
  RequestOptions,
  ServeOptions,
  Server,
} from './core/requests.ts';
export { type SchemaIssue, validateSchema } from './core/schema.ts';
export type {
  ChannelAdmin,
  Part,
  SwitchOptions,
  SwitchReport,
  SwitchTarget,
  Switchyard,
  SwitchyardOptions,
} from './core/switchyard.ts';
export {
  CLAIM_CHECK_CONTENT_TYPE,
  type ClaimCheckOptions,
  type ClaimCheckReference,
  DEFAULT_CLAIM_CHECK_PREFIX,
  withClaimCheck,
} from './delivery/claim-check.ts';
export {
  type ClaimCheckDeclaration,
  type ClaimCheckSetting,
  DEFAULT_CLAIM_CHECK_EXPIRY_DAYS,
  DEFAULT_CLAIM_CHECK_MAX_BYTES,
} from './delivery/claim-check-options.ts';
export {
  type DrainedOptions,
  type FailedMessage,
  isPermanentRefusal,
  type Outbox,
  type OutboxChannelStats,
  type OutboxOptions,
  type OutboxSend,
  type OutboxStats,
  openOutbox,
} from './delivery/outbox.ts';
export {
  DEFAULT_OUTBOX_PATH,
  type OutboxAccess,
  type OutboxSettings,
} from './delivery/outbox-client.ts';
export { inspectOutbox } from './delivery/outbox-stats.ts';
export * from './functions/index.ts';
