/** Options of the aws provider: defaults and validation. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { optionChecks } from '../../core/provider-kit.ts';
import { PROVIDER } from './errors.ts';

/** SDK clients a user built, used instead of those the provider builds. */
export interface AwsClients {
  sqs: SQSClient;
  sns: SNSClient;
  dynamodb: DynamoDBClient;
  dynamodbStreams: DynamoDBStreamsClient;
  s3: S3Client;
}

/** Options of {@link createAwsProvider}. */
export interface AwsProviderOptions {
  /**
   * Endpoint of every service, for LocalStack or an emulator, e.g.
   * `http://localhost:4566`. Default `AWS_ENDPOINT_URL`, else the SDK's
   * own endpoints.
   */
  endpoint?: string;
  /** Region. Default the SDK's chain (`AWS_REGION`, the profile). */
  region?: string;
  /**
   * Prefix of every resource name the provider makes (topics, queues,
   * tables, buckets), to keep deployments apart in one account. Default
   * none.
   */
  prefix?: string;
  /** S3 path-style addressing. Default true when `endpoint` is set. */
  forcePathStyle?: boolean;
  /** Attempts of one SDK call, retries included. Default 3. */
  maxAttempts?: number;
  /**
   * How long one SDK request may take, in ms, long polls excepted.
   * Default 10000.
   */
  requestTimeoutMs?: number;
  /**
   * A broadcast queue whose instance has been gone for this long may be
   * removed by another instance's clean-up, in ms. Default 600000.
   */
  broadcastInactiveMs?: number;
  /** SDK clients to use instead of building them; any subset. */
  clients?: Partial<AwsClients>;
}

/** The options with every default applied. */
export interface ResolvedAwsOptions {
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
  readonly prefix: string;
  readonly forcePathStyle: boolean;
  readonly maxAttempts: number;
  readonly requestTimeoutMs: number;
  readonly broadcastInactiveMs: number;
  readonly clients: Partial<AwsClients>;
}

/** Defaults of {@link AwsProviderOptions}. */
export const AWS_DEFAULTS = {
  maxAttempts: 3,
  requestTimeoutMs: 10_000,
  broadcastInactiveMs: 600_000,
} as const;

const FIELDS = [
  'endpoint',
  'region',
  'prefix',
  'forcePathStyle',
  'maxAttempts',
  'requestTimeoutMs',
  'broadcastInactiveMs',
  'clients',
];

/**
 * Lowercase letters, digits and `-`, starting with a letter: valid in
 * topic, queue, table and bucket names alike.
 */
const PREFIX = /^[a-z][a-z0-9-]{0,19}$/;

const { rejectUnknown, isInteger, invalid } = optionChecks(PROVIDER);

/**
 * Validates options and applies the defaults. Throws a ConfigurationError
 * naming the field and the value received.
 */
export function resolveAwsOptions(
  options: Record<string, unknown> = {},
  env: Record<string, string | undefined> = process.env,
): ResolvedAwsOptions {
  rejectUnknown(options, FIELDS);
  const {
    endpoint = env.AWS_ENDPOINT_URL || undefined,
    region,
    prefix = '',
    forcePathStyle,
    maxAttempts = AWS_DEFAULTS.maxAttempts,
    requestTimeoutMs = AWS_DEFAULTS.requestTimeoutMs,
    broadcastInactiveMs = AWS_DEFAULTS.broadcastInactiveMs,
    clients = {},
  } = options;

  if (endpoint !== undefined && !isUrl(endpoint)) {
    throw invalid('endpoint', endpoint, 'must be an http or https URL');
  }
  if (region !== undefined && (typeof region !== 'string' || region === '')) {
    throw invalid('region', region, 'must be a region name such as eu-west-1');
  }
  if (prefix !== '' && !(typeof prefix === 'string' && PREFIX.test(prefix))) {
    throw invalid(
      'prefix',
      prefix,
      'must be 1 to 20 lowercase letters, digits or -, starting with a letter',
    );
  }
  if (forcePathStyle !== undefined && typeof forcePathStyle !== 'boolean') {
    throw invalid('forcePathStyle', forcePathStyle, 'must be true or false');
  }
  if (!isInteger(maxAttempts, 1)) {
    throw invalid(
      'maxAttempts',
      maxAttempts,
      'must be an integer of at least 1',
    );
  }
  if (!isInteger(requestTimeoutMs, 100)) {
    throw invalid(
      'requestTimeoutMs',
      requestTimeoutMs,
      'must be an integer of at least 100',
    );
  }
  if (!isInteger(broadcastInactiveMs, 1000)) {
    throw invalid(
      'broadcastInactiveMs',
      broadcastInactiveMs,
      'must be an integer of at least 1000',
    );
  }
  if (typeof clients !== 'object' || clients === null) {
    throw invalid('clients', clients, 'must be an object of SDK clients');
  }

  return {
    endpoint: endpoint as string | undefined,
    region: region as string | undefined,
    prefix: prefix as string,
    forcePathStyle:
      (forcePathStyle as boolean | undefined) ?? endpoint !== undefined,
    maxAttempts,
    requestTimeoutMs,
    broadcastInactiveMs,
    clients: clients as Partial<AwsClients>,
  };
}

function isUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
