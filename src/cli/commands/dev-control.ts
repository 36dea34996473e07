/**
 * The control socket of a running `switchyard dev`: another terminal's
 * `switchyard switch` asks it to move the pipeline's channels to another
 * provider.
 *
 * The protocol is one JSON object per line each way over a Unix socket:
 * `{"switchTo":{"provider":"nats","options":{...}}}` in, then
 * `{"ok":true,"report":{...}}` or `{"ok":false,"error":{name,message}}`
 * out once the switch is done.
 */
import { mkdir, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import type { SwitchReport, Switchyard } from '../../core/switchyard.ts';
import { CommandError } from '../errors.ts';

/** Default place of the socket, relative to the working folder. */
export const DEFAULT_CONTROL_PATH = '.switchyard/dev.sock';

/** A request sent over the control socket. */
export interface ControlRequest {
  switchTo: { provider: string; options?: Record<string, unknown> };
}

/** The answer to a {@link ControlRequest}. */
export type ControlReply =
  | { ok: true; report: SwitchReport }
  | { ok: false; error: { name: string; message: string } };

/** A listening control socket. */
export interface Control {
  readonly path: string;
  close(): Promise<void>;
}

/**
 * Listens on `path` for switch requests and runs each on `sy`, one at a
 * time. A socket file left by a process that is gone is replaced; one a
 * live `switchyard dev` listens on is a `CommandError`.
 *
 * @example
 * const control = await listenForControl('.switchyard/dev.sock', sy, log);
 * await control.close();
 */
export async function listenForControl(
  path: string,
  sy: Switchyard,
  onSwitch: (event: { request: ControlRequest; reply: ControlReply }) => void,
): Promise<Control> {
  await mkdir(dirname(path), { recursive: true });
  if (await answers(path)) {
    throw new CommandError(
      `another switchyard dev already listens on ${path}: stop it, or give this one --control with another path`,
    );
  }
  await rm(path, { force: true });

  let queue: Promise<unknown> = Promise.resolve();
  const server = createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let end = buffer.indexOf('\n');
      while (end >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        queue = queue.then(async () => {
          const request = parseRequest(line);
          const reply =
            'error' in request ? request.error : await run(sy, request);
          if (!('error' in request)) onSwitch({ request, reply });
          if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
        });
        end = buffer.indexOf('\n');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    path,
    async close() {
      await closeServer(server);
      await rm(path, { force: true });
    },
  };
}

/**
 * Sends `request` to the `switchyard dev` listening on `path` and resolves
 * with its reply. A `CommandError` when nothing listens there.
 */
export function sendControl(
  path: string,
  request: ControlRequest,
): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.once('connect', () => {
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end < 0) return;
      socket.end();
      try {
        resolve(JSON.parse(buffer.slice(0, end)) as ControlReply);
      } catch (error) {
        reject(error);
      }
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT' || error.code === 'ECONNREFUSED'
          ? new CommandError(
              `no switchyard dev listens on ${path}: start one, or give --control the path it uses`,
            )
          : error,
      );
    });
  });
}

async function run(
  sy: Switchyard,
  request: ControlRequest,
): Promise<ControlReply> {
  try {
    return { ok: true, report: await sy.switchTo(request.switchTo) };
  } catch (error) {
    const { name, message } =
      error instanceof Error ? error : new Error(String(error));
    return { ok: false, error: { name, message } };
  }
}

function parseRequest(line: string): ControlRequest | { error: ControlReply } {
  const refuse = (message: string) => ({
    error: { ok: false as const, error: { name: 'ValidationError', message } },
  });
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return refuse(
      `a control request must be one line of JSON, got ${line.slice(0, 80)}`,
    );
  }
  const target = (value as { switchTo?: { provider?: unknown } })?.switchTo;
  if (typeof target?.provider !== 'string') {
    return refuse(
      `a control request must be {"switchTo":{"provider":"<name>"}}, got ${line.slice(0, 80)}`,
    );
  }
  return value as ControlRequest;
}

/** Whether something accepts connections on `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
