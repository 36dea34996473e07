/**
 * What the claim check does on a provider with a payload limit, through
 * the public client API only (`connect`). Each provider file of this
 * folder starts its server and runs these cases; every case has a
 * channel of its own, so the cases of one file share the server and
 * the bucket.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connect } from '../../src/config/connect.ts';
import type { Delivery } from '../../src/core/channel.ts';
import { PayloadTooLargeError } from '../../src/core/errors.ts';
import type { Switchyard } from '../../src/core/switchyard.ts';
import { eventually, uniqueName } from '../../src/testkit/helpers.ts';

/** The bucket of every case. */
export const BUCKET = 'claims';

/** The prefix of every case. */
export const PREFIX = 'claim-check/';

/** A provider to run the cases on. */
export interface ClaimCheckTarget {
  /** The provider's configuration name. */
  provider: string;
  /** Its options, for a client of the case (a limit set small). */
  options(): Record<string, unknown>;
  /** The limit the provider is expected to declare. */
  limit: number;
  /** How long to wait for something that takes round trips. */
  eventuallyMs: number;
  /** Lease of the consumers, in ms (whole seconds on SQS). */
  leaseMs: number;
}

/** Bytes of `size` that no two calls repeat. */
function payload(size: number): Uint8Array {
  return new Uint8Array(randomBytes(size));
}

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Names of the objects of the channel's messages in the bucket. */
async function objectsOf(client: Switchyard, channel: string) {
  const names: string[] = [];
  const bucket = client.objects(BUCKET);
  for await (const info of bucket.list(`${PREFIX}${channel}/`)) {
    names.push(info.name);
  }
  return names;
}

/** The payload object of message `id` of `channel`. */
function payloadOf(channel: string, id: string): string {
  return `${PREFIX}${channel}/${id}/payload`;
}

/**
 * Fetches from `consumer` until `count` deliveries came, and returns
 * them, unacknowledged.
 */
async function fetchAll<T>(
  consumer: {
    fetch(max: number, o: { waitMs: number }): Promise<Delivery<T>[]>;
  },
  count: number,
  timeoutMs: number,
): Promise<Delivery<T>[]> {
  const got: Delivery<T>[] = [];
  await eventually(
    async () => {
      got.push(...(await consumer.fetch(count - got.length, { waitMs: 500 })));
      return got.length >= count;
    },
    { timeoutMs, message: `${count} deliveries` },
  );
  return got;
}

/** Registers the claim-check cases of `target`. */
export function claimCheckCases(target: ClaimCheckTarget): void {
  const { eventuallyMs, leaseMs } = target;
  /** A client; `claimCheck` false for none, else more of its settings. */
  const open = async (
    claimCheck: false | { maxBytes?: number },
  ): Promise<Switchyard> =>
    connect({
      env: {},
      config: {
        provider: target.provider,
        providers: { [target.provider]: target.options() },
        ...(claimCheck !== false && {
          claimCheck: { bucket: BUCKET, prefix: PREFIX, ...claimCheck },
        }),
      },
    });
  const withClient = async (
    run: (client: Switchyard) => Promise<void>,
    claimCheck: false | { maxBytes?: number } = {},
  ) => {
    const client = await open(claimCheck);
    try {
      await run(client);
    } finally {
      await client.close();
    }
  };

  describe(`the claim check on ${target.provider}`, () => {
    it(`declares the provider's limit of ${target.limit} bytes`, async () => {
      await withClient(async (client) => {
        expect(client.capabilities('channels').maxPayloadBytes).toBe(
          target.limit,
        );
      });
    });

    it('carries a payload over the limit intact to a push group and a pull group, then removes its object', async () => {
      await withClient(async (client) => {
        const name = uniqueName('large');
        const channel = client.channel<Uint8Array>(name, {
          codec: 'raw',
          groups: ['pusher', 'puller'],
        });
        const data = payload(target.limit + 1000);

        const receipt = await channel.publish(data, {
          attributes: { kind: 'scan' },
        });
        const stored = await objectsOf(client, name);
        const pushed: { sha: string; kind?: string }[] = [];
        const subscription = channel.subscribe(
          (message) => {
            pushed.push({
              sha: digest(message.data),
              kind: message.attributes.kind,
            });
          },
          { group: 'pusher', leaseMs },
        );
        const puller = await channel.consumer({ group: 'puller', leaseMs });
        const [pulled] = await fetchAll(puller, 1, eventuallyMs);
        await pulled!.ack();
        await eventually(() => pushed.length === 1, {
          timeoutMs: eventuallyMs,
        });

        expect(stored).toEqual([payloadOf(name, receipt.id)]);
        expect(digest(pulled!.message.data)).toBe(digest(data));
        expect(pulled!.message.contentType).toBe('application/octet-stream');
        expect(pushed).toEqual([{ sha: digest(data), kind: 'scan' }]);
        await eventually(
          async () => (await objectsOf(client, name)).length === 0,
          { timeoutMs: eventuallyMs, message: 'the object removed' },
        );
        await subscription.close();
        await puller.close();
      });
    });

    it('sends a payload at the limit as it is, with no object', async () => {
      await withClient(async (client) => {
        const name = uniqueName('small');
        const channel = client.channel<Uint8Array>(name, {
          codec: 'raw',
          groups: ['only'],
        });
        const data = payload(target.limit);

        await channel.publish(data);
        const stored = await objectsOf(client, name);
        const puller = await channel.consumer({ group: 'only', leaseMs });
        const [delivery] = await fetchAll(puller, 1, eventuallyMs);
        await delivery!.ack();

        expect(stored).toEqual([]);
        expect(digest(delivery!.message.data)).toBe(digest(data));
        await puller.close();
      });
    });

    it('dead-letters a message whose object is missing, naming the bucket and key, and goes on', async () => {
      await withClient(async (client) => {
        const name = uniqueName('missing');
        const channel = client.channel<Uint8Array>(name, {
          codec: 'raw',
          groups: ['crew'],
        });
        const lost = await channel.publish(payload(target.limit * 2));
        await client.objects(BUCKET).delete(payloadOf(name, lost.id));
        const next = await channel.publish(payload(10));

        const puller = await channel.consumer({ group: 'crew', leaseMs });
        const [delivery] = await fetchAll(puller, 1, eventuallyMs);
        await delivery!.ack();
        const letters = await eventually(
          async () => {
            const found = await client.admin.deadLetters(name);
            return found.length > 0 && found;
          },
          { timeoutMs: eventuallyMs, message: 'the dead letter' },
        );

        expect(delivery!.message.id).toBe(next.id);
        expect(letters.map((l) => l.message.id)).toEqual([lost.id]);
        expect(letters[0]!.reason).toBe(
          `claim-check object '${payloadOf(name, lost.id)}' of bucket '${BUCKET}' is missing: removed, expired or never written`,
        );
        await puller.close();
      });
    });

    it('publishes a batch of small and large entries, each arriving intact', async () => {
      await withClient(async (client) => {
        const name = uniqueName('batch');
        const channel = client.channel<Uint8Array>(name, {
          codec: 'raw',
          groups: ['crew'],
        });
        const sizes = [10, target.limit + 1, 20, target.limit * 2, 30];
        const entries = sizes.map((size) => ({ data: payload(size) }));

        const results = await channel.publishBatch(entries);
        const stored = await objectsOf(client, name);
        const puller = await channel.consumer({ group: 'crew', leaseMs });
        const deliveries = await fetchAll(puller, sizes.length, eventuallyMs);
        for (const delivery of deliveries) await delivery.ack();

        expect(results.map((r) => r.ok)).toEqual(sizes.map(() => true));
        expect(stored).toHaveLength(2);
        const byId = new Map(deliveries.map((d) => [d.message.id, d]));
        expect(
          results.map((r) => digest(byId.get(r.id)!.message.data)),
        ).toEqual(entries.map((e) => digest(e.data)));
        await eventually(
          async () => (await objectsOf(client, name)).length === 0,
          { timeoutMs: eventuallyMs, message: 'the objects removed' },
        );
        await puller.close();
      });
    });

    it('keeps the object when a broadcast consumer existed at publish time', async () => {
      await withClient(async (client) => {
        const name = uniqueName('fanout');
        const channel = client.channel<Uint8Array>(name, {
          codec: 'raw',
          groups: ['crew'],
        });
        const heard: string[] = [];
        const listener = await channel.consumer({ broadcast: true, leaseMs });
        const data = payload(target.limit + 1);

        const receipt = await channel.publish(data);
        const puller = await channel.consumer({ group: 'crew', leaseMs });
        const [delivery] = await fetchAll(puller, 1, eventuallyMs);
        await delivery!.ack();
        for (const d of await fetchAll(listener, 1, eventuallyMs)) {
          heard.push(digest(d.message.data));
          await d.ack();
        }

        expect(heard).toEqual([digest(data)]);
        expect(await objectsOf(client, name)).toEqual([
          payloadOf(name, receipt.id),
        ]);
        await puller.close();
        await listener.close();
      });
    });

    it('lists a dead-lettered large message with its data, and replays it as a reference that resolves again', async () => {
      await withClient(async (client) => {
        const name = uniqueName('replay');
        const channel = client.channel<Uint8Array>(name, {
          codec: 'raw',
          groups: ['crew'],
        });
        const data = payload(target.limit + 1);
        const receipt = await channel.publish(data);
        const puller = await channel.consumer({ group: 'crew', leaseMs });
        const [first] = await fetchAll(puller, 1, eventuallyMs);
        await first!.deadLetter('rejected by the test');

        const [letter] = await eventually(
          async () => {
            const found = await client.admin.deadLetters(name);
            return found.length > 0 && found;
          },
          { timeoutMs: eventuallyMs, message: 'the dead letter' },
        );
        const replayed = await client.admin.replayDeadLetters(name);
        const [again] = await fetchAll(puller, 1, eventuallyMs);
        await again!.ack();

        expect(letter!.reason).toBe('rejected by the test');
        expect(letter!.message.contentType).toBe('application/octet-stream');
        expect(digest(letter!.message.body)).toBe(digest(data));
        expect(replayed).toBe(1);
        expect(again!.message.id).toBe(receipt.id);
        expect(digest(again!.message.data)).toBe(digest(data));
        await eventually(
          async () => (await objectsOf(client, name)).length === 0,
          { timeoutMs: eventuallyMs, message: 'the object removed' },
        );
        await puller.close();
      });
    });

    it("refuses a payload over the claim check's maxBytes, and without a claim check says one would carry it", async () => {
      const tooLarge = payload(target.limit + 1);

      await withClient(
        async (client) => {
          const channel = client.channel<Uint8Array>(uniqueName('capped'), {
            codec: 'raw',
          });
          const error = await channel.publish(tooLarge).catch((e) => e);

          expect(error).toBeInstanceOf(PayloadTooLargeError);
          expect(error.limit).toBe(target.limit);
          expect(error.message).toContain('claimCheck.maxBytes');
        },
        { maxBytes: target.limit },
      );
      await withClient(async (client) => {
        const channel = client.channel<Uint8Array>(uniqueName('plain'), {
          codec: 'raw',
        });
        const error = await channel.publish(tooLarge).catch((e) => e);

        expect(error).toBeInstanceOf(PayloadTooLargeError);
        expect(error.limit).toBe(target.limit);
        expect(error.message).toContain('a claim check');
      }, false);
    });
  });
}
