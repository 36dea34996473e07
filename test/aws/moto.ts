/**
 * A moto server (the AWS emulator LocalStack builds on) for the aws
 * provider's tests. Each call starts its own `moto_server` on a free port
 * of 127.0.0.1 and stops it by its process id; its state lives in memory
 * and goes with it.
 *
 * Importing this module sets fake credentials, a region and
 * `AWS_EC2_METADATA_DISABLED`, so that no SDK client of the test process
 * looks for credentials on the network.
 */
import { freePort, startServer, terminate } from '../support/processes.ts';

/** The moto_server binary: `MOTO_SERVER_BIN`, or the one on the PATH. */
const BINARY = process.env.MOTO_SERVER_BIN ?? 'moto_server';

/** How long a server may take to answer after it was started. */
const START_TIMEOUT_MS = 30_000;

/** Region of the tests. */
export const TEST_REGION = 'us-east-1';

process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';
process.env.AWS_REGION = TEST_REGION;
process.env.AWS_DEFAULT_REGION = TEST_REGION;
process.env.AWS_EC2_METADATA_DISABLED = 'true';
delete process.env.AWS_PROFILE;
delete process.env.AWS_SESSION_TOKEN;

/** A running moto server. */
export interface MotoServer {
  /** `http://127.0.0.1:{port}`. */
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** Forgets every resource the server holds (`/moto-api/reset`). */
  reset(): Promise<void>;
  /** Stops the server. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `moto_server -H 127.0.0.1 -p <free port>` and resolves once it
 * answers HTTP.
 *
 * @example
 * ```ts
 * const moto = await startMotoServer();
 * const provider = await createAwsProvider({ endpoint: moto.endpoint });
 * await moto.stop();
 * ```
 */
export async function startMotoServer(): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = await startServer(
    BINARY,
    ['-H', '127.0.0.1', '-p', String(port)],
    () => waitForHttp(endpoint),
    { ...process.env, MOTO_CALL_RESET_API: 'true' },
  );

  return {
    endpoint,
    port,
    pid: child.pid ?? 0,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, {
        method: 'POST',
      });
      if (!response.ok) {
        throw new Error(`moto reset answered ${response.status}`);
      }
    },
    stop: () => terminate(child),
  };
}

async function waitForHttp(endpoint: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new Error(`moto_server did not answer on ${endpoint}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
