/**
 * Factories of the nats provider's tests: a provider context on a test
 * server, byte values, and collecting a watch.
 */
import { silentLogger } from '../../src/core/logger.ts';
import {
  closeNatsContext,
  type NatsContext,
  openNatsContext,
} from '../../src/providers/nats/connection.ts';
import {
  type NatsProviderOptions,
  resolveNatsOptions,
} from '../../src/providers/nats/options.ts';
import type { NatsTestServer } from './server.ts';

/** A context connected to `server`, closed by the returned function. */
export async function openContext(
  server: NatsTestServer,
  options: NatsProviderOptions = {},
): Promise<NatsContext> {
  return openNatsContext(
    resolveNatsOptions({ servers: server.url, ...options }),
    { logger: silentLogger },
  );
}

export { closeNatsContext };

/** The UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** `data` as UTF-8 text. */
export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

/** A bucket name unique within the test run. */
export function bucketName(stem: string): string {
  return `${stem}-${Math.random().toString(36).slice(2, 10)}`;
}
