/**
 * A TCP proxy on 127.0.0.1 that a fault test puts between a client and
 * its server, and that injects network faults on command: cut every
 * connection (and refuse new ones for a while), add latency to every
 * chunk in both directions, or stall (stop forwarding without closing,
 * so the client sees a silent peer) until resumed.
 *
 * Each direction of a connection is a lane: chunks queue in order with
 * the time they may be forwarded, and a stalled lane holds them all.
 * Nothing is dropped except by `cut()`.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Where the proxy forwards connections to. */
export interface ProxyTarget {
  /** Default `127.0.0.1`. */
  host?: string;
  port: number;
}

/** Options of {@link TcpProxy.cut}. */
export interface CutOptions {
  /**
   * Refuse new connections for this long, in ms, by not listening at
   * all, so that a client's connect fails with ECONNREFUSED. Default 0:
   * new connections are accepted at once.
   */
  refuseMs?: number;
}

/** A running proxy. */
export interface TcpProxy {
  /** Port the proxy listens on, at 127.0.0.1. */
  readonly port: number;
  /** `127.0.0.1:{port}`. */
  readonly address: string;
  /** Connections accepted since the proxy started. */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /**
   * Destroys every connection with a reset. With `refuseMs`, stops
   * listening for that long and resolves once it listens again.
   */
  cut(options?: CutOptions): Promise<void>;
  /**
   * From now on each chunk, both directions, is forwarded `ms` after it
   * arrived (0 to stop delaying). Chunks keep their order.
   */
  delay(ms: number): void;
  /** Stops forwarding, both directions, on every connection and new ones. */
  stall(): void;
  /** Forwards again what a stall held, then everything as it comes. */
  resume(): void;
  /** Destroys every connection and stops listening. Idempotent. */
  stop(): Promise<void>;
}

/** One direction of a connection: chunks waiting to be written. */
class Lane {
  readonly #to: Socket;
  readonly #proxy: FaultState;
  /** A chunk with the time it may go, or `null` for the end of input. */
  readonly #queue: { chunk: Buffer | null; at: number }[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(to: Socket, proxy: FaultState) {
    this.#to = to;
    this.#proxy = proxy;
  }

  push(chunk: Buffer | null): void {
    this.#queue.push({ chunk, at: Date.now() + this.#proxy.delayMs });
    this.flush();
  }

  /** Writes what may go now; waits for the first that may not. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#proxy.stalled) return;
    const now = Date.now();
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!;
      if (next.at > now) {
        this.#timer = setTimeout(() => this.flush(), next.at - now);
        return;
      }
      this.#queue.shift();
      if (this.#to.destroyed) continue;
      if (next.chunk === null) this.#to.end();
      else this.#to.write(next.chunk);
    }
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#queue.length = 0;
  }
}

/** The fault settings every lane reads. */
interface FaultState {
  delayMs: number;
  stalled: boolean;
}

/** A client connection and its connection to the target. */
interface Pair {
  client: Socket;
  upstream: Socket;
  lanes: Lane[];
}

/**
 * Starts a proxy to `target` on a free port of 127.0.0.1.
 *
 * @example
 * ```ts
 * const proxy = await startProxy({ port: server.port });
 * const provider = await createNatsProvider({ servers: proxy.address });
 * proxy.stall();
 * proxy.resume();
 * await proxy.stop();
 * ```
 */
export async function startProxy(target: ProxyTarget): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1';
  const state: FaultState = { delayMs: 0, stalled: false };
  const pairs = new Set<Pair>();
  let accepted = 0;
  let stopped = false;

  const accept = (client: Socket): void => {
    accepted += 1;
    const upstream = connect({ host, port: target.port });
    const pair: Pair = {
      client,
      upstream,
      lanes: [new Lane(upstream, state), new Lane(client, state)],
    };
    const [toUpstream, toClient] = pair.lanes as [Lane, Lane];
    pairs.add(pair);
    const drop = (): void => {
      if (!pairs.delete(pair)) return;
      for (const lane of pair.lanes) lane.clear();
      client.destroy();
      upstream.destroy();
    };

    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk: Buffer) => toUpstream.push(chunk));
    upstream.on('data', (chunk: Buffer) => toClient.push(chunk));
    client.on('end', () => toUpstream.push(null));
    upstream.on('end', () => toClient.push(null));
    // An end travels through its lane after the data before it; a pair
    // is gone once both sides closed. An error resets both at once.
    for (const socket of [client, upstream]) {
      socket.on('error', drop);
      socket.on('close', () => {
        if (client.destroyed && upstream.destroyed) pairs.delete(pair);
      });
    }
  };

  let server = await listen(accept, 0);
  const port = (server.address() as { port: number }).port;

  const destroyAll = (): void => {
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      for (const lane of pair.lanes) lane.clear();
      pair.client.resetAndDestroy();
      pair.upstream.destroy();
    }
  };

  return {
    port,
    address: `127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    async cut(options = {}) {
      const refuseMs = options.refuseMs ?? 0;
      if (refuseMs <= 0 || stopped) {
        destroyAll();
        return;
      }
      const closed = close(server);
      destroyAll();
      await closed;
      await new Promise((resolve) => setTimeout(resolve, refuseMs));
      if (!stopped) server = await listen(accept, port);
    },
    delay(ms) {
      state.delayMs = Math.max(0, ms);
    },
    stall() {
      state.stalled = true;
    },
    resume() {
      state.stalled = false;
      for (const pair of pairs) for (const lane of pair.lanes) lane.flush();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const closed = close(server);
      destroyAll();
      await closed;
    },
  };
}

/** A server on 127.0.0.1:`port` (0: a free one) once it listens. */
function listen(accept: (socket: Socket) => void, port: number) {
  const server = createServer(accept);
  return new Promise<Server>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Resolves once `server` no longer listens (whatever its connections). */
function close(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.once('close', () => resolve());
    server.close();
  });
}
