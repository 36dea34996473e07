/**
 * Factories of the aws channel tests: a provider on a moto server with a
 * prefix of its own, plain SDK clients on the same server, and messages.
 */
import { randomBytes } from 'node:crypto';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { WireMessage } from '../../src/core/message.ts';
import type { Provider } from '../../src/core/provider.ts';
import { createAwsProvider } from '../../src/providers/aws/index.ts';
import type { MotoServer } from './moto.ts';

/** A provider on `moto` with a fresh prefix, and that prefix. */
export async function awsProvider(
  moto: MotoServer,
): Promise<{ provider: Provider; prefix: string }> {
  const prefix = `t${randomBytes(4).toString('hex')}-`;
  const provider = await createAwsProvider({ endpoint: moto.endpoint, prefix });
  return { provider, prefix };
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
