/**
 * Request/reply within one process. Any provider whose transport has no
 * request/reply of its own (the embedded store, the in-memory provider)
 * offers this bus instead: servers and requesters meet in a namespace,
 * so clients created with the same namespace reach each other's servers.
 */
import { ClosedError, NoRespondersError, TimeoutError } from './errors.ts';
import type { RawRequestHandler, RequestTransport } from './provider.ts';

/** Options of {@link createInProcessRequests}. */
export interface InProcessRequestsOptions {
  /**
   * Where servers and requesters meet: transports created with the same
   * namespace share their servers. Default `default`.
   */
  namespace?: string;
  /** Set as `details.provider` of the errors raised. Default `memory`. */
  provider?: string;
}

/** A request transport that also closes the servers it started. */
export interface InProcessRequests extends RequestTransport {
  /**
   * Closes every server started through this transport; servers started
   * by other transports of the namespace keep serving. Idempotent.
   */
  close(): Promise<void>;
}

interface Entry {
  handler: RawRequestHandler;
}

interface Subject {
  servers: Entry[];
  /** Index of the server that takes the next request. */
  next: number;
}

const buses = new Map<string, Map<string, Subject>>();

/**
 * Creates a request transport on the in-process bus of a namespace.
 *
 * Servers of one subject share requests in turn (round robin); a gather
 * goes to every server of the subject that is serving when it is sent.
 * `request` rejects with NoRespondersError when nobody serves the
 * subject, with TimeoutError after `timeoutMs`, and with the handler's own
 * error when the handler rejects. `gather` resolves with the replies that
 * arrived by `timeoutMs`, or as soon as `expected` arrived or every server
 * answered; servers whose handler rejects contribute no reply.
 *
 * `close()` stops the servers started through this transport, rejects
 * its requests still waiting with ClosedError and ends its gathers with
 * the replies they have. Timers are unreferenced, so a waiting request
 * never keeps the process alive.
 *
 * @example
 * const requests = createInProcessRequests({ namespace: 'test' });
 * await requests.serve('echo', async (body) => body);
 * const reply = await requests.request('echo', bytes, { timeoutMs: 100 });
 */
export function createInProcessRequests(
  options: InProcessRequestsOptions = {},
): InProcessRequests {
  const namespace = options.namespace ?? 'default';
  const provider = options.provider ?? 'memory';
  const servers = new Set<{ close(): Promise<void> }>();
  /** Ends each request or gather still waiting, for `close()`. */
  const waiting = new Set<() => void>();
  let closed = false;

  const check = (operation: string): void => {
    if (closed) {
      throw new ClosedError(
        `cannot ${operation}: the request transport is closed`,
        { details: { provider } },
      );
    }
  };

  const serve = async (subject: string, handler: RawRequestHandler) => {
    check('serve a subject');
    let bus = buses.get(namespace);
    if (bus === undefined) {
      bus = new Map();
      buses.set(namespace, bus);
    }
    const entry: Entry = { handler };
    let state = bus.get(subject);
    if (state === undefined) {
      state = { servers: [], next: 0 };
      bus.set(subject, state);
    }
    state.servers.push(entry);

    const server = {
      close: async (): Promise<void> => {
        servers.delete(server);
        const live = buses.get(namespace);
        const current = live?.get(subject);
        if (live === undefined || current === undefined) return;
        current.servers = current.servers.filter((s) => s !== entry);
        if (current.servers.length === 0) live.delete(subject);
      },
    };
    servers.add(server);
    return server;
  };

  const request = async (
    subject: string,
    body: Uint8Array,
    { timeoutMs }: { timeoutMs: number },
  ): Promise<Uint8Array> => {
    check('send a request');
    const state = buses.get(namespace)?.get(subject);
    if (state === undefined || state.servers.length === 0) {
      throw new NoRespondersError(`no server answers subject '${subject}'`, {
        details: { provider, subject },
      });
    }
    const index = state.next % state.servers.length;
    state.next = index + 1;
    const entry = state.servers[index]!;

    return new Promise((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        waiting.delete(abandon);
      };
      const abandon = (): void => {
        settle();
        reject(
          new ClosedError(
            `request on subject '${subject}' abandoned: the request transport closed`,
            { details: { provider, subject } },
          ),
        );
      };
      const timer = setTimeout(() => {
        settle();
        reject(
          new TimeoutError(
            `request on subject '${subject}' got no reply within ${timeoutMs} ms`,
            timeoutMs,
            { details: { provider, subject } },
          ),
        );
      }, timeoutMs);
      timer.unref();
      waiting.add(abandon);

      invoke(entry, body).then(
        (reply) => {
          settle();
          resolve(reply);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  };

  const gather = async (
    subject: string,
    body: Uint8Array,
    options: { timeoutMs: number; expected?: number },
  ): Promise<Uint8Array[]> => {
    check('gather replies');
    const targets = buses.get(namespace)?.get(subject)?.servers ?? [];
    const replies: Uint8Array[] = [];
    if (targets.length === 0) return replies;

    return new Promise((resolve) => {
      let answered = 0;
      const finish = (): void => {
        clearTimeout(timer);
        waiting.delete(finish);
        resolve(replies.slice());
      };
      const timer = setTimeout(finish, options.timeoutMs);
      timer.unref();
      waiting.add(finish);

      const count = (): void => {
        answered += 1;
        const enough =
          options.expected !== undefined && replies.length >= options.expected;
        if (enough || answered === targets.length) finish();
      };
      for (const entry of [...targets]) {
        invoke(entry, body).then((reply) => {
          replies.push(reply);
          count();
        }, count);
      }
    });
  };

  const close = async (): Promise<void> => {
    closed = true;
    for (const end of [...waiting]) end();
    await Promise.all([...servers].map((server) => server.close()));
  };

  return { serve, request, gather, close };
}

/**
 * Drops every server of a namespace, as if their processes had gone, so
 * that tests start from an empty bus.
 */
export function resetInProcessRequests(namespace: string): void {
  buses.delete(namespace);
}

/** Runs the handler on a copy of the request, never synchronously. */
async function invoke(entry: Entry, body: Uint8Array): Promise<Uint8Array> {
  await Promise.resolve();
  const reply = await entry.handler(body.slice());

  return reply.slice();
}
