/**
 * The connection of one nats provider instance and what its parts share:
 * the core NATS connection, the JetStream client and manager, the
 * options, the logger and the lifecycle that closes the consumers,
 * watches and servers the instance opened.
 */
import {
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { TransportUnavailableError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { Lifecycle } from '../../core/provider-kit.ts';
import { isNoResponders, natsError, PROVIDER } from './errors.ts';
import type { ResolvedNatsOptions } from './options.ts';
import { StreamPublisher } from './publisher.ts';

/** Pause between two attempts to reach a server after a lost connection. */
const RECONNECT_WAIT_MS = 250;

/** The shared state of one nats provider instance. */
export interface NatsContext {
  /** The core NATS connection; it reconnects by itself once connected. */
  readonly nc: NatsConnection;
  /** JetStream administration: streams and consumers. */
  readonly jsm: JetStreamManager;
  /** JetStream publishing and consuming. */
  readonly js: JetStreamClient;
  readonly options: ResolvedNatsOptions;
  readonly logger: Logger;
  /** Closes what the instance opened when the instance closes. */
  readonly lifecycle: Lifecycle;
  /** Publishes to streams; see {@link StreamPublisher}. */
  readonly publisher: StreamPublisher;
}

/**
 * Connects to the first server of `options.servers` that answers and
 * checks that it runs JetStream.
 *
 * The first connection tries each server once and gives up with a
 * TransportUnavailableError that names the servers tried, within
 * `connectTimeoutMs`: a server that is down at start fails the start
 * instead of hanging it. Once connected, a lost connection is retried
 * without end, every 250 ms, and operations issued meanwhile fail or
 * wait as the client decides.
 *
 * @example
 * ```ts
 * const context = await openNatsContext(resolveNatsOptions({}), { logger });
 * await context.nc.flush();
 * await closeNatsContext(context);
 * ```
 */
export async function openNatsContext(
  options: ResolvedNatsOptions,
  context: { logger: Logger },
): Promise<NatsContext> {
  const nc = await connectWithin(options);

  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc, { timeout: options.connectTimeoutMs });
  } catch (error) {
    await nc.close().catch(() => {});
    if (isNoResponders(error) || isNotEnabled(error)) {
      throw new TransportUnavailableError(
        `cannot connect to nats at ${nc.getServer()}: JetStream is not enabled on the server (start it with -js)`,
        {
          cause: error,
          details: { provider: PROVIDER, servers: options.servers },
        },
      );
    }
    throw natsError(error, 'open JetStream', {
      details: { servers: options.servers },
      timeoutMs: options.connectTimeoutMs,
    });
  }

  context.logger.info('connected to nats', {
    server: nc.getServer(),
    version: nc.info?.version,
  });
  return {
    nc,
    jsm,
    js: jetstream(nc, { timeout: options.connectTimeoutMs }),
    options,
    logger: context.logger,
    lifecycle: new Lifecycle(PROVIDER),
    publisher: new StreamPublisher(nc, options.connectTimeoutMs),
  };
}

/**
 * Closes what the instance opened, then drains the connection so that
 * replies and acknowledgements already issued reach the server.
 * Idempotent.
 */
export async function closeNatsContext(context: NatsContext): Promise<void> {
  await context.lifecycle.close();
  if (!context.nc.isClosed()) {
    await context.nc.drain().catch(() => context.nc.close());
  }
  context.publisher.close();
}

/** The connection options the client receives. */
export function connectionOptions(
  options: ResolvedNatsOptions,
): ConnectionOptions {
  const connection: ConnectionOptions = {
    servers: [...options.servers],
    timeout: options.connectTimeoutMs,
    // The first connect tries each server once and fails; only after it
    // succeeded does the client reconnect, and then without end.
    waitOnFirstConnect: false,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: RECONNECT_WAIT_MS,
    ignoreClusterUpdates: false,
    // Errors are wrapped with the operation that failed; the client's own
    // stack capture on every request would cost more than the request.
    noAsyncTraces: true,
  };
  if (options.name !== undefined) connection.name = options.name;
  if (options.user !== undefined) connection.user = options.user;
  if (options.pass !== undefined) connection.pass = options.pass;
  if (options.token !== undefined) connection.token = options.token;
  return connection;
}

/** Connects, bounded by `connectTimeoutMs` whatever the client does. */
async function connectWithin(
  options: ResolvedNatsOptions,
): Promise<NatsConnection> {
  const attempt = connect(connectionOptions(options));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.connectTimeoutMs);
  });

  try {
    const outcome = await Promise.race([attempt, deadline]);
    if (outcome === 'timeout') {
      // A connection that completes after the deadline is not used.
      attempt.then((late) => late.close()).catch(() => {});
      throw unreachable(
        options,
        `no answer within ${options.connectTimeoutMs} ms`,
      );
    }
    return outcome;
  } catch (error) {
    if (error instanceof TransportUnavailableError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw unreachable(options, reason, error);
  } finally {
    clearTimeout(timer);
  }
}

function unreachable(
  options: ResolvedNatsOptions,
  reason: string,
  cause?: unknown,
): TransportUnavailableError {
  const tried = options.servers.join(', ');
  const code =
    cause instanceof Error
      ? String((cause.cause as { code?: unknown })?.code ?? cause.name)
      : 'timeout';
  return new TransportUnavailableError(
    `cannot connect to nats (tried ${tried}): ${reason}`,
    {
      cause,
      details: {
        provider: PROVIDER,
        providerCode: code,
        servers: [...options.servers],
      },
    },
  );
}

function isNotEnabled(error: unknown): boolean {
  return error instanceof Error && error.name === 'JetStreamNotEnabled';
}
