/** `switchyard kv`: key-value buckets. */
import { NotFoundError } from '../../core/errors.ts';
import type { KvEntry, KvEvent } from '../../core/kv.ts';
import type { Switchyard } from '../../core/switchyard.ts';
import { defineCommand } from '../command.ts';
import { parseJson, readBytes, readText } from '../data.ts';
import { UsageError } from '../errors.ts';
import { formatData, formatTime, plural } from '../format.ts';
import type { Options } from '../options.ts';
import type { Output } from '../output.ts';
import { CODEC_OPTION, CODECS } from './shared.ts';

const REVISION_OPTION = {
  type: 'string',
  value: 'R',
  description: 'only if the key is at revision R (compare-and-swap)',
} as const;

/** `kv get <bucket> <key>`. */
export const kvGetCommand = defineCommand({
  name: 'kv get',
  args: '<bucket> <key>',
  summary: 'Print the value of a key with its revision',
  options: { codec: CODEC_OPTION },
  async run({ args, options, output, client }) {
    const [bucket, key] = args as [string, string];
    const entry = await bucketOf(await client(), bucket, options, false).get(
      key,
    );
    if (entry === undefined) {
      throw new NotFoundError('key', key, {
        message: `key '${key}' does not exist in bucket '${bucket}'`,
        details: { bucket, key },
      });
    }
    printEntry(output, bucket, entry);
  },
});

/** `kv put <bucket> <key> <value>`. */
export const kvPutCommand = defineCommand({
  name: 'kv put',
  args: '<bucket> <key> <value>',
  summary: 'Write a JSON value (- reads it from stdin); prints the revision',
  details:
    'Creates the bucket if absent. With --revision, writes only if the key is at\nthat revision; with --if-absent, only if the key does not exist.',
  options: {
    revision: REVISION_OPTION,
    'if-absent': {
      type: 'boolean',
      description: 'only if the key does not exist',
    },
    codec: CODEC_OPTION,
  },
  async run({ args, options, output, client }) {
    const [bucket, key, text] = args as [string, string, string];
    const revision = options.string('revision');
    const ifAbsent = options.flag('if-absent');
    if (revision !== undefined && ifAbsent) {
      throw new UsageError('give --revision or --if-absent, not both', {
        command: 'kv put',
      });
    }
    const value = await readValue(text, options);

    const kv = bucketOf(await client(), bucket, options, true);
    const written =
      revision !== undefined
        ? await kv.update(key, value, revision)
        : ifAbsent
          ? await kv.create(key, value)
          : await kv.put(key, value);

    if (output.json) output.record({ bucket, key, revision: written });
    else output.line(`${key} is at revision ${written}`);
  },
});

/** `kv del <bucket> <key>`. */
export const kvDelCommand = defineCommand({
  name: 'kv del',
  args: '<bucket> <key>',
  summary: 'Delete a key',
  options: { revision: REVISION_OPTION },
  async run({ args, options, output, client }) {
    const [bucket, key] = args as [string, string];
    const revision = options.string('revision');
    const kv = bucketOf(await client(), bucket, options, false);
    await kv.delete(key, revision === undefined ? {} : { revision });

    if (output.json) output.record({ bucket, key, deleted: true });
    else output.line(`deleted ${key}`);
  },
});

/** `kv ls <bucket> [prefix]`. */
export const kvLsCommand = defineCommand({
  name: 'kv ls',
  args: '<bucket> [prefix]',
  summary: 'List the keys of a bucket, optionally under a prefix',
  async run({ args, output, client }) {
    const [bucket, prefix = ''] = args as [string, string?];
    const kv = (await client()).kv<Uint8Array>(bucket, {
      codec: 'raw',
      create: false,
    });

    const rows: string[][] = [];
    for await (const entry of kv.entries(prefix)) {
      const size = entry.value.byteLength;
      if (output.json) {
        const { key, revision, updatedAt } = entry;
        output.record({ bucket, key, revision, updatedAt, size });
      } else {
        rows.push([
          entry.key,
          entry.revision,
          formatTime(entry.updatedAt),
          String(size),
        ]);
      }
    }
    if (!output.json) {
      output.table(['KEY', 'REVISION', 'UPDATED', 'BYTES'], rows, 'no keys');
    }
  },
});

/** `kv watch <bucket> [prefix]`. */
export const kvWatchCommand = defineCommand({
  name: 'kv watch',
  args: '<bucket> [prefix]',
  summary: 'Print the entries, then every put and delete until Ctrl-C',
  options: { codec: CODEC_OPTION },
  async run({ args, options, output, signal, client }) {
    const [bucket, prefix = ''] = args as [string, string?];
    const kv = bucketOf(await client(), bucket, options, false);

    try {
      for await (const event of kv.watch({ prefix, signal })) {
        printEvent(output, bucket, event);
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  },
});

function bucketOf(
  sy: Switchyard,
  bucket: string,
  options: Options,
  create: boolean,
) {
  const codec = options.choice('codec', CODECS, 'json');
  return sy.kv<unknown>(bucket, { codec, create });
}

async function readValue(text: string, options: Options): Promise<unknown> {
  const raw = options.string('codec') === 'raw';
  if (text === '-') {
    return raw ? readBytes('-') : parseJson(await readText('-'), 'stdin');
  }
  return raw ? new TextEncoder().encode(text) : parseJson(text, 'the value');
}

function printEntry(
  output: Output,
  bucket: string,
  entry: KvEntry<unknown>,
): void {
  if (output.json) {
    output.record({ bucket, ...entry });
    return;
  }
  output.line(`key       ${entry.key}`);
  output.line(`revision  ${entry.revision}`);
  output.line(`updated   ${formatTime(entry.updatedAt)}`);
  output.line(`value     ${formatData(entry.value)}`);
}

function printEvent(
  output: Output,
  bucket: string,
  event: KvEvent<unknown>,
): void {
  if (output.json) {
    output.record({ bucket, ...event });
    return;
  }
  if (event.type === 'snapshot') {
    for (const entry of event.entries) printChange(output, 'entry', entry);
    output.note(
      `${plural(event.entries.length, 'entry', 'entries')}; watching`,
    );
  } else if (event.type === 'put') {
    printChange(output, 'put', event.entry);
  } else {
    output.line(`delete  ${event.key}`);
  }
}

function printChange(
  output: Output,
  label: 'entry' | 'put',
  entry: KvEntry<unknown>,
): void {
  output.line(
    `${label.padEnd(6)}  ${entry.key}  revision ${entry.revision}  ${formatData(entry.value)}`,
  );
}
