/**
 * The raw NATS client, driven the way the Switchyard figures are: the
 * same 256-byte bodies with a message id each, published one by one
 * with a window of acknowledgements outstanding or in pipelined
 * batches, and consumed by a durable pull consumer that acknowledges
 * each message. The raw messages carry only the `Nats-Msg-Id` header;
 * Switchyard's also carry their CloudEvents attributes, about as many
 * bytes again as the body, which the server parses and stores too.
 */
import {
  AckPolicy,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { Countdown } from './drive.ts';
import { payload } from './fixtures.ts';
import { Meter, type Throughput } from './timing.ts';

/** Creates stream `name` with subjects `{name}.*`, as a channel has. */
export async function addRawStream(
  jsm: JetStreamManager,
  name: string,
): Promise<void> {
  await jsm.streams.add({ name, subjects: [`${name}.*`] });
}

/**
 * Publishes `count` messages on `{stream}.msg`, each with its own
 * message id, keeping `window` publishes awaiting their acknowledgement.
 */
export async function rawPublishWindowed(
  js: JetStreamClient,
  stream: string,
  count: number,
  window: number,
): Promise<Throughput> {
  const subject = `${stream}.msg`;
  let next = 0;
  const meter = new Meter();

  const caller = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await js.publish(subject, payload(index), {
        msgID: `${stream}-${index}`,
      });
    }
  };
  await Promise.all(Array.from({ length: window }, caller));

  return meter.stop(count);
}

/**
 * Publishes `count` messages on `{stream}.msg` in batches of
 * `batchSize`: every publish of a batch is sent at once, and the next
 * batch starts when all of them were acknowledged.
 */
export async function rawPublishBatched(
  js: JetStreamClient,
  stream: string,
  count: number,
  batchSize: number,
  firstIndex = 0,
): Promise<Throughput> {
  const subject = `${stream}.msg`;
  const meter = new Meter();

  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const sent = Array.from({ length: size }, (_, offset) => {
      const index = firstIndex + start + offset;
      return js.publish(subject, payload(index), {
        msgID: `${stream}-${index}`,
      });
    });
    await Promise.all(sent);
  }

  return meter.stop(count);
}

/**
 * Creates the durable pull consumer `durable` on `stream` and consumes
 * with `consume()` until `count` messages were acknowledged one by one.
 * Rejects if none arrives for 30 s.
 */
export async function rawConsume(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  count: number,
  options: { durable: string; maxMessages: number },
): Promise<Throughput> {
  await jsm.consumers.add(stream, {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
  });
  const consumer = await js.consumers.get(stream, options.durable);
  const acked = new Countdown(count, `raw consumer of ${stream}`);
  const meter = new Meter();

  const messages = await consumer.consume({
    max_messages: options.maxMessages,
  });
  const loop = (async () => {
    for await (const message of messages) {
      message.ack();
      acked.tick();
      if (acked.count >= count) break;
    }
  })();
  try {
    await Promise.race([acked.done, loop]);
    await acked.done;
  } finally {
    await messages.close();
  }
  // The acknowledgements were written to the socket; a round trip to
  // the server makes sure it has read them before the clock stops.
  await jsm.getAccountInfo();

  return meter.stop(count);
}
