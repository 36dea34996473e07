/**
 * What every part of the aws provider shares: the SDK clients, each built
 * on first use, the resolved options, the logger and the lifecycle of the
 * provider instance.
 *
 * Endpoint, region and credentials come from the options, else from the
 * SDK's standard chain (`AWS_ENDPOINT_URL`, `AWS_REGION`, environment
 * credentials, the shared profile, then the instance metadata), so that
 * the same configuration reaches LocalStack, an emulator or an account.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TimeoutError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { Lifecycle } from '../../core/provider-kit.ts';
import { PROVIDER } from './errors.ts';
import type { AwsClients, ResolvedAwsOptions } from './options.ts';

/**
 * The configuration every SDK client of the provider is built with.
 * `requestTimeout` bounds each attempt of a call from start to answer;
 * the SDK only logs a request past it unless `throwOnRequestTimeout` is
 * set, and a call to a server that has fallen silent would then never
 * end.
 */
export interface SdkClientConfig {
  endpoint?: string;
  region?: string;
  maxAttempts: number;
  requestHandler: {
    requestTimeout: number;
    connectionTimeout: number;
    throwOnRequestTimeout: true;
  };
}

/** The shared state of one provider instance. */
export class AwsContext {
  readonly options: ResolvedAwsOptions;
  readonly logger: Logger;
  /** Closes what the instance opened when the instance closes. */
  readonly lifecycle = new Lifecycle(PROVIDER);
  readonly #given: Partial<AwsClients>;
  readonly #built: Partial<AwsClients> = {};
  #document: DynamoDBDocumentClient | undefined;

  constructor(options: ResolvedAwsOptions, logger: Logger) {
    this.options = options;
    this.logger = logger;
    this.#given = options.clients;
  }

  /** The configuration of the clients the provider builds. */
  get clientConfig(): SdkClientConfig {
    const { endpoint, region, maxAttempts, requestTimeoutMs } = this.options;
    return {
      ...(endpoint !== undefined && { endpoint }),
      ...(region !== undefined && { region }),
      maxAttempts,
      requestHandler: {
        requestTimeout: requestTimeoutMs,
        connectionTimeout: Math.min(requestTimeoutMs, 5_000),
        throwOnRequestTimeout: true,
      },
    };
  }

  get sqs(): SQSClient {
    return this.#client('sqs', () => new SQSClient(this.clientConfig));
  }

  get sns(): SNSClient {
    return this.#client('sns', () => new SNSClient(this.clientConfig));
  }

  get dynamodb(): DynamoDBClient {
    return this.#client(
      'dynamodb',
      () => new DynamoDBClient(this.clientConfig),
    );
  }

  /** DynamoDB with plain JavaScript values in and out. */
  get document(): DynamoDBDocumentClient {
    this.#document ??= DynamoDBDocumentClient.from(this.dynamodb, {
      marshallOptions: { removeUndefinedValues: true },
    });
    return this.#document;
  }

  get dynamodbStreams(): DynamoDBStreamsClient {
    return this.#client(
      'dynamodbStreams',
      () => new DynamoDBStreamsClient(this.clientConfig),
    );
  }

  get s3(): S3Client {
    return this.#client(
      's3',
      () =>
        new S3Client({
          ...this.clientConfig,
          forcePathStyle: this.options.forcePathStyle,
        }),
    );
  }

  /** `name` with the configured prefix: the name of a resource. */
  resourceName(name: string): string {
    return `${this.options.prefix}${name}`;
  }

  /**
   * Closes what the instance opened, then the clients it built; clients
   * the user handed in stay open.
   */
  async close(): Promise<void> {
    await this.lifecycle.close();
    for (const client of Object.values(this.#built)) client.destroy();
  }

  #client<K extends keyof AwsClients>(
    key: K,
    build: () => AwsClients[K],
  ): AwsClients[K] {
    const given = this.#given[key];
    if (given !== undefined) return given;
    const built = this.#built[key];
    if (built !== undefined) return built;
    const client = build();
    if (key !== 's3') {
      // The clients differ in their input and output types only.
      const stack = client.middlewareStack as unknown as {
        add(
          middleware: ReturnType<typeof callDeadline>,
          options: { step: 'initialize'; name: string },
        ): void;
      };
      stack.add(callDeadline(this.options), {
        step: 'initialize',
        name: 'switchyardCallDeadline',
      });
    }
    this.#built[key] = client;
    return client;
  }
}

/** Allowance for the SDK's pause between two attempts, in ms. */
const RETRY_PAUSE_MS = 1_000;

/**
 * A bound on a whole call, every attempt and pause included: whatever the
 * HTTP handler does with a connection that has fallen silent, the call
 * then ends with a retryable TimeoutError instead of never. Calls to S3
 * are left out: an upload that keeps sending may rightly take longer.
 * A long poll's own wait is added to the bound.
 */
function callDeadline(options: ResolvedAwsOptions) {
  const { maxAttempts, requestTimeoutMs } = options;
  const perAttempt = requestTimeoutMs + Math.min(requestTimeoutMs, 5_000);
  const boundMs = maxAttempts * perAttempt + (maxAttempts - 1) * RETRY_PAUSE_MS;

  return <Output>(
    next: (args: { input: object }) => Promise<Output>,
    context: { commandName?: string },
  ) =>
    (args: { input: object }): Promise<Output> => {
      const wait = (args.input as { WaitTimeSeconds?: unknown })
        .WaitTimeSeconds;
      const ms = boundMs + (typeof wait === 'number' ? wait * 1_000 : 0);
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(
            new TimeoutError(
              `${context.commandName ?? 'an AWS call'} did not end within ${ms} ms (${maxAttempts} attempts of up to ${requestTimeoutMs} ms): the service or the connection to it is not answering`,
              ms,
              { details: { provider: PROVIDER } },
            ),
          );
        }, ms);
      });
      return Promise.race([next(args), expired]).finally(() =>
        clearTimeout(timer),
      );
    };
}
