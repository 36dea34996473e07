/**
 * The providers the fault cases run on, each in process against its real
 * store: local in a temporary data folder, nats on a nats-server of the
 * file's own, aws on a moto server of the file's own. Every test opens a
 * fresh namespace (data folder, stream prefix, resource prefix), so tests
 * never see each other's channels, and gets the raw access its faults
 * need: the SQLite file, a plain JetStream client, plain SQS and SNS
 * clients.
 *
 * `SWITCHYARD_FAULT_PROVIDERS` (comma-separated) narrows the list while
 * working on one provider; by default every one runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, PublishCommand } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { jetstream } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { createSwitchyard } from '../../src/core/client.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { WireMessage } from '../../src/core/message.ts';
import type {
  IdempotencyRecord,
  IdempotencyStore,
  Provider,
  TransportDelivery,
} from '../../src/core/provider.ts';
import type { Switchyard } from '../../src/core/switchyard.ts';
import { DEFAULT_IDEMPOTENCY_TABLE } from '../../src/delivery/policy.ts';
import { createAwsProvider } from '../../src/providers/aws/index.ts';
import { DATABASE_FILE } from '../../src/providers/local/database.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';
import {
  MESSAGE_COLUMNS,
  MESSAGE_PLACEHOLDERS,
  messageParams,
} from '../../src/providers/local/messages.ts';
import { createNatsProvider } from '../../src/providers/nats/index.ts';
import { eventually, expectDrained } from '../../src/testkit/helpers.ts';
import { plainClients } from '../aws/channel-fixtures.ts';
import { type MotoServer, startMotoServer } from '../aws/moto.ts';
import { type NatsTestServer, startNatsServer } from '../nats/server.ts';
import { PROVIDERS, type ProviderName } from './support/config.ts';

/** Bounds of the waits of a case, tuned to the transport. */
export interface Timing {
  /** A lease short enough to expire within a case. */
  leaseMs: number;
  /** How long a case waits for something that must happen. */
  eventuallyMs: number;
  /** How long a case watches for something that must not happen. */
  quietMs: number;
  /** The time limit of one case. */
  caseMs: number;
}

/** Options of {@link FaultScope.client}. */
export interface ClientOptions {
  /** Wraps the provider, to observe or disturb it. */
  wrap?: (provider: Provider) => Provider;
  logger?: Logger;
}

/** One test's namespace on a provider. */
export interface FaultScope<Raw> {
  /**
   * A client on a new provider instance of this namespace: several
   * clients are several members of a group, as separate processes
   * would be. Closed by `close()`.
   */
  client(options?: ClientOptions): Promise<Switchyard>;
  /** Reads an idempotency record as the provider stores it. */
  record(id: string, table?: string): Promise<IdempotencyRecord | undefined>;
  /** What the faults of this provider are injected with. */
  readonly raw: Raw;
  /** Closes the clients and removes what the namespace kept. */
  close(): Promise<void>;
}

/** A provider of the fault suite. */
export interface FaultTarget<Raw> {
  readonly name: ProviderName;
  readonly timing: Timing;
  /** Opens a fresh namespace; close it in `afterEach`. */
  open(): Promise<FaultScope<Raw>>;
}

/** Raw access to a local data folder. */
export interface LocalRaw {
  readonly dataDir: string;
  /**
   * Stores `message` in the `messages` table of `channel` in the columns
   * a publish of the provider writes, with `columns` written over them
   * as they are given. The channel must exist.
   */
  insertMessage(
    channel: string,
    message: WireMessage,
    columns?: Partial<Record<LocalColumn, unknown>>,
  ): Promise<void>;
}

/** The message columns of a row of `messages`. */
export type LocalColumn = (typeof LOCAL_COLUMNS)[number];

const LOCAL_COLUMNS = MESSAGE_COLUMNS.split(',').map((column) =>
  column.trim(),
) as readonly (
  | 'id'
  | 'body'
  | 'content_type'
  | 'attributes'
  | 'published_at'
  | 'publisher_id'
  | 'sequence'
  | 'ordering_key'
  | 'traceparent'
  | 'tracestate'
)[];

/** Raw access to the nats-server of the file. */
export interface NatsRaw {
  /** The subject a plain JetStream client publishes `channel` on. */
  subject(channel: string): string;
  /**
   * A plain JetStream publish on `subject`, with `headerValues` as NATS
   * headers when given; resolves once the stream stored it.
   */
  publish(
    subject: string,
    body: Uint8Array,
    headerValues?: Record<string, string>,
  ): Promise<void>;
}

/** Raw access to the moto server of the file. */
export interface AwsRaw {
  /** A plain SNS Publish of `text` to the topic of `channel`. */
  publishToTopic(channel: string, text: string): Promise<void>;
  /** A plain SQS SendMessage of `text` to the queue of `group`. */
  sendToQueue(channel: string, group: string, text: string): Promise<void>;
}

/** The providers of the suite, each with its raw access. */
export interface FaultTargets {
  local: FaultTarget<LocalRaw>;
  nats: FaultTarget<NatsRaw>;
  aws: FaultTarget<AwsRaw>;
}

/** One of the suite's targets, whatever its raw access. */
export type AnyFaultTarget = FaultTargets[ProviderName];

/**
 * The providers a fault file runs on, from `SWITCHYARD_FAULT_PROVIDERS`
 * or all of them.
 */
export function selectedProviders(): ProviderName[] {
  const listed = process.env.SWITCHYARD_FAULT_PROVIDERS;
  if (listed === undefined || listed.trim() === '') return [...PROVIDERS];
  const names = listed.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!PROVIDERS.includes(name as ProviderName)) {
      throw new Error(
        `SWITCHYARD_FAULT_PROVIDERS names ${JSON.stringify(name)}; the fault providers are ${PROVIDERS.join(', ')}`,
      );
    }
  }
  return names as ProviderName[];
}

/**
 * The targets of the calling file. The servers of the selected providers
 * start before its tests and stop after them; a target whose server is
 * not selected is never started.
 */
export function faultTargets(): FaultTargets {
  const selected = selectedProviders();
  let nats: NatsTestServer | undefined;
  let moto: MotoServer | undefined;

  beforeAll(async () => {
    const [natsServer, motoServer] = await Promise.all([
      selected.includes('nats') ? startNatsServer() : undefined,
      selected.includes('aws') ? startMotoServer() : undefined,
    ]);
    nats = natsServer;
    moto = motoServer;
  }, 60_000);
  afterAll(async () => {
    await Promise.all([nats?.stop(), moto?.stop()]);
  });

  return {
    local: localTarget(),
    nats: natsTarget(() => started(nats, 'nats-server')),
    aws: awsTarget(() => started(moto, 'moto_server')),
  };
}

/** The selected targets of `targets`, for `describe.each`. */
export function selectedTargets(targets: FaultTargets): AnyFaultTarget[] {
  return selectedProviders().map((name) => targets[name]);
}

/** What {@link useFaultScope} gives the tests of a describe block. */
export interface ScopedCases<Raw> {
  /**
   * The namespace of the running test: opened before each test and
   * closed after it. Use it inside a test, not while registering tests.
   */
  readonly scope: FaultScope<Raw>;
  /**
   * Waits until `check` passes, for the target's `eventuallyMs`; fails
   * with `message` after that.
   */
  until<T>(
    check: () => T | Promise<T>,
    message: string,
  ): Promise<Exclude<T, false>>;
  /** Waits until the group `billing` of `channel` has nothing left. */
  drained(client: Switchyard, channel: string): Promise<void>;
}

/**
 * Opens a fresh namespace of `target` before each test of the calling
 * describe block and closes it after, and gives the waits the cases
 * share, bounded by the target's timing.
 */
export function useFaultScope<Raw>(target: FaultTarget<Raw>): ScopedCases<Raw> {
  let current: FaultScope<Raw> | undefined;
  beforeEach(async () => {
    current = await target.open();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });

  const open = (): FaultScope<Raw> => {
    if (current === undefined) {
      throw new Error(
        `no fault scope of ${target.name} is open: use it inside a test`,
      );
    }
    return current;
  };
  const scope: FaultScope<Raw> = {
    client: (options) => open().client(options),
    record: (id, table) => open().record(id, table),
    get raw() {
      return open().raw;
    },
    close: () => open().close(),
  };
  const until = <T>(check: () => T | Promise<T>, message: string) =>
    eventually(check, { timeoutMs: target.timing.eventuallyMs, message });

  return {
    scope,
    until,
    drained: (client, channel) =>
      until(
        () => expectDrained(client, channel, 'billing'),
        'group drained',
      ).then(() => undefined),
  };
}

function started<T>(server: T | undefined, what: string): T {
  if (server === undefined) throw new Error(`the ${what} is not started`);
  return server;
}

function localTarget(): FaultTarget<LocalRaw> {
  return {
    name: 'local',
    timing: {
      leaseMs: 400,
      eventuallyMs: 15_000,
      quietMs: 600,
      caseMs: 40_000,
    },
    async open() {
      const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-faults-'));
      let db: Database.Database | undefined;
      const database = () => {
        db ??= new Database(join(dataDir, DATABASE_FILE));
        db.pragma('busy_timeout = 10000');
        return db;
      };

      const raw: LocalRaw = {
        dataDir,
        async insertMessage(channel, message, columns = {}) {
          insertLocalRow(database(), channel, message, columns);
        },
      };
      return scope(
        raw,
        () => createLocalProvider({ dataDir }),
        async () => {
          db?.close();
          await rm(dataDir, { recursive: true, force: true });
        },
      );
    },
  };
}

/** Inserts `message` as a publish would, with `columns` over it. */
function insertLocalRow(
  db: Database.Database,
  channel: string,
  message: WireMessage,
  columns: Partial<Record<LocalColumn, unknown>>,
): void {
  const found = db
    .prepare('SELECT id FROM channels WHERE name = ?')
    .get(channel) as { id: number } | undefined;
  if (found === undefined) {
    throw new Error(`channel ${channel} does not exist in the data folder`);
  }
  const values = messageParams(message).map((value, i) => {
    const column = LOCAL_COLUMNS[i]!;
    return column in columns ? columns[column] : value;
  });
  db.prepare(
    `INSERT INTO messages (channel_id, ${MESSAGE_COLUMNS})
     VALUES (?, ${MESSAGE_PLACEHOLDERS})`,
  ).run(found.id, ...values);
}

function natsTarget(server: () => NatsTestServer): FaultTarget<NatsRaw> {
  return {
    name: 'nats',
    timing: {
      leaseMs: 500,
      eventuallyMs: 20_000,
      quietMs: 800,
      caseMs: 60_000,
    },
    async open() {
      const { url } = server();
      const streamPrefix = `f${randomBytes(4).toString('hex')}_`;
      let nc: NatsConnection | undefined;
      const connection = async () => {
        nc ??= await connect({ servers: url });
        return nc;
      };

      const raw: NatsRaw = {
        subject: (channel) => `${streamPrefix}${channel}.raw`,
        async publish(subject, body, headerValues) {
          const js = jetstream(await connection());
          const options: Parameters<typeof js.publish>[2] = {};
          if (headerValues !== undefined) {
            const h = headers();
            for (const [name, value] of Object.entries(headerValues)) {
              h.set(name, value);
            }
            options.headers = h;
          }
          await js.publish(subject, body, options);
        },
      };
      return scope(
        raw,
        () =>
          createNatsProvider({
            servers: url,
            streamPrefix,
            broadcastInactiveMs: 5_000,
          }),
        async () => {
          await nc?.close();
        },
      );
    },
  };
}

function awsTarget(server: () => MotoServer): FaultTarget<AwsRaw> {
  return {
    name: 'aws',
    // SQS counts visibility in whole seconds, and moto answers tens of
    // requests a second: a lease of one second, and waits to match.
    timing: {
      leaseMs: 1_000,
      eventuallyMs: 45_000,
      quietMs: 2_500,
      caseMs: 120_000,
    },
    async open() {
      const moto = server();
      const prefix = `f${randomBytes(4).toString('hex')}-`;
      const { sns, sqs } = plainClients(moto);

      const raw: AwsRaw = {
        async publishToTopic(channel, text) {
          // Creating an existing topic answers with its ARN.
          const { TopicArn } = await sns.send(
            new CreateTopicCommand({ Name: `${prefix}${channel}` }),
          );
          await sns.send(new PublishCommand({ TopicArn, Message: text }));
        },
        async sendToQueue(channel, group, text) {
          const { QueueUrl } = await sqs.send(
            new GetQueueUrlCommand({
              QueueName: `${prefix}${channel}--${group}`,
            }),
          );
          await sqs.send(
            new SendMessageCommand({ QueueUrl, MessageBody: text }),
          );
        },
      };
      return scope(
        raw,
        () =>
          createAwsProvider({
            endpoint: moto.endpoint,
            prefix,
            broadcastInactiveMs: 5_000,
          }),
        async () => {
          sns.destroy();
          sqs.destroy();
        },
      );
    },
  };
}

/** A scope of clients made by `create`, released by `remove`. */
function scope<Raw>(
  raw: Raw,
  create: () => Promise<Provider>,
  remove: () => Promise<void>,
): FaultScope<Raw> {
  const clients: Switchyard[] = [];
  const providers: Provider[] = [];
  let closing: Promise<void> | undefined;

  const provider = async () => {
    const opened = await create();
    providers.push(opened);
    return opened;
  };
  let inspector: Promise<Provider> | undefined;
  const stores = new Map<string, Promise<IdempotencyStore>>();

  return {
    raw,
    async client(options = {}) {
      const opened = await provider();
      const client = createSwitchyard({
        provider: options.wrap ? options.wrap(opened) : opened,
        ...(options.logger !== undefined && { logger: options.logger }),
      });
      clients.push(client);
      return client;
    },
    async record(id, table = DEFAULT_IDEMPOTENCY_TABLE) {
      inspector ??= provider();
      const idempotency = (await inspector).idempotency;
      if (idempotency === undefined) {
        throw new Error('the provider keeps no idempotency records');
      }
      let store = stores.get(table);
      if (store === undefined) {
        store = idempotency.open(table);
        stores.set(table, store);
      }
      return (await store).get(id);
    },
    close() {
      closing ??= (async () => {
        await Promise.allSettled(clients.map((client) => client.close()));
        await Promise.allSettled(providers.map((p) => p.close()));
        await remove();
      })();
      return closing;
    },
  };
}

/** What a settle of a delivery asked for, as {@link observeSettles} saw it. */
export interface Settle {
  messageId: string;
  attempt: number;
  kind: 'ack' | 'nak' | 'deadLetter';
  /** The delay of a nak, in ms. */
  delayMs?: number;
  /** The reason of a dead letter. */
  reason?: string;
}

/**
 * `provider` with every settle of its deliveries recorded in `settles`
 * before it is passed on unchanged: it observes, it never alters.
 */
export function observeSettles(
  provider: Provider,
  settles: Settle[],
): Provider {
  const channels = provider.channels;
  if (channels === undefined) return provider;
  const watch = (delivery: TransportDelivery): TransportDelivery => {
    const note = (entry: Omit<Settle, 'messageId' | 'attempt'>) =>
      settles.push({
        messageId: delivery.message.id,
        attempt: delivery.attempt,
        ...entry,
      });
    return {
      message: delivery.message,
      attempt: delivery.attempt,
      channelSequence: delivery.channelSequence,
      ack: () => {
        note({ kind: 'ack' });
        return delivery.ack();
      },
      nak: (delayMs) => {
        note({ kind: 'nak', delayMs });
        return delivery.nak(delayMs);
      },
      extend: (leaseMs) => delivery.extend(leaseMs),
      deadLetter: (reason) => {
        note({ kind: 'deadLetter', reason });
        return delivery.deadLetter(reason);
      },
    };
  };

  return withChannels(provider, {
    consume: async (spec) => {
      const consumer = await channels.consume(spec);
      return {
        fetch: async (max, options) =>
          (await consumer.fetch(max, options)).map(watch),
        close: () => consumer.close(),
      };
    },
  });
}

/** The outcome of one `complete` of an idempotency record. */
export interface Completion {
  id: string;
  owner: string;
  data?: string;
  /** The error's name when the store refused it. */
  refused?: string;
}

/**
 * `provider` with every `complete` of its idempotency records recorded
 * in `completions` with the store's answer, passed on unchanged.
 */
export function observeCompletions(
  provider: Provider,
  completions: Completion[],
): Provider {
  const idempotency = provider.idempotency;
  if (idempotency === undefined) return provider;

  return {
    name: provider.name,
    capabilities: provider.capabilities,
    channels: provider.channels,
    kv: provider.kv,
    objects: provider.objects,
    requests: provider.requests,
    idempotency: {
      async open(table) {
        const store = await idempotency.open(table);
        return {
          begin: (id, options) => store.begin(id, options),
          extend: (id, options) => store.extend(id, options),
          release: (id, options) => store.release(id, options),
          get: (id) => store.get(id),
          async complete(id, options) {
            const entry: Completion = { id, owner: options.owner };
            if (options.data !== undefined) entry.data = options.data;
            try {
              await store.complete(id, options);
            } catch (error) {
              entry.refused = error instanceof Error ? error.name : 'thrown';
              throw error;
            } finally {
              completions.push(entry);
            }
          },
        };
      },
    },
    close: () => provider.close(),
  };
}

/** `provider` with some methods of its channel transport replaced. */
function withChannels(
  provider: Provider,
  replaced: Partial<NonNullable<Provider['channels']>>,
): Provider {
  const channels = provider.channels!;
  const proxied = new Proxy(channels, {
    get(target, property) {
      if (property in replaced) {
        return replaced[property as keyof typeof replaced];
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

  return {
    name: provider.name,
    capabilities: provider.capabilities,
    channels: proxied,
    kv: provider.kv,
    objects: provider.objects,
    requests: provider.requests,
    idempotency: provider.idempotency,
    close: () => provider.close(),
  };
}
