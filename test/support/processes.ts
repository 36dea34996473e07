/**
 * Child processes of the tests: a free port to start a server on,
 * starting a server and waiting until it answers, and stopping it by its
 * process id.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** Servers started by this process and not stopped yet. */
const running = new Set<ChildProcess>();

// A test process that ends without stopping its servers (a hook that
// timed out, a worker torn down) takes them with it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `binary` with `args` and resolves once `ready()` resolves; if
 * the server exits first, or `ready` throws, rejects with what it printed
 * on stderr and leaves nothing running.
 */
export async function startServer(
  binary: string,
  args: readonly string[],
  ready: () => Promise<void>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ChildProcess> {
  const child = spawn(binary, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`${binary} exited with ${code}: ${output}`)),
    );
  });
  exited.catch(() => {});

  running.add(child);
  child.once('exit', () => running.delete(child));
  try {
    await Promise.race([ready(), exited]);
  } catch (error) {
    await terminate(child);
    throw error;
  }
  return child;
}

/** A port of 127.0.0.1 nobody listens on now, chosen by the system. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error('no free port');
  }
  return address.port;
}

/** Stops `child` by its pid: SIGTERM, then SIGKILL if it lingers. */
export async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => resolve()),
  );
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
