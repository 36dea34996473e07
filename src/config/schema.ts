/**
 * The configuration: which provider serves each part, and each provider's
 * options. Read from `switchyard.config.json` (or `.ts`) and the
 * environment, validated at start.
 *
 * @example
 * ```json
 * {
 *   "provider": "local",
 *   "parts": { "kv": "memory" },
 *   "providers": { "local": { "dataDir": ".switchyard" } },
 *   "claimCheck": { "bucket": "claim-checks" }
 * }
 * ```
 *
 * `claimCheck` carries a message body larger than the channels provider
 * takes as an object in `bucket` of the objects provider (see
 * `src/delivery/claim-check.ts`); `prefix` (default `claim-check/`) and
 * `maxBytes` (default 33554432) are checked by `resolveClaimCheck`.
 *
 * `outbox` sets the producer outbox of channels published with
 * `confirm: 'outbox'` (see `src/delivery/outbox-client.ts`): `path`
 * (default `.switchyard/outbox.db`), `batchSize`, `concurrency`, `leaseMs`,
 * `pollIntervalMs`, `synchronous`, `closeTimeoutMs` and `backoff`.
 */
import { z } from 'zod';
import { ConfigurationError } from '../core/errors.ts';
import type { Part } from '../core/switchyard.ts';

/** The parts that can each be given their own provider. */
export const PARTS: readonly Part[] = [
  'channels',
  'kv',
  'objects',
  'requests',
  'idempotency',
];

const providerName = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, 'must be a provider name such as local');

const schema = z.strictObject({
  provider: providerName.default('local'),
  parts: z
    .strictObject({
      channels: providerName.optional(),
      kv: providerName.optional(),
      objects: providerName.optional(),
      requests: providerName.optional(),
      idempotency: providerName.optional(),
    })
    .default({}),
  providers: z
    .record(providerName, z.record(z.string(), z.unknown()))
    .default({}),
  claimCheck: z
    .strictObject({
      bucket: z.string(),
      prefix: z.string().optional(),
      maxBytes: z.number().int().positive().optional(),
    })
    .optional(),
  outbox: z
    .strictObject({
      path: z.string().min(1).optional(),
      batchSize: z.number().int().min(1).optional(),
      concurrency: z.number().int().min(1).optional(),
      leaseMs: z.number().min(100).optional(),
      pollIntervalMs: z.number().min(1).optional(),
      synchronous: z.enum(['full', 'normal']).optional(),
      closeTimeoutMs: z.number().min(0).optional(),
      backoff: z
        .strictObject({
          initialDelayMs: z.number().min(0).optional(),
          maxDelayMs: z.number().min(0).optional(),
          multiplier: z.number().min(1).optional(),
          jitter: z.enum(['full', 'none']).optional(),
        })
        .optional(),
    })
    .optional(),
});

/** A configuration as written in a file or passed in code. */
export type SwitchyardConfigInput = z.input<typeof schema>;

/** A validated configuration, defaults applied. */
export type SwitchyardConfig = z.output<typeof schema>;

/**
 * Validates a configuration and applies defaults. Throws a
 * ConfigurationError naming the first bad field and the value received.
 */
export function parseConfig(
  input: unknown,
  source = 'configuration',
): SwitchyardConfig {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;

  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const path = [...issue.path, issue.keys[0]!];
    const field = path.map(String).join('.');
    throw new ConfigurationError(
      `${source}: ${field} is not a known setting (known here: ${knownKeys(issue.path)})`,
      { field, value: valueAt(input, path) },
    );
  }

  const field = issue.path.map(String).join('.') || '(root)';
  const value = valueAt(input, issue.path);
  throw new ConfigurationError(
    `${source}: ${field} ${issue.message.replace(/^Invalid input: /, '')}, got ${describe(value)}`,
    { field, value },
  );
}

function knownKeys(path: readonly PropertyKey[]): string {
  if (path.length === 0) {
    return 'provider, parts, providers, claimCheck, outbox';
  }
  if (path[0] === 'claimCheck') return 'bucket, prefix, maxBytes';
  if (path[0] === 'outbox' && path[1] === 'backoff') {
    return 'initialDelayMs, maxDelayMs, multiplier, jitter';
  }
  if (path[0] === 'outbox') {
    return 'path, batchSize, concurrency, leaseMs, pollIntervalMs, synchronous, closeTimeoutMs, backoff';
  }
  return PARTS.join(', ');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
