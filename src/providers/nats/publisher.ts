/**
 * Publishing to JetStream with the stream's acknowledgements collected on
 * one inbox subscription of the connection.
 *
 * The client's `js.publish` makes a request per message: a request object,
 * a timer and, whatever the connection options, an error object when the
 * request is cleaned up. With thousands of publishes a second that is most
 * of the publishing cost. Here each publish only sends the message with a
 * reply subject of its own under the inbox, an entry in a map waits for the
 * answer, and one timer sweeps the entries that waited too long.
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import {
  createInbox,
  errors,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';

/** What the stream answered to a publish. */
export interface StreamAck {
  /** Stream sequence of the message. */
  seq: number;
  /** The duplicate window had a message of the same `Nats-Msg-Id`. */
  duplicate: boolean;
}

/** How often waiting publishes are checked against their deadline, in ms. */
const SWEEP_EVERY_MS = 100;

interface Waiting {
  resolve(ack: StreamAck): void;
  reject(error: Error): void;
  subject: string;
  deadline: number;
}

/** The JSON a stream answers a publish with. */
interface PubAckBody {
  seq?: number;
  duplicate?: boolean;
  error?: { code: number; err_code: number; description: string };
}

/**
 * Publishes of one connection awaiting the stream's answer. Failures are
 * the client's own errors, so the provider maps them like the client's:
 * a `RequestError` caused by `NoRespondersError` when no stream stores the
 * subject,
 * `JetStreamApiError` when the stream refused the message, `TimeoutError`
 * when no answer came within `timeoutMs`.
 *
 * @example
 * ```ts
 * const publisher = new StreamPublisher(nc, 5000);
 * const { seq } = await publisher.publish('orders.msg', body, headers);
 * ```
 */
export class StreamPublisher {
  readonly #nc: NatsConnection;
  readonly #timeoutMs: number;
  readonly #prefix = `${createInbox()}.`;
  readonly #waiting = new Map<string, Waiting>();
  readonly #decoder = new TextDecoder();
  #subscription: Subscription | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #sent = 0;

  constructor(nc: NatsConnection, timeoutMs: number) {
    this.#nc = nc;
    this.#timeoutMs = timeoutMs;
  }

  /** Sends `body` on `subject` and resolves with the stream's answer. */
  publish(
    subject: string,
    body: Uint8Array,
    headers: MsgHdrs,
  ): Promise<StreamAck> {
    this.#subscribe();
    this.#sent += 1;
    const reply = this.#prefix + this.#sent.toString(36);
    return new Promise<StreamAck>((resolve, reject) => {
      this.#waiting.set(reply, {
        resolve,
        reject,
        subject,
        deadline: Date.now() + this.#timeoutMs,
      });
      try {
        this.#nc.publish(subject, body, { reply, headers });
      } catch (error) {
        this.#waiting.delete(reply);
        reject(error as Error);
        return;
      }
      this.#sweep();
    });
  }

  /** Fails what still waits and stops listening. Idempotent. */
  close(): void {
    clearTimeout(this.#sweeper);
    this.#sweeper = undefined;
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
    const closed = new errors.ClosedConnectionError();
    for (const waiting of this.#waiting.values()) waiting.reject(closed);
    this.#waiting.clear();
  }

  #subscribe(): void {
    if (this.#subscription !== undefined) return;
    this.#subscription = this.#nc.subscribe(`${this.#prefix}*`, {
      callback: (error, msg) => {
        if (error === null) this.#answer(msg);
      },
    });
  }

  #answer(msg: Msg): void {
    const waiting = this.#waiting.get(msg.subject);
    if (waiting === undefined) return;
    this.#waiting.delete(msg.subject);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      const cause = new errors.NoRespondersError(waiting.subject);
      waiting.reject(new errors.RequestError(cause.message, { cause }));
      return;
    }
    let answer: PubAckBody;
    try {
      answer = JSON.parse(this.#decoder.decode(msg.data)) as PubAckBody;
    } catch (error) {
      waiting.reject(
        new Error(`the stream answered a publish with no JSON`, {
          cause: error,
        }),
      );
      return;
    }
    if (answer.error !== undefined) {
      waiting.reject(new JetStreamApiError(answer.error));
      return;
    }
    waiting.resolve({
      seq: answer.seq ?? 0,
      duplicate: answer.duplicate === true,
    });
  }

  /** Keeps one timer while publishes wait; fails those past their deadline. */
  #sweep(): void {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setTimeout(() => {
      this.#sweeper = undefined;
      const now = Date.now();
      // Entries are in the order they were sent, with the same timeout.
      for (const [reply, waiting] of this.#waiting) {
        if (waiting.deadline > now) break;
        this.#waiting.delete(reply);
        waiting.reject(new errors.TimeoutError());
      }
      if (this.#waiting.size > 0) this.#sweep();
    }, SWEEP_EVERY_MS);
    this.#sweeper.unref();
  }
}
