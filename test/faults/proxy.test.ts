/**
 * The fault suite's TCP proxy against a plain echo server on 127.0.0.1:
 * what each fault does to the bytes and connections between them, which
 * the fault cases rely on.
 */
import { once } from 'node:events';
import { createServer, type Server, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { eventually, sleep } from '../../src/testkit/helpers.ts';
import { startProxy, type TcpProxy } from './support/proxy.ts';

let server: Server;
let proxy: TcpProxy;
const sockets: Socket[] = [];

/** A server that echoes what it receives; `bye` makes it answer and end. */
beforeEach(async () => {
  server = createServer((socket) => {
    socket.on('data', (chunk) => {
      if (chunk.toString() === 'bye') socket.end('bye');
      else socket.write(chunk);
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  proxy = await startProxy({
    port: (server.address() as { port: number }).port,
  });
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await proxy.stop();
  await new Promise((resolve) => server.close(resolve));
});

/** A client connected through the proxy, with what it received. */
async function client() {
  const socket = new Socket();
  sockets.push(socket);
  const seen = { text: '', ended: false, error: undefined as unknown };
  socket.on('data', (chunk) => {
    seen.text += chunk.toString();
  });
  socket.on('end', () => {
    seen.ended = true;
  });
  socket.on('error', (error) => {
    seen.error = error;
  });
  socket.connect(proxy.port, '127.0.0.1');
  await once(socket, 'connect');
  return { socket, seen };
}

describe('the fault proxy', () => {
  test('forwards bytes both ways', async () => {
    const { socket, seen } = await client();

    socket.write('hello');

    await eventually(() => seen.text === 'hello');
    expect(proxy.open).toBe(1);
  });

  test('while stalled holds every byte without closing, and forwards them on resume', async () => {
    const { socket, seen } = await client();
    proxy.stall();

    socket.write('held');
    await sleep(200);
    const duringStall = { ...seen };
    proxy.resume();

    expect(duringStall).toEqual({ text: '', ended: false, error: undefined });
    await eventually(() => seen.text === 'held');
  });

  test('with a delay keeps the order of the chunks', async () => {
    const { socket, seen } = await client();
    proxy.delay(50);

    for (const word of ['one', 'two', 'three']) {
      socket.write(word);
      await sleep(10);
    }

    await eventually(() => seen.text === 'onetwothree');
  });

  test('with a delay forwards what the server sent before it closed, then the end', async () => {
    const { socket, seen } = await client();
    proxy.delay(100);

    socket.write('bye');

    await eventually(() => seen.ended);
    expect(seen.text).toBe('bye');
  });

  test('cut resets every connection', async () => {
    const { seen } = await client();

    await proxy.cut();

    await eventually(() => seen.error !== undefined);
    expect((seen.error as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(proxy.open).toBe(0);
  });

  test('cut with refuseMs refuses connections for that long, then accepts them again', async () => {
    await client();

    const cut = proxy.cut({ refuseMs: 500 });
    await sleep(50);
    const refused = await client().then(
      () => undefined,
      (error: NodeJS.ErrnoException) => error.code,
    );
    await cut;
    const { socket, seen } = await client();
    socket.write('back');

    expect(refused).toBe('ECONNREFUSED');
    await eventually(() => seen.text === 'back');
  });
});
