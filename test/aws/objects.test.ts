import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ConflictError,
  NotFoundError,
  ValidationError,
} from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { ObjectStore } from '../../src/core/provider.ts';
import { AwsContext } from '../../src/providers/aws/context.ts';
import { AwsObjects } from '../../src/providers/aws/objects.ts';
import { resolveAwsOptions } from '../../src/providers/aws/options.ts';
import { chunks, digest, seededBytes } from '../../src/testkit/data.ts';
import {
  collect,
  createGate,
  expectError,
  uniqueName,
} from '../../src/testkit/helpers.ts';
import { type MotoServer, startMotoServer } from './moto.ts';

const MiB = 1024 * 1024;

let moto: MotoServer;
let context: AwsContext;
let objects: AwsObjects;

beforeAll(async () => {
  moto = await startMotoServer();
  context = new AwsContext(
    resolveAwsOptions({ endpoint: moto.endpoint, prefix: 'sy-' }),
    silentLogger,
  );
  objects = new AwsObjects(context, { pageSize: 2 });
});

afterAll(async () => {
  await context?.close();
  await moto?.stop();
});

function freshBucket(): Promise<ObjectStore> {
  return objects.open(uniqueName('blobs'), { create: true });
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  return Buffer.concat(await collect(body));
}

async function textOf(store: ObjectStore, name: string): Promise<string> {
  const found = await store.get(name);
  return found === undefined ? '' : (await readAll(found.body)).toString();
}

describe('opening a bucket', () => {
  test('opening an existing bucket with create asks S3 for no new bucket, so a deployed function needs no right to create one', async () => {
    const name = uniqueName('blobs');
    await objects.open(name, { create: true });
    const sent: string[] = [];
    context.s3.middlewareStack.add(
      (next, info) => (args) => {
        sent.push(info.commandName ?? '');
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );

    try {
      await objects.open(name, { create: true });
    } finally {
      context.s3.middlewareStack.remove('recordCommands');
    }

    expect(sent).toEqual(['HeadBucketCommand']);
  });
});

describe('aws object buckets', () => {
  test('an object keeps its bytes, content type and metadata', async () => {
    const store = await freshBucket();

    const put = await store.put('reports/a.json', bytes('{"a":1}'), {
      contentType: 'application/json',
      metadata: { owner: 'ops' },
    });
    const got = await store.get('reports/a.json');
    const head = await store.head('reports/a.json');

    expect(put).toMatchObject({
      name: 'reports/a.json',
      size: 7,
      contentType: 'application/json',
      metadata: { owner: 'ops' },
    });
    expect(got?.info).toMatchObject({ etag: put.etag, size: 7 });
    expect(head).toMatchObject({
      etag: put.etag,
      contentType: 'application/json',
      metadata: { owner: 'ops' },
    });
    expect(head?.updatedAt).toBeGreaterThan(0);
    expect((await readAll(got!.body)).toString()).toBe('{"a":1}');
  });

  test('a stream of several MiB goes up in parts and reads back whole', async () => {
    const store = await freshBucket();
    const content = seededBytes(19 * MiB + 5);

    const info = await store.put('snapshots/big.bin', chunks(content, MiB), {});
    const got = await store.get('snapshots/big.bin');
    const read = await readAll(got!.body);

    expect(info.size).toBe(content.length);
    // A multipart ETag ends with the number of its parts.
    expect(info.etag).toMatch(/-3$/);
    expect(read.length).toBe(content.length);
    expect(digest(read)).toBe(digest(content));
  });

  test('a large body given as bytes also goes up in parts', async () => {
    const store = await freshBucket();
    const content = seededBytes(9 * MiB, 'bytes');

    const info = await store.put('snapshots/bytes.bin', content, {});
    const head = await store.head('snapshots/bytes.bin');

    expect(info.etag).toMatch(/-2$/);
    expect(head).toMatchObject({ size: content.length, etag: info.etag });
  });

  test('a put if absent on an existing object is a conflict', async () => {
    const store = await freshBucket();
    const first = await store.put('lock', bytes('1'), { ifAbsent: true });

    const error = await expectError(
      () => store.put('lock', bytes('2'), { ifAbsent: true }),
      ConflictError,
    );

    expect(error.actual).toBe(first.etag);
    expect(error.details.provider).toBe('aws');
    expect(await textOf(store, 'lock')).toBe('1');
  });

  test('a multipart put if absent is refused on completion when the object appeared meanwhile', async () => {
    const name = uniqueName('blobs');
    const store = await objects.open(name, { create: true });
    const started = createGate();
    const resume = createGate();
    async function* body() {
      yield seededBytes(9 * MiB, 'first');
      started.open();
      await resume.opened;
      yield seededBytes(MiB, 'rest');
    }

    const putting = store.put('big', body(), { ifAbsent: true });
    const outcome = expectError(() => putting, ConflictError);
    await started.opened;
    const rival = await store.put('big', bytes('rival'), {});
    resume.open();
    const error = await outcome;
    const uploads = await context.s3.send(
      new ListMultipartUploadsCommand({ Bucket: context.resourceName(name) }),
    );

    expect(error.details.providerCode).toBe('PreconditionFailed');
    expect(error.actual).toBe(rival.etag);
    expect(uploads.Uploads ?? []).toEqual([]);
    expect(await textOf(store, 'big')).toBe('rival');
  });

  test('a put on the current etag replaces the object', async () => {
    const store = await freshBucket();
    const first = await store.put('doc', bytes('v1'), {});

    const second = await store.put('doc', bytes('v2'), { ifEtag: first.etag });

    expect(second.etag).not.toBe(first.etag);
    expect(await textOf(store, 'doc')).toBe('v2');
  });

  test('a put on a stale etag is a conflict with expected and actual', async () => {
    const store = await freshBucket();
    const first = await store.put('doc', bytes('v1'), {});
    const second = await store.put('doc', bytes('v2'), {});

    const error = await expectError(
      () => store.put('doc', bytes('v3'), { ifEtag: first.etag }),
      ConflictError,
    );

    expect(error.expected).toBe(first.etag);
    expect(error.actual).toBe(second.etag);
    expect(error.details.providerCode).toBe('PreconditionFailed');
    expect(await textOf(store, 'doc')).toBe('v2');
  });

  test('a put on an etag of an absent object is a conflict', async () => {
    const store = await freshBucket();

    const error = await expectError(
      () => store.put('ghost', bytes('v1'), { ifEtag: 'abc' }),
      ConflictError,
    );

    expect(error.actual).toBeUndefined();
    expect(await store.head('ghost')).toBeUndefined();
  });

  test('a delete on a stale etag is a conflict and keeps the object', async () => {
    const store = await freshBucket();
    const first = await store.put('a', bytes('1'), {});
    await store.put('a', bytes('2'), {});

    await expectError(
      () => store.delete('a', { ifEtag: first.etag }),
      ConflictError,
    );

    expect(await textOf(store, 'a')).toBe('2');
  });

  test('a delete says whether the object existed', async () => {
    const store = await freshBucket();
    const { etag } = await store.put('a', bytes('1'), {});
    await store.put('b', bytes('1'), {});

    const onEtag = await store.delete('a', { ifEtag: etag });
    const plain = await store.delete('b');
    const again = await store.delete('b');

    expect([onEtag, plain, again]).toEqual([true, true, false]);
    expect(await store.get('a')).toBeUndefined();
  });

  test('list yields the objects under a prefix in name order, across pages', async () => {
    const store = await freshBucket();
    for (const name of ['b/2', 'a/1', 'b/1', 'b10', 'c', 'b/3', 'b/4']) {
      await store.put(name, bytes(name), { metadata: { name: 'x' } });
    }
    await store.delete('b/2');

    const listed = await collect(store.list('b'));
    const all = await collect(store.list(''));

    expect(listed.map((info) => info.name)).toEqual([
      'b/1',
      'b/3',
      'b/4',
      'b10',
    ]);
    expect(listed.map((info) => info.metadata)).toEqual(
      Array(4).fill({ name: 'x' }),
    );
    expect(all).toHaveLength(6);
  });

  test('a missing object reads as absent', async () => {
    const store = await freshBucket();

    expect(await store.get('missing')).toBeUndefined();
    expect(await store.head('missing')).toBeUndefined();
    expect(await store.delete('missing')).toBe(false);
  });

  test('opening an absent bucket without create is a not-found error', async () => {
    const error = await expectError(
      () => objects.open(uniqueName('absent'), { create: false }),
      NotFoundError,
    );

    expect(error.kind).toBe('object-bucket');
  });

  test('using a bucket deleted while open is a not-found error', async () => {
    const name = uniqueName('dropped');
    const store = await objects.open(name, { create: true });
    await store.put('a', bytes('1'), {});
    await objects.delete(name);

    const writing = await expectError(
      () => store.put('a', bytes('1'), {}),
      NotFoundError,
    );
    const reading = await expectError(() => store.get('a'), NotFoundError);
    const heading = await expectError(() => store.head('a'), NotFoundError);
    const listing = await expectError(
      () => collect(store.list('')),
      NotFoundError,
    );

    for (const error of [writing, reading, heading, listing]) {
      expect(error.kind).toBe('object-bucket');
      expect(error.resource).toBe(name);
    }
  });

  test('deleting a bucket removes its objects and unfinished uploads', async () => {
    const name = uniqueName('full');
    const store = await objects.open(name, { create: true });
    for (const key of ['a', 'b', 'c']) await store.put(key, bytes(key), {});
    await context.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: context.resourceName(name),
        Key: 'pending',
      }),
    );

    await objects.delete(name);
    await objects.delete(name);

    expect(await objects.list()).not.toContain(name);
    await expectError(
      () => objects.open(name, { create: false }),
      NotFoundError,
    );
  });

  test('list names the buckets of the prefix only', async () => {
    const name = uniqueName('listed');
    await objects.open(name, { create: true });
    const other = new AwsObjects(
      new AwsContext(
        resolveAwsOptions({ endpoint: moto.endpoint, prefix: 'other-' }),
        silentLogger,
      ),
    );
    await other.open('unlisted', { create: true });

    const names = await objects.list();

    expect(names).toContain(name);
    expect(names).not.toContain('unlisted');
    expect(names).toEqual([...names].sort());
  });

  test('metadata S3 would not return as given is refused', async () => {
    const store = await freshBucket();

    const upper = await expectError(
      () => store.put('a', bytes('1'), { metadata: { Owner: 'ops' } }),
      ValidationError,
    );
    const accented = await expectError(
      () => store.put('a', bytes('1'), { metadata: { owner: 'opé' } }),
      ValidationError,
    );

    expect(upper.field).toBe('metadata.Owner');
    expect(upper.message).toContain('"Owner"');
    expect(accented.message).toContain('"opé"');
  });

  test('a bucket name S3 cannot take is refused', async () => {
    const long = new AwsObjects(
      new AwsContext(
        resolveAwsOptions({
          endpoint: moto.endpoint,
          prefix: 'a-prefix-of-twenty-c',
        }),
        silentLogger,
      ),
    );

    const error = await expectError(
      () => long.open(`b${'x'.repeat(39)}-`, { create: true }),
      ValidationError,
    );

    expect(error.field).toBe('bucket');
  });
});
