/**
 * What a provider can do. A provider declares its limits and each feature it
 * lacks, with the reason, so that a configuration that needs the feature
 * fails at start with a `CapabilityError` instead of at the first message,
 * and so the conformance suite checks the refusal instead of skipping.
 */

/** Optional features that a provider may lack. */
export type Feature =
  /** Every live instance receives every message. */
  | 'broadcast'
  /** retry() with a delay makes the message visible only after the delay. */
  | 'delayedRetry'
  /** extendLease() pushes back redelivery of a message in flight. */
  | 'extendLease'
  /** Messages with one ordering key are delivered one at a time, in order. */
  | 'ordering'
  /** purge() can remove only what every group has acknowledged. */
  | 'purgeAcknowledged'
  /** Key-value watch (snapshot, then puts and deletes). */
  | 'watch'
  /** Key-value entries expire after the bucket's TTL. */
  | 'kvTtl'
  /** Object writes conditional on absence or on an etag. */
  | 'conditionalObjects'
  /** request(), gather() and serve(). */
  | 'requestReply'
  /** Several processes share one channel (not just one process). */
  | 'multiProcess';

/** The limits and features of a provider. */
export interface Capabilities {
  /** Largest encoded message the transport carries, in bytes. */
  maxPayloadBytes: number;
  /** Largest number of messages in one batch publish call to the transport. */
  maxBatchSize: number;
  /**
   * How long the transport remembers a message id to drop a re-publish, in
   * milliseconds; 0 if it does not.
   */
  dedupWindowMs: number;
  /** Which behaviours the transport provides itself, not emulated. */
  native: {
    deadLetter: boolean;
    watch: boolean;
    requestReply: boolean;
  };
  /** Features the provider lacks, each with the reason. */
  unsupported: Partial<Record<Feature, string>>;
}

/** Whether `capabilities` include `feature`. */
export function supports(
  capabilities: Capabilities,
  feature: Feature,
): boolean {
  return capabilities.unsupported[feature] === undefined;
}
