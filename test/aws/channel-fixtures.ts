/**
 * Factories of the aws channel tests: a provider on a moto server with a
 * prefix of its own, plain SDK clients on the same server, and messages.
 */
import { randomBytes } from 'node:crypto';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll } from 'vitest';
import type { WireMessage } from '../../src/core/message.ts';
import type { ChannelTransport, Provider } from '../../src/core/provider.ts';
import { createAwsProvider } from '../../src/providers/aws/index.ts';
import { type MotoServer, startMotoServer } from './moto.ts';

/** A provider on `moto` with a fresh prefix, and that prefix. */
export async function awsProvider(
  moto: MotoServer,
): Promise<{ provider: Provider; prefix: string }> {
  const prefix = `t${randomBytes(4).toString('hex')}-`;
  const provider = await createAwsProvider({ endpoint: moto.endpoint, prefix });
  return { provider, prefix };
}

/** A moto server for the tests of one file, and transports on it. */
export interface ChannelsServer {
  readonly moto: MotoServer;
  /** A channel transport with a fresh prefix, closed after the file. */
  channels(): Promise<{ transport: ChannelTransport; prefix: string }>;
}

/**
 * Starts a moto server before the tests of the calling file and stops it
 * after them, with the providers opened on it.
 */
export function channelsServer(): ChannelsServer {
  let moto: MotoServer | undefined;
  beforeAll(async () => {
    moto = await startMotoServer();
  }, 30_000);
  afterAll(() => moto?.stop());

  const started = (): MotoServer => {
    if (moto === undefined) throw new Error('the moto server is not started');
    return moto;
  };
  return {
    get moto() {
      return started();
    },
    async channels() {
      const { provider, prefix } = await awsProvider(started());
      afterAll(() => provider.close());
      return { transport: provider.channels!, prefix };
    },
  };
}

/** Plain SDK clients on `moto`, as another producer would have. */
export function plainClients(moto: MotoServer): {
  sqs: SQSClient;
  sns: SNSClient;
} {
  return {
    sqs: new SQSClient({ endpoint: moto.endpoint }),
    sns: new SNSClient({ endpoint: moto.endpoint }),
  };
}

/** A JSON message of `channel`, its data `{ n }`. */
export function wireMessage(
  channel: string,
  n: number,
  overrides: Partial<WireMessage> = {},
): WireMessage {
  return {
    id: `message-${n}`,
    channel,
    body: new TextEncoder().encode(JSON.stringify({ n })),
    contentType: 'application/json',
    attributes: {},
    publishedAt: Date.now(),
    publisherId: 'test-publisher',
    sequence: n,
    ...overrides,
  };
}

/** The data of a JSON message. */
export function dataOf(message: WireMessage): unknown {
  return JSON.parse(new TextDecoder().decode(message.body));
}
