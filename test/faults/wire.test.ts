/**
 * Malformed messages on the wire, put into a channel's transport with the
 * provider's own raw client, beside good messages published through
 * Switchyard: bytes that are not JSON, an envelope that is not a
 * CloudEvent, a MessagePack frame cut short, and a content type no codec
 * reads. Under at-least-once, each bad one is dead-lettered at its first
 * delivery with a reason that says what was wrong, the handler never sees
 * it, the consumer keeps going, and every good message is handled.
 *
 * Then payloads at the edge of what a codec carries: JSON numbers that
 * JSON.stringify does not write back (1e400, -0), which arrive as they
 * were sent, and a MessagePack object with an own `__proto__` key, which
 * MessagePack decoders refuse and so is refused when published.
 */
import { encode as msgpackEncode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { toCloudEvent } from '../../src/core/cloudevents.ts';
import type { Codec } from '../../src/core/codec.ts';
import { ValidationError } from '../../src/core/errors.ts';
import type { WireMessage } from '../../src/core/message.ts';
import type { Switchyard } from '../../src/core/switchyard.ts';
import { pairsOf, toHeaders } from '../../src/providers/nats/messages.ts';
import {
  createRecorder,
  expectError,
  uniqueName,
} from '../../src/testkit/helpers.ts';
import {
  type AwsRaw,
  type FaultTarget,
  faultTargets,
  type LocalRaw,
  type NatsRaw,
  selectedProviders,
  useFaultScope,
} from './providers.ts';

/** The data of the good messages. */
interface Order {
  n: number;
}

/** One malformed message, and what its dead letter must say. */
interface WireCase<Raw> {
  /** What is wrong with it, for the test's name. */
  what: string;
  /** The channel's codec. Default json. */
  codec?: 'json' | 'msgpack';
  /** Puts the message into `channel`, whose group `billing` exists. */
  inject(raw: Raw, channel: string): Promise<void>;
  /** The dead letter's reason, on `channel`. */
  reason: RegExp | ((channel: string) => RegExp);
}

const utf8 = new TextEncoder();
const NOT_JSON = 'order #7: { total: 12 '; // 22 characters, not JSON
const UNKNOWN_TYPE = 'application/x-protobuf';

/** A message as Switchyard would carry it, with `body` as its data. */
function wire(
  channel: string,
  id: string,
  body: Uint8Array,
  contentType = 'application/json',
): WireMessage {
  return {
    id,
    channel,
    body,
    contentType,
    attributes: {},
    publishedAt: Date.parse('2026-03-04T05:06:07.000Z'),
    publisherId: 'raw-producer',
    sequence: 1,
  };
}

/**
 * A MessagePack frame of a map with the key `__proto__`, as another
 * producer may send it: MessagePack decoders refuse to read it.
 */
function protoKeyFrame(): Uint8Array {
  return msgpackEncode(JSON.parse('{"n":98,"__proto__":{"admin":true}}'));
}

/** A MessagePack frame with its last bytes cut off. */
function truncatedMsgpack(): Uint8Array {
  const frame = msgpackEncode({ n: 99, note: 'cut short on the way' });
  return frame.subarray(0, frame.byteLength - 6);
}

const DECODE = 'could not decode the data: DecodeError:';
const NOT_JSON_REASON = new RegExp(
  `^${DECODE} 22 bytes are not valid JSON( \\(error at position \\d+\\))?$`,
);
const MSGPACK_REASON = new RegExp(
  `^${DECODE} bytes are not valid MessagePack: `,
);
const PROTO_REASON = new RegExp(
  `^${DECODE} bytes are not valid MessagePack: The key __proto__ is not allowed$`,
);
const UNKNOWN_REASON = new RegExp(
  `^${DECODE} no codec reads content type "${UNKNOWN_TYPE}"`,
);

/**
 * The bodies the channel's codec cannot read, as Switchyard would carry
 * them: for the providers that carry a whole wire message as it is.
 */
const UNREADABLE = [
  {
    what: 'with a MessagePack frame cut short',
    codec: 'msgpack',
    body: truncatedMsgpack,
    contentType: 'application/msgpack',
    reason: MSGPACK_REASON,
  },
  {
    what: 'of a MessagePack map with a __proto__ key',
    codec: 'msgpack',
    body: protoKeyFrame,
    contentType: 'application/msgpack',
    reason: PROTO_REASON,
  },
  {
    what: 'of a content type no codec reads',
    body: () => new Uint8Array([8, 1, 16, 2]),
    contentType: UNKNOWN_TYPE,
    reason: UNKNOWN_REASON,
  },
] as const;

/**
 * The {@link UNREADABLE} cases of a provider: `carry` puts the wire
 * message into the channel, and `noun` names what it becomes there.
 */
function unreadableCases<Raw>(
  noun: string,
  carry: (raw: Raw, channel: string, message: WireMessage) => Promise<void>,
): WireCase<Raw>[] {
  return UNREADABLE.map(({ what, body, contentType, reason, ...rest }) => ({
    what: `${noun} ${what}`,
    ...rest,
    inject: (raw, channel) =>
      carry(raw, channel, wire(channel, 'raw-1', body(), contentType)),
    reason,
  }));
}

const LOCAL_CASES: WireCase<LocalRaw>[] = [
  {
    what: 'a row whose JSON body is not JSON',
    inject: (raw, channel) =>
      raw.insertMessage(channel, wire(channel, 'raw-1', utf8.encode(NOT_JSON))),
    reason: NOT_JSON_REASON,
  },
  {
    what: 'a row whose attributes column is not a JSON object',
    inject: (raw, channel) =>
      raw.insertMessage(
        channel,
        wire(channel, 'raw-1', utf8.encode('{"n":5}')),
        { attributes: '{"region": eu' },
      ),
    reason:
      /^message \d+ of channel 'wire-[a-z0-9]+' cannot be read: its attributes column "\{\\"region\\": eu" is not a JSON object of strings: it is not valid JSON( \(error at position \d+\))?$/,
  },
  {
    what: 'a row with an empty id',
    inject: (raw, channel) =>
      raw.insertMessage(channel, wire(channel, '', utf8.encode('{"n":5}'))),
    reason:
      /^message \d+ of channel 'wire-[a-z0-9]+' cannot be read: its id is empty$/,
  },
  ...unreadableCases<LocalRaw>('a row', (raw, channel, message) =>
    raw.insertMessage(channel, message),
  ),
];

/** The headers Switchyard sets on a message it publishes. */
function switchyardHeaders(message: WireMessage): Record<string, string> {
  return Object.fromEntries(pairsOf(toHeaders(message)));
}

const NATS_CASES: WireCase<NatsRaw>[] = [
  {
    what: 'a plain JetStream publish of bytes that are not JSON, without headers',
    inject: (raw, channel) =>
      raw.publish(raw.subject(channel), utf8.encode(NOT_JSON)),
    reason: NOT_JSON_REASON,
  },
  {
    what: 'a publish of bytes that are not JSON, with the headers Switchyard sets',
    inject: (raw, channel) =>
      raw.publish(
        raw.subject(channel),
        utf8.encode(NOT_JSON),
        switchyardHeaders(wire(channel, 'raw-1', utf8.encode(NOT_JSON))),
      ),
    reason: NOT_JSON_REASON,
  },
  {
    what: 'a publish whose CloudEvents headers have no ce-id',
    inject: (raw, channel) => {
      const body = utf8.encode('{"n":5}');
      const { 'ce-id': _id, ...headers } = switchyardHeaders(
        wire(channel, 'raw-1', body),
      );
      delete headers['Nats-Msg-Id'];
      return raw.publish(raw.subject(channel), body, headers);
    },
    reason: (channel) =>
      new RegExp(
        `^message \\d+ of channel '${channel}' is not a valid CloudEvents message: its headers declare CloudEvents 1\\.0 but have no ce-id$`,
      ),
  },
  {
    what: 'a publish whose CloudEvents headers name another specversion',
    inject: (raw, channel) => {
      const body = utf8.encode('{"n":5}');
      const headers = switchyardHeaders(wire(channel, 'raw-1', body));
      headers['ce-specversion'] = '0.3';
      return raw.publish(raw.subject(channel), body, headers);
    },
    reason: (channel) =>
      new RegExp(
        `^message \\d+ of channel '${channel}' is not a valid CloudEvents message: its ce-specversion header is "0\\.3", and only CloudEvents 1\\.0 is read$`,
      ),
  },
  {
    what: 'a publish of a MessagePack frame cut short',
    codec: 'msgpack',
    inject: (raw, channel) => {
      const message = wire(
        channel,
        'raw-1',
        truncatedMsgpack(),
        'application/msgpack',
      );
      return raw.publish(
        raw.subject(channel),
        message.body,
        switchyardHeaders(message),
      );
    },
    reason: MSGPACK_REASON,
  },
  {
    what: 'a publish of a MessagePack map with a __proto__ key',
    codec: 'msgpack',
    inject: (raw, channel) =>
      raw.publish(raw.subject(channel), protoKeyFrame(), {
        'content-type': 'application/msgpack',
      }),
    reason: PROTO_REASON,
  },
  {
    what: 'a publish of a content type no codec reads',
    inject: (raw, channel) =>
      raw.publish(raw.subject(channel), new Uint8Array([8, 1, 16, 2]), {
        'content-type': UNKNOWN_TYPE,
      }),
    reason: UNKNOWN_REASON,
  },
];

/** The structured-mode JSON of `message`, with `change` applied. */
function event(
  message: WireMessage,
  change: (fields: Record<string, unknown>) => void = () => {},
): string {
  const fields = toCloudEvent(message) as Record<string, unknown>;
  change(fields);
  return JSON.stringify(fields);
}

/** The reason of an SQS body that is not an envelope, ending with `why`. */
function notEnvelope(why: string): (channel: string) => RegExp {
  return (channel) =>
    new RegExp(
      `^message of \\d+ characters on channel '${channel}' is not a Switchyard envelope: ${why}$`,
    );
}

const AWS_CASES: WireCase<AwsRaw>[] = [
  {
    what: 'an SNS publish whose body is not JSON',
    inject: (raw, channel) => raw.publishToTopic(channel, NOT_JSON),
    reason: notEnvelope(
      'structured envelope of 22 bytes is not valid JSON( \\(error at position \\d+\\))?',
    ),
  },
  {
    what: 'an SQS message of JSON that is not a CloudEvent',
    inject: (raw, channel) =>
      raw.sendToQueue(channel, 'billing', JSON.stringify({ order: 7 })),
    reason: notEnvelope(
      'not a CloudEvents event: specversion must be "1\\.0", got undefined',
    ),
  },
  {
    what: 'an SNS publish of a CloudEvent without an id',
    inject: (raw, channel) =>
      raw.publishToTopic(
        channel,
        event(wire(channel, 'raw-1', utf8.encode('{"n":5}')), (fields) => {
          delete fields.id;
        }),
      ),
    reason: notEnvelope(
      'not a CloudEvents event: id must be a non-empty string, got undefined',
    ),
  },
  {
    what: 'a CloudEvent of JSON content whose data is not JSON',
    inject: (raw, channel) =>
      raw.publishToTopic(
        channel,
        event(wire(channel, 'raw-1', utf8.encode(NOT_JSON))),
      ),
    reason: NOT_JSON_REASON,
  },
  ...unreadableCases<AwsRaw>('a CloudEvent', (raw, channel, message) =>
    raw.publishToTopic(channel, event(message)),
  ),
];

const targets = faultTargets();
const selected = selectedProviders();

/**
 * Registers the cases of one provider: each publishes a good message,
 * injects the bad one, publishes another good one, then subscribes.
 */
function wireCases<Raw>(target: FaultTarget<Raw>, cases: WireCase<Raw>[]) {
  const { timing } = target;
  describe(`malformed messages on ${target.name}`, () => {
    const { scope, until, drained } = useFaultScope(target);

    it.each(cases)(
      'at-least-once: $what is dead-lettered with the reason, and the good messages around it are handled',
      async (wireCase) => {
        const client: Switchyard = await scope.client();
        const name = uniqueName('wire');
        const channel = client.channel<Order>(name, {
          groups: ['billing'],
          codec: wireCase.codec ?? 'json',
        });
        const recorder = createRecorder<Order>();

        const before = await channel.publish({ n: 1 });
        await wireCase.inject(scope.raw, name);
        const after = await channel.publish({ n: 2 });
        channel.subscribe(recorder.handler, {
          group: 'billing',
          guarantee: 'at-least-once',
        });
        const [letter] = await until(async () => {
          const letters = await client.admin.deadLetters(name);
          expect(letters).toHaveLength(1);
          return letters;
        }, 'the malformed message dead-lettered');
        await until(
          () =>
            expect(new Set(recorder.ids())).toEqual(
              new Set([before.id, after.id]),
            ),
          'both good messages handled',
        );
        await drained(client, name);

        expect(recorder.runs.map((run) => run.message.data)).toEqual(
          expect.arrayContaining([{ n: 1 }, { n: 2 }]),
        );
        expect(recorder.runs).toHaveLength(2);
        expect(letter).toMatchObject({ group: 'billing', attempts: 1 });
        const { reason } = wireCase;
        expect(letter?.reason).toMatch(
          typeof reason === 'function' ? reason(name) : reason,
        );
      },
      timing.caseMs,
    );
  });
}

/**
 * JSON text whose numbers `JSON.stringify` would not write back as they
 * are read: one past the range of a double, and -0.
 */
const EDGE_NUMBERS = '{"n":3,"amount":1e400,"refund":-0}';

/** A codec of JSON text, passed through as it is: it sees the bytes. */
const jsonText: Codec<string> = {
  name: 'json-text',
  contentType: 'application/json',
  encode: (text) => utf8.encode(text),
  decode: (bytes) => new TextDecoder().decode(bytes),
};

/** How each provider receives JSON text from another producer. */
type ForeignJson<Raw> = (
  raw: Raw,
  channel: string,
  text: string,
) => Promise<void>;

const LOCAL_JSON: ForeignJson<LocalRaw> = (raw, channel, text) =>
  raw.insertMessage(channel, wire(channel, 'raw-1', utf8.encode(text)));
const NATS_JSON: ForeignJson<NatsRaw> = (raw, channel, text) =>
  raw.publish(raw.subject(channel), utf8.encode(text));
const AWS_JSON: ForeignJson<AwsRaw> = (raw, channel, text) =>
  // Written by hand: JSON.stringify cannot write these numbers.
  raw.publishToTopic(
    channel,
    `{"specversion":"1.0","id":"raw-1","source":"/billing/legacy","type":"orders.created","datacontenttype":"application/json","data":${text}}`,
  );

/**
 * Registers the cases of payloads a provider must carry as they were
 * sent, or refuse at once with the reason.
 */
function payloadCases<Raw>(
  target: FaultTarget<Raw>,
  foreign: ForeignJson<Raw>,
) {
  const { timing } = target;
  describe(`payloads on ${target.name}`, () => {
    const { scope, until, drained } = useFaultScope(target);

    it(
      'at-least-once: a JSON body holding 1e400 and -0 is carried byte for byte',
      async () => {
        const client = await scope.client();
        const name = uniqueName('wire');
        const channel = client.channel<string>(name, {
          groups: ['billing'],
          codec: jsonText,
        });
        const recorder = createRecorder<string>();

        await channel.publish(EDGE_NUMBERS);
        channel.subscribe(recorder.handler, { group: 'billing' });
        await until(
          () => expect(recorder.runs).toHaveLength(1),
          'the message handled',
        );

        expect(recorder.runs[0]?.message.data).toBe(EDGE_NUMBERS);
      },
      timing.caseMs,
    );

    it(
      'at-least-once: JSON from another producer holding 1e400 and -0 arrives as the JSON codec reads the text sent, not as null and 0',
      async () => {
        const client = await scope.client();
        const name = uniqueName('wire');
        const channel = client.channel<Record<string, number>>(name, {
          groups: ['billing'],
        });
        const recorder = createRecorder<Record<string, number>>();

        await channel.publish({ n: 1 });
        await foreign(scope.raw, name, EDGE_NUMBERS);
        channel.subscribe(recorder.handler, { group: 'billing' });
        await until(
          () => expect(recorder.runs).toHaveLength(2),
          'both messages handled',
        );

        const data = recorder.runs.map((run) => run.message.data);
        expect(data).toContainEqual({ n: 1 });
        const edge = data.find((item) => item.n === 3);
        expect(edge).toMatchObject({ n: 3, amount: Number.POSITIVE_INFINITY });
        expect(Object.is(edge?.refund, -0)).toBe(true);
        expect(await client.admin.deadLetters(name)).toEqual([]);
      },
      timing.caseMs,
    );

    it(
      'a MessagePack publish of an object with an own __proto__ key is refused at once with a ValidationError naming where, and nothing is sent',
      async () => {
        const client = await scope.client();
        const name = uniqueName('wire');
        const channel = client.channel<unknown>(name, {
          groups: ['billing'],
          codec: 'msgpack',
        });
        const recorder = createRecorder<unknown>();
        const refused = JSON.parse('{"n":4,"meta":{"__proto__":{"x":1}}}');

        const error = await expectError(
          () => channel.publish(refused),
          ValidationError,
        );
        const good = await channel.publish({ n: 5 });
        channel.subscribe(recorder.handler, { group: 'billing' });
        await until(
          () => expect(recorder.ids()).toEqual([good.id]),
          'the good message handled',
        );
        await drained(client, name);

        expect(error.field).toBe('data');
        expect(error.message).toBe(
          'value cannot be encoded as MessagePack: data.meta has an own __proto__ key, which MessagePack decoders refuse to read; rename the key or use the json codec',
        );
        expect(recorder.runs).toHaveLength(1);
        expect(await client.admin.deadLetters(name)).toEqual([]);
      },
      timing.caseMs,
    );
  });
}

if (selected.includes('local')) {
  wireCases(targets.local, LOCAL_CASES);
  payloadCases(targets.local, LOCAL_JSON);
}
if (selected.includes('nats')) {
  wireCases(targets.nats, NATS_CASES);
  payloadCases(targets.nats, NATS_JSON);
}
if (selected.includes('aws')) {
  wireCases(targets.aws, AWS_CASES);
  payloadCases(targets.aws, AWS_JSON);
}
