/**
 * Request/reply on core NATS. A server of subject `s` subscribes twice:
 * to `sy.req.s` in the queue group `sy`, so that each request goes to
 * one server, and to `sy.gather.s` without a queue, so that every server
 * receives each gather. A request is a core NATS request with its own
 * inbox; a gather publishes once with a reply inbox and collects what
 * arrives on it.
 *
 * Closing a server stops its subscriptions at once and waits up to two
 * seconds for the replies its handlers are still making.
 *
 * A handler that rejects answers with an empty body and the headers
 * `Sy-Error-Name` and `Sy-Error-Message`: the request rejects with a
 * RemoteError, and a gather leaves that reply out.
 */
import {
  createInbox,
  headers,
  type Msg,
  type Subscription,
} from '@nats-io/transport-node';
import {
  NoRespondersError,
  RemoteError,
  TimeoutError,
} from '../../core/errors.ts';
import type {
  RawRequestHandler,
  RequestTransport,
} from '../../core/provider.ts';
import { settledWithin } from '../../core/waiting.ts';
import type { NatsContext } from './connection.ts';
import { isNoResponders, isTimeout, natsError, PROVIDER } from './errors.ts';

/** Queue group of the servers of a subject. */
export const QUEUE = 'sy';

/** How long closing a server waits for the replies still being made. */
const CLOSE_GRACE_MS = 2000;

const ERROR_NAME = 'Sy-Error-Name';
const ERROR_MESSAGE = 'Sy-Error-Message';

/** The NATS subject that carries requests to servers of `subject`. */
export function requestSubject(subject: string): string {
  return `sy.req.${subject}`;
}

/** The NATS subject that carries gathers to servers of `subject`. */
export function gatherSubject(subject: string): string {
  return `sy.gather.${subject}`;
}

/** Request/reply over the provider's connection. */
export class NatsRequests implements RequestTransport {
  readonly #context: NatsContext;

  constructor(context: NatsContext) {
    this.#context = context;
  }

  async serve(
    subject: string,
    handler: RawRequestHandler,
  ): Promise<{ close(): Promise<void> }> {
    const { nc, lifecycle } = this.#context;
    lifecycle.check('serve a subject');
    const running = new Set<Promise<void>>();
    const answer = (error: Error | null, msg: Msg) => {
      if (error !== null || msg.reply === undefined) return;
      const reply = respond(handler, msg);
      running.add(reply);
      reply.finally(() => running.delete(reply));
    };

    let subscriptions: Subscription[];
    try {
      subscriptions = [
        nc.subscribe(requestSubject(subject), {
          queue: QUEUE,
          callback: answer,
        }),
        nc.subscribe(gatherSubject(subject), { callback: answer }),
      ];
      // Subscribed once the server has seen the subscriptions.
      await nc.flush();
    } catch (error) {
      throw natsError(error, `serve subject '${subject}'`, {
        details: { subject },
      });
    }

    let closing: Promise<void> | undefined;
    const server = {
      close: () => {
        closing ??= (async () => {
          lifecycle.untrack(server);
          for (const subscription of subscriptions) {
            subscription.unsubscribe();
          }
          await settledWithin([...running], CLOSE_GRACE_MS);
          if (!nc.isClosed()) await nc.flush().catch(() => {});
        })();
        return closing;
      },
    };
    lifecycle.track(server);
    return server;
  }

  async request(
    subject: string,
    body: Uint8Array,
    options: { timeoutMs: number },
  ): Promise<Uint8Array> {
    const { nc, lifecycle } = this.#context;
    lifecycle.check('send a request');
    const details = { provider: PROVIDER, subject };

    let reply: Msg;
    try {
      reply = await nc.request(requestSubject(subject), body, {
        timeout: options.timeoutMs,
      });
    } catch (error) {
      if (isNoResponders(error)) {
        throw new NoRespondersError(`no server answers subject '${subject}'`, {
          cause: error,
          details: { ...details, providerCode: '503' },
        });
      }
      if (isTimeout(error)) {
        throw new TimeoutError(
          `request on subject '${subject}' got no reply within ${options.timeoutMs} ms`,
          options.timeoutMs,
          { cause: error, details },
        );
      }
      throw natsError(error, `send a request on subject '${subject}'`, {
        details: { subject },
        timeoutMs: options.timeoutMs,
      });
    }

    const failure = remoteFailure(reply);
    if (failure !== undefined) {
      throw new RemoteError(failure.message, failure.name, { details });
    }
    return reply.data;
  }

  async gather(
    subject: string,
    body: Uint8Array,
    options: { timeoutMs: number; expected?: number },
  ): Promise<Uint8Array[]> {
    const { nc, lifecycle } = this.#context;
    lifecycle.check('gather replies');
    const replies: Uint8Array[] = [];
    if (options.expected !== undefined && options.expected <= 0) {
      return replies;
    }

    return new Promise<Uint8Array[]>((resolve, reject) => {
      let subscription: Subscription | undefined;
      const finish = () => {
        clearTimeout(timer);
        lifecycle.untrack(closer);
        subscription?.unsubscribe();
        resolve(replies.slice());
      };
      const closer = { close: async () => finish() };
      const timer = setTimeout(finish, options.timeoutMs);
      timer.unref();
      lifecycle.track(closer);

      try {
        const inbox = createInbox();
        subscription = nc.subscribe(inbox, {
          callback: (error, msg) => {
            if (error !== null) return;
            // The server's no-responders status: nobody serves it.
            if (msg.headers?.code === 503) return finish();
            if (remoteFailure(msg) !== undefined) return;
            replies.push(msg.data);
            const enough =
              options.expected !== undefined &&
              replies.length >= options.expected;
            if (enough) finish();
          },
        });
        nc.publish(gatherSubject(subject), body, { reply: inbox });
      } catch (error) {
        clearTimeout(timer);
        lifecycle.untrack(closer);
        subscription?.unsubscribe();
        reject(
          natsError(error, `gather replies on subject '${subject}'`, {
            details: { subject },
          }),
        );
      }
    });
  }
}

/** Runs `handler` on a request and sends its reply or its failure. */
async function respond(handler: RawRequestHandler, msg: Msg): Promise<void> {
  try {
    const reply = await handler(msg.data);
    msg.respond(reply);
  } catch (error) {
    const failed = headers();
    const cause = error instanceof Error ? error : new Error(String(error));
    failed.set(ERROR_NAME, cause.name);
    failed.set(ERROR_MESSAGE, oneLine(cause.message));
    try {
      msg.respond(new Uint8Array(0), { headers: failed });
    } catch {
      // The connection closed meanwhile: the requester times out.
    }
  }
}

/** The failure a reply carries, if its handler rejected. */
function remoteFailure(
  msg: Msg,
): { name: string; message: string } | undefined {
  const name = msg.headers?.get(ERROR_NAME) ?? '';
  if (name === '') return undefined;
  return { name, message: msg.headers?.get(ERROR_MESSAGE) ?? '' };
}

/** Header values hold no line breaks. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
