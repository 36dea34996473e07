/** `switchyard publish`: publishes messages on a channel. */
import type { Channel } from '../../core/channel.ts';
import type { BatchResult, PublishReceipt } from '../../core/message.ts';
import { defineCommand } from '../command.ts';
import { parseJson, readBytes, readText, stdinLines } from '../data.ts';
import { CommandError, UsageError } from '../errors.ts';
import { plural } from '../format.ts';
import type { Options } from '../options.ts';
import type { Output } from '../output.ts';
import { CODEC_OPTION, CODECS } from './shared.ts';

/** Messages sent per batch when publishing many. */
const BATCH_SIZE = 500;

/** `publish <channel> [data]`. */
export const publishCommand = defineCommand({
  name: 'publish',
  args: '<channel> [data]',
  summary: 'Publish a message (or many) on a channel and print the receipts',
  details: [
    'The data is a JSON value. --file reads one value from a file, or, when the',
    'file holds an array, publishes each element. "-" (as the data or the file)',
    'publishes each line of stdin as one JSON value. With --codec raw the data',
    'is published as bytes: the argument as text, or the whole file or stdin.',
    'The channel must exist (switchyard channels create <channel>).',
  ].join('\n'),
  options: {
    file: {
      type: 'string',
      value: 'FILE',
      description: 'read the data from FILE, - for stdin',
    },
    attr: {
      type: 'string',
      multiple: true,
      value: 'KEY=VALUE',
      description: 'set an attribute',
    },
    id: {
      type: 'string',
      value: 'ID',
      description: 'message id (one message)',
    },
    key: { type: 'string', value: 'KEY', description: 'ordering key' },
    codec: CODEC_OPTION,
  },
  async run({ args, options, output, client }) {
    const [name, data] = args as [string, string | undefined];
    const codec = options.choice('codec', CODECS, 'json');
    const source = sourceOf(data, options.string('file'));
    const id = options.string('id');
    if (id !== undefined && source === '-') {
      throw new UsageError('--id names one message, but stdin may hold many', {
        command: 'publish',
      });
    }

    const channel = (await client()).channel<unknown>(name, {
      codec,
      create: false,
    });
    const iterator = values(data, source, codec === 'raw');
    const first = await iterator.next();
    const second = first.done ? first : await iterator.next();
    if (!first.done && second.done) {
      const receipt = await channel.publish(first.value, {
        ...common(options),
        ...(id !== undefined && { id }),
      });
      printReceipt(output, name, receipt);
      return;
    }

    if (id !== undefined) {
      throw new UsageError('--id names one message, but the data holds many', {
        command: 'publish',
      });
    }
    const read = [first, second].flatMap((r) => (r.done ? [] : [r.value]));
    await publishMany(channel, read, iterator, options, output);
  },
});

type ValueIterator = AsyncIterator<unknown, undefined>;

/** `data`, or the file, or undefined; `-` for stdin. */
function sourceOf(
  data: string | undefined,
  file: string | undefined,
): string | undefined {
  if (data !== undefined && file !== undefined) {
    throw new UsageError(
      'give the data as an argument or with --file, not both',
      { command: 'publish' },
    );
  }
  if (data === undefined && file === undefined) {
    throw new UsageError(
      'publish needs data: a JSON value, --file FILE, or - for stdin',
      { command: 'publish' },
    );
  }
  return data === '-' ? '-' : file;
}

async function* values(
  data: string | undefined,
  source: string | undefined,
  raw: boolean,
): AsyncGenerator<unknown, undefined> {
  if (raw) {
    yield source === undefined
      ? new TextEncoder().encode(data)
      : await readBytes(source);
    return;
  }
  if (source === undefined) {
    yield parseJson(data!, 'the data argument');
    return;
  }
  if (source === '-') {
    for await (const { text, line } of stdinLines()) {
      yield parseJson(text, `stdin line ${line}`);
    }
    return;
  }
  const value = parseJson(await readText(source), source);
  if (Array.isArray(value)) yield* value;
  else yield value;
}

async function publishMany(
  channel: Channel<unknown>,
  first: unknown[],
  rest: ValueIterator,
  options: Options,
  output: Output,
): Promise<void> {
  const shared = common(options);
  let batch = [...first];
  let total = 0;
  const failures: string[] = [];
  const flush = async () => {
    const entries = batch.map((data) => ({ ...shared, data }));
    batch = [];
    total += entries.length;
    for (const result of await channel.publishBatch(entries)) {
      const failure = printResult(output, channel.name, result);
      if (failure !== undefined) failures.push(failure);
    }
  };

  for (;;) {
    const next = await rest.next();
    if (next.done) break;
    batch.push(next.value);
    if (batch.length >= BATCH_SIZE) await flush();
  }
  if (batch.length > 0) await flush();

  if (failures.length > 0) {
    throw new CommandError(
      `${failures.length} of ${plural(total, 'message')} were not published: ${failures[0]}`,
    );
  }
  output.note(`published ${plural(total, 'message')} on '${channel.name}'`);
}

function common(options: Options) {
  const attributes = options.pairs('attr');
  const orderingKey = options.string('key');
  return {
    ...(Object.keys(attributes).length > 0 && { attributes }),
    ...(orderingKey !== undefined && { orderingKey }),
  };
}

function printReceipt(
  output: Output,
  channel: string,
  receipt: PublishReceipt,
): void {
  if (output.json) {
    output.record({ channel, ...receipt });
    return;
  }
  const parts = [`sequence ${receipt.sequence}`];
  if (receipt.channelSequence !== undefined) {
    parts.push(`channel sequence ${receipt.channelSequence}`);
  }
  if (receipt.duplicate) parts.push('duplicate of an earlier publish');
  output.line(`published ${receipt.id} (${parts.join(', ')})`);
}

/** Prints one batch result; returns the failure's reason, if it failed. */
function printResult(
  output: Output,
  channel: string,
  result: BatchResult,
): string | undefined {
  if (result.ok) {
    const { ok: _, ...receipt } = result;
    printReceipt(output, channel, receipt);
    return undefined;
  }
  const reason = result.error.message;
  if (output.json) output.record({ channel, id: result.id, error: reason });
  else output.line(`failed ${result.id}: ${reason}`);
  return `${result.id}: ${reason}`;
}
