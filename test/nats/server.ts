/**
 * A nats-server with JetStream for the nats provider's tests. Each call
 * starts its own server on a free port of 127.0.0.1 with its own store
 * folder, so the tests pass whatever already listens on 4222, and stops
 * it by its process id.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServer, terminate } from '../support/processes.ts';

export { freePort };

/** The nats-server binary: `NATS_SERVER_BIN`, or the one on the PATH. */
const BINARY = process.env.NATS_SERVER_BIN ?? 'nats-server';

/** How long a server may take to answer after it was started. */
const START_TIMEOUT_MS = 15_000;

/** A running test server. */
export interface NatsTestServer {
  /** `nats://127.0.0.1:{port}`. */
  readonly url: string;
  readonly port: number;
  /** Process id of the server now running (changes on restart). */
  readonly pid: number;
  /** Stops the server and removes its store folder. Idempotent. */
  stop(): Promise<void>;
  /**
   * Stops the server and starts it again on the same port and store
   * folder, so that streams and buckets survive.
   */
  restart(): Promise<void>;
  /** Stops the server, keeping its store, until `start()`. */
  halt(): Promise<void>;
  /** Starts a halted server again on the same port and store folder. */
  start(): Promise<void>;
}

/** Options of {@link startNatsServer}. */
export interface NatsTestServerOptions {
  /** Run with JetStream (`-js`). Default true. */
  jetstream?: boolean;
  /**
   * The server's `max_payload`, in bytes, set through a configuration
   * file in the store folder. Default the server's own (1 MiB).
   */
  maxPayload?: number;
}

/**
 * Starts `nats-server -js -a 127.0.0.1 -p <free port> -sd <temp dir>`
 * and resolves once it answers with its INFO line.
 *
 * @example
 * ```ts
 * const server = await startNatsServer();
 * const provider = await createNatsProvider({ servers: server.url });
 * await server.stop();
 * ```
 */
export async function startNatsServer(
  options: NatsTestServerOptions = {},
): Promise<NatsTestServer> {
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'switchyard-nats-'));
  const args = ['-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
  if (options.jetstream !== false) args.unshift('-js');
  if (options.maxPayload !== undefined) {
    const file = join(storeDir, 'server.conf');
    await writeFile(file, `max_payload: ${options.maxPayload}\n`);
    args.push('-c', file);
  }
  let child: ChildProcess | undefined = await launch(port, args);
  let stopped = false;

  const halt = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running !== undefined) await terminate(running);
  };

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid ?? 0;
    },
    halt,
    async start() {
      if (stopped) throw new Error('the test server was stopped');
      if (child === undefined) child = await launch(port, args);
    },
    async restart() {
      await halt();
      child = await launch(port, args);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

function launch(port: number, args: string[]): Promise<ChildProcess> {
  return startServer(BINARY, args, () => waitForInfo(port));
}

/** Resolves once the server on `port` sends its INFO line. */
async function waitForInfo(port: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (await answers(port)) return;
    if (Date.now() > deadline) {
      throw new Error(`nats-server did not answer on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let seen = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      seen += chunk.toString();
      if (seen.startsWith('INFO ')) done(true);
    });
    socket.connect(port, '127.0.0.1');
  });
}
