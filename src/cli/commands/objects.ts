/** `switchyard objects`: object buckets. */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../../core/errors.ts';
import type { ObjectInfo } from '../../core/objects.ts';
import { defineCommand } from '../command.ts';
import { fileError } from '../data.ts';
import { formatTime, plural } from '../format.ts';

/** `objects put <bucket> <name> <file|->`. */
export const objectsPutCommand = defineCommand({
  name: 'objects put',
  args: '<bucket> <name> <file|->',
  summary: 'Store a file (or stdin) as an object; creates the bucket if absent',
  options: {
    'content-type': {
      type: 'string',
      value: 'TYPE',
      description: 'media type (default application/octet-stream)',
    },
    meta: {
      type: 'string',
      multiple: true,
      value: 'KEY=VALUE',
      description: 'set a metadata entry',
    },
  },
  async run({ args, options, output, client }) {
    const [bucket, name, file] = args as [string, string, string];
    const body = file === '-' ? process.stdin : await openFile(file);
    const contentType = options.string('content-type');
    const metadata = options.pairs('meta');

    const info = await (await client()).objects(bucket).put(name, body, {
      ...(contentType !== undefined && { contentType }),
      ...(Object.keys(metadata).length > 0 && { metadata }),
    });

    if (output.json) output.record({ bucket, ...info });
    else
      output.line(
        `stored ${info.name} (${plural(info.size, 'byte')}, etag ${info.etag})`,
      );
  },
});

/** `objects get <bucket> <name> [file|-]`. */
export const objectsGetCommand = defineCommand({
  name: 'objects get',
  args: '<bucket> <name> [file|-]',
  summary: 'Write an object to a file, or to stdout (the default, -)',
  async run({ args, output, client }) {
    const [bucket, name, file = '-'] = args as [string, string, string?];
    const objects = (await client()).objects(bucket, { create: false });
    const stream = await objects.getStream(name);

    if (file === '-') {
      for await (const chunk of stream) await output.bytes(chunk);
      return;
    }
    await pipeline(stream, createWriteStream(file));
    const { size } = await stat(file);
    if (output.json) output.record({ bucket, name, file, size });
    else output.note(`wrote ${plural(size, 'byte')} to ${file}`);
  },
});

/** `objects ls <bucket> [prefix]`. */
export const objectsLsCommand = defineCommand({
  name: 'objects ls',
  args: '<bucket> [prefix]',
  summary: 'List the objects of a bucket, optionally under a prefix',
  async run({ args, output, client }) {
    const [bucket, prefix = ''] = args as [string, string?];
    const objects = (await client()).objects(bucket, { create: false });

    const rows: string[][] = [];
    for await (const info of objects.list(prefix)) {
      if (output.json) output.record({ bucket, ...info });
      else rows.push(row(info));
    }
    if (!output.json) {
      output.table(
        ['NAME', 'BYTES', 'TYPE', 'UPDATED', 'ETAG'],
        rows,
        'no objects',
      );
    }
  },
});

/** `objects rm <bucket> <name>`. */
export const objectsRmCommand = defineCommand({
  name: 'objects rm',
  args: '<bucket> <name>',
  summary: 'Delete an object',
  async run({ args, output, client }) {
    const [bucket, name] = args as [string, string];
    const objects = (await client()).objects(bucket, { create: false });
    if (!(await objects.delete(name))) {
      throw new NotFoundError('object', name, {
        message: `object '${name}' does not exist in bucket '${bucket}'`,
        details: { bucket, key: name },
      });
    }

    if (output.json) output.record({ bucket, name, deleted: true });
    else output.line(`deleted ${name}`);
  },
});

/** A readable stream of `file`, opened before anything is written. */
async function openFile(file: string): Promise<Readable> {
  try {
    const info = await stat(file);
    if (info.isDirectory()) {
      throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    }
  } catch (error) {
    throw fileError(file, error);
  }
  return createReadStream(file);
}

function row(info: ObjectInfo): string[] {
  return [
    info.name,
    String(info.size),
    info.contentType,
    formatTime(info.updatedAt),
    info.etag,
  ];
}
