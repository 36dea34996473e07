/**
 * The claim-check decorator on the memory provider's transports: the
 * reference it writes, the object names, the release of the object by
 * racing acknowledgers, and the refusals. The end-to-end behaviour on
 * every provider is in the provider files of this folder.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonCodec } from '../../src/core/codecs.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { WireMessage } from '../../src/core/message.ts';
import type {
  ChannelTransport,
  ConsumerSpec,
  ObjectStore,
  ObjectTransport,
  Provider,
} from '../../src/core/provider.ts';
import { withClaimCheck } from '../../src/delivery/claim-check.ts';
import {
  CLAIM_CHECK_CONTENT_TYPE,
  type ClaimCheckReference,
  idSegment,
  payloadKey,
  readReference,
  sha256,
} from '../../src/delivery/claim-check-reference.ts';
import { releaseObject } from '../../src/delivery/claim-check-release.ts';
import { createDecoder } from '../../src/delivery/decode.ts';
import { createMemoryProvider } from '../../src/providers/memory/index.ts';

const LIMIT = 1024;
const BUCKET = 'claims';
const CHANNEL = 'blobs';

const opened: Provider[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((p) => p.close()));
});

/** A memory provider of its own namespace and the decorated channels. */
async function setup(): Promise<{
  provider: Provider;
  channels: ChannelTransport;
  store: ObjectStore;
}> {
  const provider = await createMemoryProvider({
    namespace: `claim-${randomUUID()}`,
    maxPayloadBytes: LIMIT,
  });
  opened.push(provider);
  const channels = withClaimCheck(provider.channels!, {
    objects: provider.objects!,
    bucket: BUCKET,
    maxPayloadBytes: LIMIT,
    logger: silentLogger,
  });
  const store = await provider.objects!.open(BUCKET, { create: true });
  return { provider, channels, store };
}

function message(id: string, size: number): WireMessage {
  return {
    id,
    channel: CHANNEL,
    body: new Uint8Array(size).map((_, i) => i % 251),
    contentType: 'application/octet-stream',
    attributes: { origin: 'test' },
    publishedAt: 1_700_000_000_000,
    publisherId: 'publisher-1',
    sequence: 7,
    orderingKey: 'k1',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  };
}

function group(name: string): ConsumerSpec {
  return {
    channel: CHANNEL,
    mode: 'group',
    name,
    leaseMs: 30_000,
    maxAttempts: 5,
  };
}

async function names(store: ObjectStore, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for await (const info of store.list(prefix)) found.push(info.name);
  return found;
}

describe('the reference a large message carries', () => {
  it('names the object, its size, digest, content type and the groups, and keeps everything else', async () => {
    const { provider, channels } = await setup();
    await channels.ensure({
      name: CHANNEL,
      ordered: false,
      groups: ['b', 'a'],
    });
    const original = message('m-1', LIMIT + 1);

    await channels.publish(CHANNEL, [original]);

    const [raw] = await (await provider.channels!.consume(group('a'))).fetch(
      1,
      { waitMs: 1000 },
    );
    const reference = readReference(raw!.message);
    expect(raw!.message.contentType).toBe(CLAIM_CHECK_CONTENT_TYPE);
    expect(reference).toEqual({
      v: 1,
      bucket: BUCKET,
      key: `claim-check/${CHANNEL}/m-1/payload`,
      size: LIMIT + 1,
      sha256: sha256(original.body),
      contentType: 'application/octet-stream',
      generation: expect.stringMatching(/^[0-9a-f]{16}$/),
      groups: ['a', 'b'],
    });
    const { body: _, contentType: __, ...rest } = raw!.message;
    const { body: ___, contentType: ____, ...expected } = original;
    expect(rest).toEqual(expected);
  });

  it('is not made for a body at the limit', async () => {
    const { provider, channels, store } = await setup();
    await channels.ensure({ name: CHANNEL, ordered: false, groups: ['a'] });

    await channels.publish(CHANNEL, [message('m-2', LIMIT)]);

    const [raw] = await (await provider.channels!.consume(group('a'))).fetch(
      1,
      { waitMs: 1000 },
    );
    expect(raw!.message.contentType).toBe('application/octet-stream');
    expect(await names(store)).toEqual([]);
  });

  it('lists no groups when a broadcast consumer exists', async () => {
    const { provider, channels } = await setup();
    await channels.ensure({ name: CHANNEL, ordered: false, groups: ['a'] });
    await channels.consume({ ...group('live-1'), mode: 'broadcast' });

    await channels.publish(CHANNEL, [message('m-3', LIMIT * 2)]);

    const [raw] = await (await provider.channels!.consume(group('a'))).fetch(
      1,
      { waitMs: 1000 },
    );
    expect(readReference(raw!.message).groups).toBeNull();
  });

  it('is refused by a consumer without a claim check, with a reason that says so', async () => {
    const { provider, channels } = await setup();
    await channels.ensure({ name: CHANNEL, ordered: false, groups: ['a'] });
    await channels.publish(CHANNEL, [message('m-16', LIMIT + 1)]);
    const [raw] = await (await provider.channels!.consume(group('a'))).fetch(
      1,
      { waitMs: 1000 },
    );

    const outcome = await createDecoder(jsonCodec)(raw!.message);

    expect(outcome).toMatchObject({
      ok: false,
      reason:
        'message m-16 carries a claim-check reference, and no claim check resolves it here: configure claimCheck with the bucket the reference names, then replay the dead letter',
    });
  });

  it('is refused with the field and the value when malformed', () => {
    const bad = { ...message('m-4', 0), contentType: CLAIM_CHECK_CONTENT_TYPE };
    const encode = (value: unknown) => ({
      ...bad,
      body: new TextEncoder().encode(JSON.stringify(value)),
    });

    expect(() => readReference(bad)).toThrow(/is not UTF-8 JSON/);
    expect(() => readReference(encode({ v: 2 }))).toThrow(/v must be 1, got 2/);
    expect(() =>
      readReference(
        encode({
          v: 1,
          bucket: 'b',
          key: 'k',
          size: -1,
          sha256: '0'.repeat(64),
          contentType: 'x',
          generation: 'g',
          groups: null,
        }),
      ),
    ).toThrow(/size must be an integer >= 0, got -1/);
  });
});

describe('object names', () => {
  it('map every message id to one valid name and no two ids to the same', () => {
    const ids = ['a:b', 'a=3Ab', '.', '..', '...', 'x.y'];

    const segments = ids.map(idSegment);

    expect(segments).toEqual(['a=3Ab', 'a=3Ab', '=2E', '=2E=2E', '...', 'x.y']);
    // 'a=3Ab' is no message id ('=' is not allowed in one), so the first
    // two never meet.
    expect(payloadKey('p/', 'orders', 'a:b')).toBe('p/orders/a=3Ab/payload');
  });
});

describe('releasing the object', () => {
  it('removes the object once every listed group acknowledged, not before', async () => {
    const { channels, store } = await setup();
    await channels.ensure({
      name: CHANNEL,
      ordered: false,
      groups: ['a', 'b'],
    });
    await channels.publish(CHANNEL, [message('m-5', LIMIT * 3)]);
    const [first] = await (await channels.consume(group('a'))).fetch(1, {
      waitMs: 1000,
    });
    const [second] = await (await channels.consume(group('b'))).fetch(1, {
      waitMs: 1000,
    });

    await first!.ack();
    const afterOne = await names(store);
    await second!.ack();

    expect(first!.message.body).toEqual(message('m-5', LIMIT * 3).body);
    expect(afterOne).toContain(`claim-check/${CHANNEL}/m-5/payload`);
    expect(afterOne.filter((n) => n.includes('/acks/'))).toHaveLength(1);
    expect(await names(store)).toEqual([]);
  });

  it('of two racing last acknowledgers, at least one removes it, in any interleaving', async () => {
    const { provider, store } = await setup();
    const outcomes: string[][] = [];

    for (let round = 0; round < 25; round++) {
      const reference = await storedReference(store, `race-${round}`, [
        'a',
        'b',
      ]);
      const jittery = await jitteryStore(provider.objects!);
      outcomes.push(
        await Promise.all([
          releaseObject(jittery, reference, 'a', silentLogger),
          releaseObject(jittery, reference, 'b', silentLogger),
        ]),
      );
    }

    for (const pair of outcomes) expect(pair).toContain('removed');
    expect(await names(store)).toEqual([]);
  });

  it('keeps the object a later publish of the same id replaced', async () => {
    const { store } = await setup();
    const earlier = await storedReference(store, 'm-7', ['a']);
    const later = await storedReference(store, 'm-7', ['a']);

    const outcome = await releaseObject(store, earlier, 'a', silentLogger);

    expect(outcome).toBe('removed');
    expect(await names(store)).toEqual([later.key]);
  });

  it('leaves the object to the expiry when the groups are unknown', async () => {
    const { store } = await setup();
    const reference = await storedReference(store, 'm-8', null);

    const outcome = await releaseObject(store, reference, 'a', silentLogger);

    expect(outcome).toBe('expiry');
    expect(await names(store)).toEqual([reference.key]);
  });
});

describe('references that cannot be followed', () => {
  it('dead-letters one whose object is missing, and hands out the next', async () => {
    const { channels, store } = await setup();
    await channels.ensure({ name: CHANNEL, ordered: false, groups: ['a'] });
    await channels.publish(CHANNEL, [
      message('m-9', LIMIT * 2),
      message('m-10', 10),
    ]);
    await store.delete(`claim-check/${CHANNEL}/m-9/payload`);

    const fetched = await (await channels.consume(group('a'))).fetch(10, {
      waitMs: 1000,
    });

    expect(fetched.map((d) => d.message.id)).toEqual(['m-10']);
    const [letter] = await channels.deadLetters(CHANNEL);
    expect(letter!.reason).toBe(
      `claim-check object 'claim-check/${CHANNEL}/m-9/payload' of bucket '${BUCKET}' is missing: removed, expired or never written`,
    );
    expect(letter!.message.contentType).toBe(CLAIM_CHECK_CONTENT_TYPE);
  });

  it('dead-letters one whose object was altered, naming both digests', async () => {
    const { channels, store } = await setup();
    await channels.ensure({ name: CHANNEL, ordered: false, groups: ['a'] });
    await channels.publish(CHANNEL, [message('m-11', LIMIT * 2)]);
    const altered = message('m-11', LIMIT * 2).body.map((b) => b ^ 1);
    await store.put(`claim-check/${CHANNEL}/m-11/payload`, altered, {});

    const fetched = await (await channels.consume(group('a'))).fetch(10, {
      waitMs: 200,
    });

    expect(fetched).toEqual([]);
    const [letter] = await channels.deadLetters(CHANNEL);
    expect(letter!.reason).toMatch(
      new RegExp(
        `is corrupt: its sha256 is ${sha256(altered)}, the reference says [0-9a-f]{64}$`,
      ),
    );
  });

  it('dead-letters one that points outside its bucket, and removes nothing there', async () => {
    const { provider, channels } = await setup();
    await channels.ensure({ name: CHANNEL, ordered: false, groups: ['a'] });
    const elsewhere = await provider.objects!.open('others', { create: true });
    await elsewhere.put('precious', new Uint8Array([1]), {});
    const forged: ClaimCheckReference = {
      v: 1,
      bucket: 'others',
      key: 'precious',
      size: 1,
      sha256: sha256(new Uint8Array([1])),
      contentType: 'application/octet-stream',
      generation: '0123456789abcdef',
      groups: ['a'],
    };
    await provider.channels!.publish(CHANNEL, [
      {
        ...message('m-12', 0),
        contentType: CLAIM_CHECK_CONTENT_TYPE,
        body: new TextEncoder().encode(JSON.stringify(forged)),
      },
    ]);

    const fetched = await (await channels.consume(group('a'))).fetch(1, {
      waitMs: 200,
    });

    expect(fetched).toEqual([]);
    const [letter] = await channels.deadLetters(CHANNEL);
    expect(letter!.reason).toMatch(/outside the claim check's bucket 'claims'/);
    expect(await names(elsewhere)).toEqual(['precious']);
  });

  it('fails only the entry whose object cannot be written', async () => {
    const { provider } = await setup();
    const refusing: ObjectTransport = {
      ...provider.objects!,
      open: async () => {
        throw new Error('store down');
      },
    };
    const channels = withClaimCheck(provider.channels!, {
      objects: refusing,
      bucket: BUCKET,
      maxPayloadBytes: LIMIT,
      logger: silentLogger,
    });
    await channels.ensure({ name: CHANNEL, ordered: false, groups: ['a'] });

    const outcomes = await channels.publish(CHANNEL, [
      message('m-13', 1),
      message('m-14', LIMIT + 1),
      message('m-15', 2),
    ]);

    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(outcomes[1]).toMatchObject({ error: { message: 'store down' } });
    const fetched = await (await channels.consume(group('a'))).fetch(10, {
      waitMs: 200,
    });
    expect(fetched.map((d) => d.message.id)).toEqual(['m-13', 'm-15']);
  });
});

/** A payload and its reference written as the decorator writes them. */
async function storedReference(
  store: ObjectStore,
  id: string,
  groups: string[] | null,
): Promise<ClaimCheckReference> {
  const body = new TextEncoder().encode(`payload of ${id}`);
  const generation = randomUUID().replaceAll('-', '').slice(0, 16);
  const key = payloadKey('claim-check/', CHANNEL, id);
  await store.put(key, body, { metadata: { generation } });
  return {
    v: 1,
    bucket: BUCKET,
    key,
    size: body.byteLength,
    sha256: sha256(body),
    contentType: 'text/plain',
    generation,
    groups,
  };
}

/**
 * The bucket, each operation started after a random pause of 0 to 3 ms,
 * so that two acknowledgers interleave differently from round to round.
 */
async function jitteryStore(objects: ObjectTransport): Promise<ObjectStore> {
  const inner = await objects.open(BUCKET, { create: false });
  const pause = () =>
    new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
  return {
    put: async (name, body, options) => {
      await pause();
      return inner.put(name, body, options);
    },
    async *list(prefix) {
      await pause();
      yield* inner.list(prefix);
    },
    get: async (name) => {
      await pause();
      return inner.get(name);
    },
    head: async (name) => {
      await pause();
      return inner.head(name);
    },
    delete: async (name, options) => {
      await pause();
      return inner.delete(name, options);
    },
  };
}
